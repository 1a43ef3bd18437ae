/**
 * HostEnv through the real dynamic-provider server (tsc-built provider from dist/) against 3 real
 * OpenSSH sshd on 127.0.0.1: create / update / delete with content, mode and owner checked on
 * disk, least privilege, a wrong host key, drift, restarts, and a leak check over every response,
 * the provider server's output, the deployer's temp files and the sshd logs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseRecipient } from "../../provider/age";
import { encrypt } from "../../provider/sops";
import { parseEnv, type EnvFormat } from "../../provider/render";
import { distRequire, distSshd, ProviderClient, root, serializeProvider } from "../from-dist";

const { startHosts, stopHosts } = distSshd();
const { hostEnvProvider } = distRequire("./dist/sdk/host-env.js") as typeof import("../../sdk/host-env");

type Props = Record<string, unknown>;
type Host = Awaited<ReturnType<typeof startHosts>>[number];
const urn = (n: string) => `urn:pulumi:test::keyfleet::pulumi-nodejs:dynamic:Resource::${n}`;
const tag = randomBytes(6).toString("hex");
// values with every awkward character; each carries a unique tag for the leak search
const V = {
  db: `pw-${tag}-a "quoted" 'single' $HOME #hash \\back`,
  api: `tok-${tag}-line1\nline2-${tag} ünïcødé ✓`,
  other: `other-${tag}-never-on-host-1`,
  dot1: `dot-${tag}-  spaced  `,
  dot2: `dot2-${tag}-x=y`,
};
const SECRET_VALUES = Object.values(V);
const alice = generateX25519();

function keygenFingerprint(pubFile: string): string {
  return execFileSync("ssh-keygen", ["-lf", pubFile], { encoding: "utf8" }).split(" ")[1] as string;
}

describe("HostEnv on 3 real sshd hosts", () => {
  let hosts: Host[] = [];
  let client: import("../harness/engine/provider-client").ProviderClient;
  let providerText: string;
  let dir: string;
  const started = Date.now();
  const responses: unknown[] = [];

  beforeAll(async () => {
    hosts = await startHosts(3);
    dir = mkdtempSync(join(tmpdir(), "kf-hostenv-"));
    const r = [parseRecipient(alice.recipient)];
    writeFileSync(
      join(dir, "app.yaml"),
      await encrypt(
        `db:\n  password: ${JSON.stringify(V.db)}\napi_token: ${JSON.stringify(V.api)}\nother: ${JSON.stringify(V.other)}\n`,
        { format: "yaml", recipients: r },
      ),
    );
    writeFileSync(
      join(dir, "svc.env"),
      await encrypt(`DOT_ONE=${V.dot1}\nDOT_TWO=${V.dot2}\n`, { format: "dotenv", recipients: r }),
    );
    providerText = (await serializeProvider(hostEnvProvider, "host-env")).text;
    client = await ProviderClient.start({
      cwd: root,
      env: {
        KEYFLEET_ROOT: root,
        SOPS_AGE_KEY: alice.identity,
        SOPS_AGE_KEY_FILE: undefined,
        SOPS_AGE_KEY_CMD: undefined,
        SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined,
        HOME: dir,
      },
    });
    await client.configure();
  }, 60_000);
  afterAll(async () => {
    await client?.stop();
    await stopHosts(hosts);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const conn = (h: Host, hostKey = h.hostKeyLine): Props => ({
    host: h.host,
    port: h.port,
    user: h.user,
    privateKey: h.clientKeyPem,
    hostKey,
  });
  const yamlSrc = (extra: Props = {}): Props => ({ path: join(dir, "app.yaml"), secretFile: false, ...extra });
  const envSrc = (extra: Props = {}): Props => ({ path: join(dir, "svc.env"), secretFile: false, ...extra });
  const inputs = (h: Host, file: string, extra: Props = {}): Props => ({
    __provider: providerText,
    connection: conn(h),
    path: join(h.dataDir, file),
    sources: [],
    ...extra,
  });
  const rec = <T>(x: T): T => {
    responses.push(x);
    return x;
  };

  async function create(name: string, news: Props): Promise<{ id: string; props: Props }> {
    const c = rec(await client.check({ urn: urn(name), news }));
    expect(c.failures).toEqual([]);
    const r = rec(await client.create({ urn: urn(name), properties: c.inputs }));
    return { id: r.id, props: r.properties };
  }
  async function up(
    name: string,
    state: { id: string; props: Props },
    news: Props,
  ): Promise<{ id: string; props: Props; changes: string }> {
    const c = rec(await client.check({ urn: urn(name), olds: state.props, news }));
    expect(c.failures).toEqual([]);
    const d = rec(await client.diff({ id: state.id, urn: urn(name), olds: state.props, news: c.inputs }));
    if (d.changes === "none") return { ...state, changes: "none" };
    const u = rec(await client.update({ id: state.id, urn: urn(name), olds: state.props, news: c.inputs }));
    return { id: state.id, props: u.properties, changes: d.changes };
  }
  const refresh = async (name: string, s: { id: string; props: Props }) =>
    rec(await client.read({ id: s.id, urn: urn(name), properties: s.props }));
  const onDisk = (h: Host, file: string, format: EnvFormat) =>
    Object.fromEntries(parseEnv(readFileSync(join(h.dataDir, file), "utf8"), format));

  it("create: each host gets only its selected keys, in its format, mode 0600, verified on disk", async () => {
    const [h0, h1, h2] = hosts as [Host, Host, Host];
    const s0 = await create(
      "h0",
      inputs(h0, "app.conf", {
        format: "systemd",
        sources: [yamlSrc({ keys: ["db.password", "api_token"], rename: { "db.password": "DB_PASSWORD" } })],
      }),
    );
    const s1 = await create(
      "h1",
      inputs(h1, "app.json", { format: "json", sources: [yamlSrc({ keys: ["api_token"], prefix: "APP_" })] }),
    );
    const s2 = await create("h2", inputs(h2, "svc.env", { sources: [envSrc()], env: { PLAIN: "not secret" } }));
    expect(onDisk(h0, "app.conf", "systemd")).toEqual({ DB_PASSWORD: V.db, api_token: V.api });
    expect(onDisk(h1, "app.json", "json")).toEqual({ APP_api_token: V.api });
    expect(onDisk(h2, "svc.env", "dotenv")).toEqual({ DOT_ONE: V.dot1, DOT_TWO: V.dot2, PLAIN: "not secret" });
    for (const [h, f] of [
      [h0, "app.conf"],
      [h1, "app.json"],
      [h2, "svc.env"],
    ] as const) {
      const st = statSync(join(h.dataDir, f));
      expect(st.mode & 0o7777).toBe(0o600);
      expect(st.uid).toBe(process.getuid!());
      const text = readFileSync(join(h.dataDir, f), "utf8");
      expect(text).not.toContain(`other-${tag}`); // least privilege: no unselected key on any host
      if (h !== h0) expect(text).not.toContain(`pw-${tag}`);
      expect(readdirSync(h.dataDir).filter((x) => x.includes(".kftmp."))).toEqual([]);
    }
    expect(s0.props["keyNames"]).toEqual(["DB_PASSWORD", "api_token"]);
    expect(s1.props["keyNames"]).toEqual(["APP_api_token"]);
    expect(s0.props["hostFingerprint"]).toBe(keygenFingerprint(h0.hostKeyFile + ".pub"));
    expect(s0.props["mode"]).toBe("0600");
    expect(s0.props["contentDigest"]).toMatch(/^[0-9a-f]{64}$/);
    expect(s2.props["restarted"]).toBe(false);
  });

  it("a dotted key without rename is refused by check and by apply, naming the key", async () => {
    const h = hosts[0]!;
    const c = await client.check({
      urn: urn("bad"),
      news: inputs(h, "bad.env", { sources: [yamlSrc({ keys: ["db.password"] })] }),
    });
    expect(c.failures.map((f: { reason: string }) => f.reason).join("\n")).toMatch(/db\.password.*rename/);
    const err = await client
      .create({ urn: urn("bad"), properties: inputs(h, "bad.env", { sources: [yamlSrc({ keys: ["nope"] })] }) })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message).toMatch(/key "nope" not found/);
    expect(existsSync(join(h.dataDir, "bad.env"))).toBe(false);
  });

  it("update: mode, owner and group applied; unchanged inputs diff to none", async () => {
    const h = hosts[1]!;
    const base = inputs(h, "perm.env", { sources: [yamlSrc({ keys: ["api_token"] })] });
    const s0 = await create("perm", base);
    const same = await up("perm", s0, base);
    expect(same.changes).toBe("none");
    const s1 = await up("perm", s0, { ...base, mode: "0640", owner: "daemon", group: "nogroup" });
    expect(s1.changes).toBe("some");
    const st = statSync(join(h.dataDir, "perm.env"));
    expect(st.mode & 0o7777).toBe(0o640);
    expect(st.uid).toBe(1);
    expect(st.gid).toBe(65534);
    expect(s1.props).toMatchObject({ mode: "0640", owner: "daemon", group: "nogroup" });
    expect(onDisk(h, "perm.env", "dotenv")).toEqual({ api_token: V.api });
  });

  it("a wrong host key is refused before authentication with both fingerprints; nothing written", async () => {
    const [h0, h1] = hosts as [Host, Host];
    const news = {
      ...inputs(h0, "wrong.env", { sources: [yamlSrc({ keys: ["api_token"] })] }),
      connection: conn(h0, h1.hostKeyLine),
    };
    const c = await client.check({ urn: urn("wrong"), news });
    expect(c.failures).toEqual([]);
    const err = await client.create({ urn: urn("wrong"), properties: c.inputs }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(keygenFingerprint(h0.hostKeyFile + ".pub"));
    expect(err?.message).toContain(keygenFingerprint(h1.hostKeyFile + ".pub"));
    expect(existsSync(join(h0.dataDir, "wrong.env"))).toBe(false);
    // the pinned-key refusal happens before auth: sshd never saw a publickey attempt on this connection
    expect(readFileSync(h0.logFile, "utf8")).not.toMatch(/Failed publickey/);
  });

  it("drift: edited, deleted and chmod'ed files are reported by read and repaired by update", async () => {
    const h = hosts[2]!;
    const file = join(h.dataDir, "drift.env");
    const base = inputs(h, "drift.env", { sources: [envSrc()] });
    let s = await create("drift", base);
    const want = readFileSync(file, "utf8");
    const check = async (tamper: () => void, expectDrift: Props) => {
      tamper();
      const r = await refresh("drift", s);
      expect(r.properties).toMatchObject(expectDrift);
      const u = await up("drift", { id: s.id, props: r.properties }, base);
      expect(u.changes).toBe("some");
      expect(readFileSync(file, "utf8")).toBe(want);
      expect(statSync(file).mode & 0o7777).toBe(0o600);
      expect(u.props["drift"]).toEqual([]);
      s = u;
      expect((await up("drift", s, base)).changes).toBe("none");
    };
    await check(() => writeFileSync(file, "DOT_ONE=edited\n"), { drift: ["content changed"] });
    await check(() => rmSync(file), { drift: ["missing"], contentDigest: "" });
    await check(() => chmodSync(file, 0o644), { mode: "0644", drift: [] });
    const clean = await refresh("drift", s);
    expect(clean.properties["drift"]).toEqual([]);
    expect(clean.properties["contentDigest"]).toBe(s.props["contentDigest"]);
  });

  it("restart: runs only when the content changed; a failure names the exit code, shows no value, and is retried", async () => {
    const h = hosts[0]!;
    const log = join(h.dataDir, "restarts.log");
    const count = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0);
    const base = inputs(h, "svc.env", {
      sources: [yamlSrc({ keys: ["api_token"] })],
      env: { V: "1" },
      onChange: `echo restarted >> ${log}`,
    });
    let s = await create("rs", base);
    expect(count()).toBe(1);
    expect(s.props["restarted"]).toBe(true);
    // same content: a forced update (e.g. a new onChange text) writes nothing and restarts nothing
    const u0 = rec(await client.update({ id: s.id, urn: urn("rs"), olds: s.props, news: base }));
    expect(u0.properties["restarted"]).toBe(false);
    expect(count()).toBe(1);
    s = await up("rs", s, { ...base, env: { V: "2" } });
    expect(count()).toBe(2);
    expect(s.props["restarted"]).toBe(true);
    // failing command that prints the file (values!) to stderr
    const failing = { ...base, env: { V: "3" }, onChange: `cat ${join(h.dataDir, "svc.env")} >&2; exit 3` };
    const c = await client.check({ urn: urn("rs"), olds: s.props, news: failing });
    const err = await client.update({ id: s.id, urn: urn("rs"), olds: s.props, news: c.inputs }).then(
      () => undefined,
      (e: Error) => e,
    );
    responses.push(err?.message, (err as { stderr?: string } | undefined)?.stderr);
    expect(err?.message).toMatch(/exit code 3/);
    // issue 9 §2: by default the output is not in the error at all, only how to see it on the host
    expect(err?.message).toContain("output is not shown");
    expect(err?.message).toContain(`ssh -p ${h.port} ${h.user}@${h.host}`);
    expect(err?.message).not.toContain("line withheld");
    for (const v of SECRET_VALUES) for (const line of v.split("\n")) expect(err?.message).not.toContain(line);
    expect(existsSync(join(h.dataDir, ".svc.env.kfrestart"))).toBe(true);
    // content is already current; the pending restart still runs on the next apply
    const u = rec(await client.update({ id: s.id, urn: urn("rs"), olds: s.props, news: { ...base, env: { V: "3" } } }));
    expect(u.properties["restarted"]).toBe(true);
    expect(count()).toBe(3);
    expect(existsSync(join(h.dataDir, ".svc.env.kfrestart"))).toBe(false);
  });

  it("a failing restart whose output spells a value in pieces, spaced or reversed: none of it in the error; showRestartOutput opts in", async () => {
    const h = hosts[2]!;
    const file = join(h.dataDir, "adv.env");
    // prints the file's content (the values) in 5-character pieces, one char per word, reversed, and in 5-char lines
    const leak = [
      `s=$(cat ${file})`,
      `printf '%s' "$s" | fold -w5 | tr '\\n' ' ' >&2`,
      `printf '%s' "$s" | sed 's/./& /g' >&2`,
      `printf '%s\\n' "$s" | awk '{ r = ""; for (i = length($0); i > 0; i--) r = r substr($0, i, 1); print r }' >&2`,
      `printf '%s' "$s" | fold -w5 >&2; printf '%s' "$s" | fold -w5`,
      "printf '\\ndiag-line-for-operators\\n' >&2",
      "exit 7",
    ].join("; ");
    const base = inputs(h, "adv.env", { sources: [yamlSrc({ keys: ["api_token", "other"] })], env: { V: "1" } });
    let s = await create("adv", base);
    const pieces = (v: string) => {
      const out: string[] = [];
      for (let i = 0; i + 5 <= v.length; i++) out.push(v.slice(i, i + 5));
      return out;
    };
    const rev = (v: string) => [...v].reverse().join("");
    for (const [k, show] of [
      [2, false],
      [3, true],
    ] as const) {
      const news = { ...base, env: { V: String(k) }, onChange: leak, ...(show ? { showRestartOutput: true } : {}) };
      const c = await client.check({ urn: urn("adv"), olds: s.props, news });
      expect(c.failures).toEqual([]);
      const err = await client.update({ id: s.id, urn: urn("adv"), olds: s.props, news: c.inputs }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/exit code 7/);
      if (!show) {
        responses.push(err?.message);
        const msg = err?.message ?? "";
        const squeezed = msg.replace(/\s+/g, "");
        expect(msg).toContain("output is not shown");
        expect(msg).toContain(`ssh -p ${h.port} ${h.user}@${h.host}`);
        expect(msg).not.toContain("diag-line-for-operators");
        for (const v of [tag, `other-${tag}`, `tok-${tag}`]) {
          for (const p of [...pieces(v), ...pieces(rev(v))]) expect(squeezed, p).not.toContain(p);
        }
      } else {
        // the opt-in shows the output (scrubbed of 6-character runs of values only): documented as able to leak
        expect(err?.message).toContain("diag-line-for-operators");
      }
      s = { ...s, props: { ...s.props, env: { V: String(k) } } };
    }
    expect(existsSync(join(h.dataDir, ".adv.env.kfrestart"))).toBe(true);
  });

  it("inputs refused by check are refused again by create without check, through the provider server; nothing written", async () => {
    const h = hosts[1]!;
    const cases: [Props, RegExp][] = [
      [inputs(h, "x1ff.env", { env: { A: "1" }, mode: "0x1ff" }), /octal string/],
      [inputs(h, "ww.env", { env: { A: "1" }, mode: "0666" }), /world-write/],
      [inputs(h, "suid.env", { env: { A: "1" }, mode: "4777" }), /setuid/],
      [{ ...inputs(h, "cr.env", { env: { A: "1" } }), path: join(h.dataDir, "cr\r.env") }, /CR/],
      [{ ...inputs(h, "long.env", { env: { A: "1" } }), path: "/" + "p".repeat(100 * 1024) }, /longer than 4096 bytes/],
    ];
    for (const [news, why] of cases) {
      const c = await client.check({ urn: urn("inval"), news });
      expect(c.failures.map((f: { reason: string }) => f.reason).join("\n")).toMatch(why);
      const t0 = Date.now();
      const err = await client.create({ urn: urn("inval"), properties: news }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(why);
      expect(err?.message.length).toBeLessThan(1500);
      expect(Date.now() - t0).toBeLessThan(10_000); // generous; a 100 KB path took 27 s before
    }
    expect(readdirSync(h.dataDir).filter((f) => /^(x1ff|ww|suid|cr)/.test(f))).toEqual([]);
    // with the explicit opt-in, a deliberate mode is written
    const ok = await create(
      "unsafe-ok",
      inputs(h, "shared.env", { env: { A: "1" }, mode: "0664", allowUnsafeMode: true }),
    );
    expect(ok.props["mode"]).toBe("0664");
    expect(statSync(join(h.dataDir, "shared.env")).mode & 0o7777).toBe(0o664);
  });

  it("delete removes the file; keepOnDelete keeps it", async () => {
    const h = hosts[1]!;
    const a = await create("del-a", inputs(h, "del-a.env", { env: { A: "1" } }));
    const b = await create("del-b", inputs(h, "del-b.env", { env: { B: "1" }, keepOnDelete: true }));
    await client.delete({ id: a.id, urn: urn("del-a"), properties: a.props });
    await client.delete({ id: b.id, urn: urn("del-b"), properties: b.props });
    expect(existsSync(join(h.dataDir, "del-a.env"))).toBe(false);
    expect(existsSync(join(h.dataDir, "del-b.env"))).toBe(true);
  });

  it("leak check: no plaintext value in responses, provider output, deployer temp files or sshd logs", async () => {
    const hits: string[] = [];
    const needles = SECRET_VALUES.flatMap((v) => v.split("\n")).filter((x) => x.length >= 8);
    const scan = (where: string, text: string) => {
      for (const n of needles) if (text.includes(n)) hits.push(`${where}: ${n.slice(0, 12)}…`);
    };
    scan("responses", JSON.stringify(responses));
    scan("provider stdout", client.stdout);
    scan("provider stderr", client.stderr);
    for (const h of hosts) scan(`sshd log ${h.port}`, readFileSync(h.logFile, "utf8"));
    // the deployer's temp dirs: files changed since the suite started, except the hosts' data dirs
    const skip = new Set(hosts.map((h) => h.dataDir));
    let files = 0;
    const walk = (d: string, depth: number) => {
      if (depth > 6 || skip.has(d)) return;
      let names: string[];
      try {
        names = readdirSync(d);
      } catch {
        return;
      }
      for (const n of names) {
        const p = join(d, n);
        let st;
        try {
          st = lstatSync(p);
        } catch {
          continue;
        }
        if (st.isDirectory()) walk(p, depth + 1);
        else if (st.isFile() && st.mtimeMs >= started - 1000 && st.size < 8 * 1024 * 1024) {
          files++;
          try {
            scan(p, readFileSync(p).toString("utf8"));
          } catch {
            /* vanished */
          }
        }
      }
    };
    walk(tmpdir(), 0);
    expect(files).toBeGreaterThan(0);
    expect(hits).toEqual([]);
  });
});
