/**
 * SecretFile through the real dynamic-provider server, on real files: the engine's sequence
 * Configure → Check → Diff → Create → Read → Update → Delete, old outputs as olds, secrets stripped.
 * Loads the tsc-built provider from dist/ (run `npx tsc -p tsconfig.json` first; `npm test` does).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../provider/age";
import { decrypt, setValues } from "../../provider/sops";
import type { ProviderClient as ProviderClientT } from "../harness/engine/provider-client";
import { distRequire, ProviderClient, root, serializeProvider } from "../from-dist";

const { secretFileProvider } = distRequire("./dist/sdk/secret-file.js") as typeof import("../../sdk/secret-file");

type Props = Record<string, unknown>;
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const alice = generateX25519();
const bob = generateX25519();
const vps = generateX25519();
const ids = (k: { identity: string }) => parseIdentities(k.identity, "test");
const urn = (n: string) => `urn:pulumi:test::keyfleet::pulumi-nodejs:dynamic:Resource::${n}`;

describe("SecretFile protocol (real files)", () => {
  let client: ProviderClientT;
  let providerText: string;
  let dir: string;
  let audit: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-sf-"));
    audit = join(dir, ".keyfleet/audit.jsonl");
    providerText = (await serializeProvider(secretFileProvider, "secret-file")).text;
    // the deployer holds alice's identity only
    client = await ProviderClient.start({
      cwd: root,
      env: { KEYFLEET_ROOT: root, SOPS_AGE_KEY: alice.identity, SOPS_AGE_KEY_FILE: undefined, HOME: dir },
    });
    await client.configure();
  });
  afterAll(async () => {
    await client?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const inputs = (file: string, rs: [string, string][], values?: Record<string, string>, extra: Props = {}): Props => ({
    __provider: providerText,
    path: join(dir, file),
    recipients: rs.map(([name, recipient]) => ({ name, recipient })),
    recipientLabels: rs.map(([name]) => name),
    ...(values ? { values } : {}),
    auditLog: audit,
    ...extra,
  });
  async function up(
    name: string,
    news: Props,
    state?: { id: string; props: Props },
  ): Promise<{ id: string; props: Props; diff?: string }> {
    const checked = await client.check({ urn: urn(name), olds: state?.props ?? {}, news });
    expect(checked.failures).toEqual([]);
    if (!state) {
      const c = await client.create({ urn: urn(name), properties: checked.inputs });
      return { id: c.id, props: c.properties };
    }
    const d = await client.diff({ id: state.id, urn: urn(name), olds: state.props, news: checked.inputs });
    if (d.changes === "none") return { ...state, diff: "none" };
    const u = await client.update({ id: state.id, urn: urn(name), olds: state.props, news: checked.inputs });
    return { id: state.id, props: u.properties, diff: d.changes };
  }
  const auditLines = () =>
    readFileSync(audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Props);
  const text = (file: string) => readFileSync(join(dir, file), "utf8");

  it("create: writes a sops file the recipients decrypt; outputs hold names and keyed digests only", async () => {
    const s = await up(
      "a",
      inputs("a.yaml", [["alice", alice.recipient]], { "db.password": "hunter2", token: "t0k3n" }),
    );
    const d = await decrypt(text("a.yaml"), { format: "yaml", identities: ids(alice) });
    expect(Object.fromEntries(d.leaves.map((l) => [l.path.join("."), l.value]))).toEqual({
      "db.password": "hunter2",
      token: "t0k3n",
    });
    expect(s.props["keyNames"]).toEqual(["db.password", "token"]);
    expect(s.props["fileSha256"]).toBe(createHash("sha256").update(text("a.yaml")).digest("hex"));
    expect(JSON.stringify(s.props)).not.toMatch(/hunter2|t0k3n/);
    expect(auditLines().at(-1)).toMatchObject({ operation: "create", keysChanged: ["db.password", "token"] });
  });

  it("add a recipient: only the age lines change and the new key decrypts", async () => {
    const s0 = await up("b", inputs("b.yaml", [["alice", alice.recipient]], { pw: "one" }));
    const before = text("b.yaml");
    const s1 = await up(
      "b",
      inputs(
        "b.yaml",
        [
          ["alice", alice.recipient],
          ["vps-3", vps.recipient],
        ],
        { pw: "one" },
      ),
      s0,
    );
    expect(s1.diff).toBe("some");
    const after = text("b.yaml");
    const removed = before.split("\n").filter((l) => !after.split("\n").includes(l));
    expect(removed).toEqual([]); // nothing removed: values, mac, lastmodified, alice's entry unchanged
    const added = after.split("\n").filter((l) => !before.split("\n").includes(l));
    expect(added.length).toBeGreaterThan(0);
    expect(added.join("\n")).toContain(vps.recipient);
    expect(added.join("\n")).not.toMatch(/ENC\[|mac:|lastmodified/);
    const d = await decrypt(after, { format: "yaml", identities: ids(vps) });
    expect(d.leaves[0]?.value).toBe("one");
    expect(auditLines().at(-1)).toMatchObject({ operation: "add-recipients" });
  });

  it("remove a recipient: data key rotated, removed key fails, exposure in outputs and audit log", async () => {
    const s0 = await up(
      "c",
      inputs(
        "c.yaml",
        [
          ["alice", alice.recipient],
          ["bob", bob.recipient],
        ],
        { "db.password": "s3cr3t-c", api: "k3y-c" },
      ),
    );
    const oldKey = (await decrypt(text("c.yaml"), { format: "yaml", identities: ids(bob) })).dataKey;
    const s1 = await up(
      "c",
      inputs("c.yaml", [["alice", alice.recipient]], { "db.password": "s3cr3t-c", api: "k3y-c" }),
      s0,
    );
    const t = text("c.yaml");
    await expect(decrypt(t, { format: "yaml", identities: ids(bob) })).rejects.toThrow();
    const newKey = (await decrypt(t, { format: "yaml", identities: ids(alice) })).dataKey;
    expect(Buffer.from(newKey).equals(Buffer.from(oldKey))).toBe(false);
    const exposure = s1.props["exposure"] as { recipient: string; keys: string[] }[];
    expect(exposure).toHaveLength(1);
    expect(exposure[0]?.keys).toEqual(["api", "db.password"]);
    const last = auditLines().at(-1) as Props;
    expect(last["operation"]).toBe("rotate");
    expect(JSON.stringify(last["exposure"])).toContain("db.password");
    expect(JSON.stringify(last["recipientsRemoved"])).toContain(bob.recipient);
    expect(readFileSync(audit, "utf8")).not.toMatch(/s3cr3t-c|k3y-c/);
    expect(exposure[0]?.recipient).toBe("bob");
  });

  it("change a value: only that ENC line changes", async () => {
    const s0 = await up("d", inputs("d.yaml", [["alice", alice.recipient]], { a: "1", b: "2", c: "3" }));
    const before = text("d.yaml").split("\n");
    const s1 = await up("d", inputs("d.yaml", [["alice", alice.recipient]], { a: "1", b: "20", c: "3" }), s0);
    expect(s1.diff).toBe("some");
    const after = text("d.yaml").split("\n");
    const changed = after.filter((l) => !before.includes(l));
    expect(
      changed.filter((l) => l.includes("ENC[") && !l.trim().startsWith("mac:")).map((l) => l.trim().split(":")[0]),
    ).toEqual(["b"]);
    expect(changed.every((l) => /^b:|mac:|lastmodified:/.test(l.trim()))).toBe(true);
    expect(s1.props["valueDigests"]).not.toEqual(s0.props["valueDigests"]);
    expect(auditLines().at(-1)).toMatchObject({ operation: "set-values", keysChanged: ["b"] });
    // unchanged inputs → no diff
    expect((await up("d", inputs("d.yaml", [["alice", alice.recipient]], { a: "1", b: "20", c: "3" }), s1)).diff).toBe(
      "none",
    );
  });

  it("an outside edit (as `keyfleet set` does) is detected by Read and Diff, and update restores the managed value", async () => {
    const ins = inputs("e.yaml", [["alice", alice.recipient]], { pw: "mine" });
    const s0 = await up("e", ins);
    const edited = await setValues(text("e.yaml"), {
      format: "yaml",
      identities: ids(alice),
      changes: [{ path: ["pw"], value: "theirs" }],
    });
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "e.yaml"), edited);
    const r = await client.read({ id: s0.id, urn: urn("e"), properties: s0.props });
    expect(r.properties["fileSha256"]).not.toBe(s0.props["fileSha256"]);
    expect(r.properties["valueDigests"]).not.toEqual(s0.props["valueDigests"]);
    const checked = await client.check({ urn: urn("e"), olds: r.properties, news: ins });
    expect((await client.diff({ id: s0.id, urn: urn("e"), olds: r.properties, news: checked.inputs })).changes).toBe(
      "some",
    );
    // without refresh the file digest alone shows the edit
    expect((await client.diff({ id: s0.id, urn: urn("e"), olds: s0.props, news: checked.inputs })).changes).toBe(
      "some",
    );
    await client.update({ id: s0.id, urn: urn("e"), olds: r.properties, news: checked.inputs });
    expect((await decrypt(text("e.yaml"), { format: "yaml", identities: ids(alice) })).leaves[0]?.value).toBe("mine");
  });

  it("delete keeps the file by default and removes it with deleteFileOnDestroy", async () => {
    const kept = await up("f", inputs("f.yaml", [["alice", alice.recipient]]));
    await client.delete({ id: kept.id, urn: urn("f"), properties: kept.props });
    expect(existsSync(join(dir, "f.yaml"))).toBe(true);
    const gone = await up(
      "g",
      inputs("g.yaml", [["alice", alice.recipient]], undefined, { deleteFileOnDestroy: true }),
    );
    await client.delete({ id: gone.id, urn: urn("g"), properties: gone.props });
    expect(existsSync(join(dir, "g.yaml"))).toBe(false);
    expect(auditLines().at(-1)).toMatchObject({ operation: "delete" });
  });

  it("preview = Check + Diff with unknowns: update planned, path change moves (an update), nothing written", async () => {
    const s0 = await up("h", inputs("h.yaml", [["alice", alice.recipient]], { pw: "x" }));
    const before = text("h.yaml");
    const auditBefore = readFileSync(audit, "utf8");
    const news = inputs("h.yaml", [["alice", alice.recipient]], { pw: "x" });
    news["recipients"] = [
      { name: "alice", recipient: alice.recipient },
      { name: "vps-9", recipient: UNKNOWN },
    ];
    const c = await client.check({ urn: urn("h"), olds: s0.props, news });
    expect(c.failures).toEqual([]);
    expect((await client.diff({ id: s0.id, urn: urn("h"), olds: s0.props, news: c.inputs })).changes).toBe("some");
    const moved = await client.check({
      urn: urn("h"),
      olds: s0.props,
      news: inputs("h2.yaml", [["alice", alice.recipient]]),
    });
    // issue 10 §2: a path change is an update that moves the file, never a replacement
    expect(await client.diff({ id: s0.id, urn: urn("h"), olds: s0.props, news: moved.inputs })).toMatchObject({
      changes: "some",
      replaces: [],
    });
    expect(moved.inputs["move"]).toMatch(/h\.yaml moves to .*h2\.yaml with all 1 keys/);
    expect(text("h.yaml")).toBe(before);
    expect(readFileSync(audit, "utf8")).toBe(auditBefore);
    expect(existsSync(join(dir, "h2.yaml"))).toBe(false);
  });

  it("adopts an existing file and applies recipients and values as an update", async () => {
    await up(
      "i0",
      inputs(
        "i.json",
        [
          ["alice", alice.recipient],
          ["bob", bob.recipient],
        ],
        { keep: "k" },
      ),
    );
    const s = await up("i", inputs("i.json", [["alice", alice.recipient]], { keep: "k", extra: "e" }));
    const d = await decrypt(text("i.json"), { format: "json", identities: ids(alice) });
    expect(d.leaves.map((l) => l.path.join("."))).toEqual(["keep", "extra"]);
    await expect(decrypt(text("i.json"), { format: "json", identities: ids(bob) })).rejects.toThrow();
    expect((s.props["exposure"] as unknown[]).length).toBe(1);
  });

  it("brute force: a 4-digit PIN cannot be recovered from outputs by unkeyed hashing", async () => {
    const pin = "4821";
    const s = await up("j", inputs("j.yaml", [["alice", alice.recipient]], { pin }));
    const state = JSON.stringify(s.props);
    expect(state).not.toContain(pin);
    const digests = new Set(Object.values(s.props["valueDigests"] as Record<string, string>));
    expect(digests.size).toBe(1);
    const hits: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const guess = i.toString().padStart(4, "0");
      const candidates = [
        createHash("sha256").update(guess).digest("hex"),
        createHash("sha256")
          .update("pin" + guess)
          .digest("hex"),
        createHash("sha256")
          .update("pin:" + guess)
          .digest("hex"),
        createHmac("sha256", "").update(guess).digest("hex"),
        createHmac("sha256", "pin").update(guess).digest("hex"),
        createHmac("sha256", String(s.props["fileSha256"])).update(guess).digest("hex"),
      ];
      if (candidates.some((c) => digests.has(c))) hits.push(guess);
    }
    expect(hits).toEqual([]);
  });
});
