/**
 * HostEnv pure parts: check table, key selection / rename / prefix, merge, diff (no network),
 * digest selection in the SDK, keyed content digest and stderr scrubbing.
 */
import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { check, normalise, type HostEnvInputs } from "../../../provider/resources/host-env-inputs";
import {
  contentDigest,
  digestKeyOf,
  leafString,
  mergeEntries,
  selectEntries,
} from "../../../provider/resources/host-env-content";
import { parseGoTime } from "../../../provider/sops/goformat";
import { markerPath, restartArgv, scrubbedTail } from "../../../provider/resources/host-env-remote";
import { diff, type HostEnvOutputs } from "../../../provider/resources/host-env";
import { selectedDigests } from "../../../sdk/host-env";
import { UNKNOWN } from "../../../provider/resources/inputs";

const HOSTKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const good = (extra: Record<string, unknown> = {}) => ({
  connection: { host: "10.0.0.1", user: "deploy", privateKey: "KEY", hostKey: HOSTKEY },
  path: "/etc/app/app.env",
  sources: [{ path: "secrets/app.yaml", keys: ["db.password"], rename: { "db.password": "DB_PASSWORD" } }],
  ...extra,
});

describe("check", () => {
  it("accepts a good input", async () => {
    expect((await check({}, good())).failures).toEqual([]);
  });
  const rows: { name: string; input: Record<string, unknown>; property: string; reason: RegExp }[] = [
    { name: "relative path", input: good({ path: "app.env" }), property: "path", reason: /absolute/ },
    {
      name: "no host key",
      input: good({ connection: { host: "h", user: "u", privateKey: "k" } }),
      property: "connection",
      reason: /hostKey is required/,
    },
    {
      name: "rsa host key",
      input: good({ connection: { host: "h", user: "u", privateKey: "k", hostKey: "ssh-rsa AAAAB3NzaC1yc2E=" } }),
      property: "connection",
      reason: /ssh-ed25519/,
    },
    {
      name: "no auth",
      input: good({ connection: { host: "h", user: "u", hostKey: HOSTKEY } }),
      property: "connection",
      reason: /privateKey or agent/,
    },
    {
      name: "bad port",
      input: good({ connection: { host: "h", port: 70000, user: "u", agent: "/s", hostKey: HOSTKEY } }),
      property: "connection",
      reason: /port/,
    },
    {
      name: "dotted key without rename",
      input: good({ sources: [{ path: "a.yaml", keys: ["db.password"] }] }),
      property: "sources",
      reason: /db\.password.*rename/,
    },
    {
      name: "rename of unselected key",
      input: good({ sources: [{ path: "a.yaml", keys: ["A"], rename: { B: "C" } }] }),
      property: "sources",
      reason: /not select/,
    },
    {
      name: "bad rename target",
      input: good({ sources: [{ path: "a.yaml", keys: ["A"], rename: { A: "1X" } }] }),
      property: "sources",
      reason: /valid env name/,
    },
    {
      name: "bad prefix",
      input: good({ sources: [{ path: "a.yaml", prefix: "9-" }] }),
      property: "sources",
      reason: /prefix/,
    },
    {
      name: "empty keys",
      input: good({ sources: [{ path: "a.yaml", keys: [] }] }),
      property: "sources",
      reason: /non-empty/,
    },
    {
      name: "bad env name",
      input: good({ env: { "A-B": "x" } }),
      property: "env",
      reason: /not a valid variable name/,
    },
    { name: "bad format", input: good({ format: "toml" }), property: "format", reason: /dotenv/ },
    { name: "numeric mode", input: good({ mode: 384 }), property: "mode", reason: /octal string/ },
    { name: "bad owner", input: good({ owner: "a b" }), property: "owner", reason: /user or group/ },
    {
      name: "both restarts",
      input: good({ restartUnits: ["a.service"], onChange: "true" }),
      property: "onChange",
      reason: /not both/,
    },
    {
      name: "unit with option",
      input: good({ restartUnits: ["--now"] }),
      property: "restartUnits",
      reason: /unit names/,
    },
  ];
  for (const r of rows) {
    it(`rejects ${r.name}`, async () => {
      const f = (await check({}, r.input)).failures ?? [];
      expect(
        f.some((x) => x.property === r.property && r.reason.test(x.reason)),
        JSON.stringify(f),
      ).toBe(true);
    });
  }
  it("skips unknown values", async () => {
    const f = (await check({}, { connection: UNKNOWN, path: UNKNOWN, sources: [UNKNOWN], mode: UNKNOWN })).failures;
    expect(f).toEqual([]);
  });
  it("never echoes the private key", async () => {
    const f =
      (await check({}, good({ connection: { host: "h h", user: "", privateKey: "SECRETKEY", hostKey: "bad" } })))
        .failures ?? [];
    expect(JSON.stringify(f)).not.toContain("SECRETKEY");
  });
});

describe("selectEntries and mergeEntries", () => {
  const leaves = new Map([
    ["A", "1"],
    ["db.password", "pw"],
    ["db.user", "u"],
    ["B", "2"],
  ]);
  const depth = new Map([
    ["A", 1],
    ["db.password", 2],
    ["db.user", 2],
    ["B", 1],
  ]);
  it("default: top-level scalars only, in file order", () => {
    expect(selectEntries("f", leaves, depth, {})).toEqual([
      ["A", "1"],
      ["B", "2"],
    ]);
  });
  it("explicit keys with rename then prefix", () => {
    expect(
      selectEntries("f", leaves, depth, {
        keys: ["db.password", "B"],
        rename: { "db.password": "DB_PASSWORD" },
        prefix: "APP_",
      }),
    ).toEqual([
      ["APP_DB_PASSWORD", "pw"],
      ["APP_B", "2"],
    ]);
  });
  it("errors name the file and key, never a value", () => {
    expect(() => selectEntries("f.yaml", leaves, depth, { keys: ["nope"] })).toThrow(/key "nope" not found in f\.yaml/);
    expect(() => selectEntries("f.yaml", leaves, depth, { keys: ["db.user"] })).toThrow(/not a valid variable name/);
    try {
      selectEntries("f.yaml", leaves, depth, { keys: ["db.user"] });
    } catch (e) {
      expect((e as Error).message).not.toContain('"u"');
    }
    expect(() => selectEntries("f.yaml", leaves, depth, { keys: ["A"], rename: { B: "X" } })).toThrow(/not selected/);
  });
  it("a time value is written as sops exec-env gives it (offset and fraction kept), not as toISOString", () => {
    expect(leafString(parseGoTime("2024-01-02T03:04:05.5+01:00")!)).toBe("2024-01-02T03:04:05.5+01:00");
    expect(leafString(parseGoTime("2024-01-02")!)).toBe("2024-01-02T00:00:00Z");
    expect(leafString(new Uint8Array([104, 105]))).toBe("hi");
    expect(leafString(1.5)).toBe("1.5");
  });
  it("merge: sources first, env sorted, duplicates refused naming both", () => {
    expect(mergeEntries([{ file: "a", entries: [["X", "1"]] }], { Z: "z", Y: "y" })).toEqual([
      ["X", "1"],
      ["Y", "y"],
      ["Z", "z"],
    ]);
    expect(() =>
      mergeEntries(
        [
          { file: "a", entries: [["X", "1"]] },
          { file: "b", entries: [["X", "2"]] },
        ],
        {},
      ),
    ).toThrow(/X is set by both a and b/);
  });
});

describe("keyed content digest", () => {
  it("depends on the data keys and the path, not only on the content", () => {
    const k1 = digestKeyOf([randomBytes(32)]);
    const k2 = digestKeyOf([randomBytes(32)]);
    const sha = "a".repeat(64);
    expect(contentDigest(k1, "/p", sha)).not.toBe(contentDigest(k2, "/p", sha));
    expect(contentDigest(k1, "/p", sha)).not.toBe(contentDigest(k1, "/q", sha));
    expect(contentDigest(k1, "/p", sha)).toBe(contentDigest(k1, "/p", sha));
  });
});

describe("SDK digest selection (only the selected keys' digests reach a HostEnv)", () => {
  const digests = { A: "da", B: "db", C: "dc" };
  it("a change of C does not change a HostEnv selecting A and B", () => {
    const before = selectedDigests(["A", "B"], ["A", "B", "C"], digests, "sha1", "yaml");
    const after = selectedDigests(["A", "B"], ["A", "B", "C"], { ...digests, C: "dc2" }, "sha2", "yaml");
    expect(after).toEqual(before);
    expect(selectedDigests(["C"], ["A", "B", "C"], { ...digests, C: "dc2" }, "sha2", "yaml")).toEqual({ C: "dc2" });
  });
  it("a selected key without a digest falls back to the file digest, per key", () => {
    expect(selectedDigests(["A", "X"], ["A", "X"], digests, "sha1", "yaml")).toEqual({ A: "da", X: "file:sha1" });
    expect(selectedDigests(["A", "X"], ["A", "X"], digests, "sha2", "yaml")).toEqual({ A: "da", X: "file:sha2" });
    expect(selectedDigests(undefined, ["A", "db.pw"], { A: "da" }, "sha1", "yaml")).toEqual({ A: "da" });
  });
  it("uses the per-key digest whenever present: a file change alone changes nothing", () => {
    const all = { A: "da", B: "db", "db.pw": "dp" };
    expect(selectedDigests(["B", "db.pw"], ["A", "B", "db.pw"], all, "sha1", "yaml")).toEqual(
      selectedDigests(["B", "db.pw"], ["A", "B", "db.pw"], { ...all, A: "da2" }, "sha2", "yaml"),
    );
    expect(selectedDigests(undefined, ["A", "B", "db.pw"], all, "sha1", "yaml")).toEqual({ A: "da", B: "db" });
    expect(selectedDigests(undefined, ["A", "db.pw"], all, "sha1", "dotenv")).toEqual({ A: "da", "db.pw": "dp" });
  });
  it("inherited names are not digests, and __proto__ is an ordinary key", () => {
    expect(selectedDigests(["constructor", "__proto__"], [], {}, "s", "yaml")).toEqual(
      Object.fromEntries([
        ["__proto__", "file:s"],
        ["constructor", "file:s"],
      ]),
    );
    expect(Object.keys(selectedDigests(["__proto__"], [], {}, "s", "yaml"))).toEqual(["__proto__"]);
  });
});

describe("diff (no network)", () => {
  const inputs = (extra: Record<string, unknown> = {}) =>
    ({
      ...good({ sources: [{ path: "a.yaml", keys: ["A"], secretFile: true }], sourceDigests: [{ A: "d1" }] }),
      ...extra,
    }) as unknown as HostEnvInputs;
  const olds = (): HostEnvOutputs => {
    const n = normalise(inputs());
    return {
      ...n,
      host: n.connection.host,
      port: n.connection.port,
      user: n.connection.user,
      owner: "root",
      group: "root",
      sourceFiles: [""],
      keyNames: ["A"],
      hostFingerprint: "",
      contentDigest: "x",
      writtenDigest: "x",
      restarted: false,
      drift: [],
    };
  };
  const d = (news: Record<string, unknown>, o = olds()) => diff("id", o, news);
  it("unchanged → none", async () => expect((await d(inputs() as never)).changes).toBe(false));
  it("selected digest changed → update", async () =>
    expect(await d({ ...inputs(), sourceDigests: [{ A: "d2" }] })).toMatchObject({ changes: true, replaces: [] }));
  it("host / port / path → replace", async () => {
    expect((await d({ ...inputs(), path: "/etc/x.env" })).replaces).toEqual(["path"]);
    expect((await d({ ...inputs(), connection: { ...good().connection, port: 2222 } })).replaces).toEqual([
      "connection",
    ]);
  });
  it("a replacement deletes the old file first (old and new name may be the same file); an update never does", async () => {
    // create-then-delete would remove the file just written when e.g. an IP becomes the host's DNS name
    expect(await d({ ...inputs(), connection: { ...good().connection, host: "web-1.example.com" } })).toMatchObject({
      replaces: ["connection"],
      deleteBeforeReplace: true,
    });
    expect(await d({ ...inputs(), path: "/etc/app/./x.env" })).toMatchObject({
      replaces: ["path"],
      deleteBeforeReplace: true,
    });
    expect(await d({ ...inputs(), mode: "0640" })).toMatchObject({ replaces: [], deleteBeforeReplace: false });
  });
  it("mode, drift and unknowns → update", async () => {
    expect((await d({ ...inputs(), mode: "0640" })).changes).toBe(true);
    expect((await d(inputs() as never, { ...olds(), drift: ["missing"] })).changes).toBe(true);
    expect((await d({ ...inputs(), sourceDigests: [UNKNOWN] })).changes).toBe(true);
  });
  it("owner compared only when set", async () => {
    expect((await d({ ...inputs(), owner: "app" })).changes).toBe(true);
    expect((await d(inputs() as never, { ...olds(), owner: "someone" })).changes).toBe(false);
  });
});

describe("restart helpers", () => {
  it("argv, marker path", () => {
    expect(restartArgv(["a.service", "b"], "")).toEqual(["systemctl", "restart", "--", "a.service", "b"]);
    expect(restartArgv([], "docker compose up -d")).toEqual(["sh", "-c", "docker compose up -d"]);
    expect(restartArgv([], "")).toBeUndefined();
    expect(markerPath("/etc/app/app.env")).toBe("/etc/app/.app.env.kfrestart");
  });
  it("scrubs lines sharing a run with a value or the rendered file", () => {
    const out = scrubbedTail(Buffer.from("starting\nDB_PASSWORD='hunter2-long'\nerror: unit failed\n"), [
      "hunter2-long",
      "DB_PASSWORD='hunter2-long'\n",
    ]);
    expect(out).not.toContain("hunter2");
    expect(out).toContain("unit failed");
    expect(out).toContain("line withheld");
  });
});
