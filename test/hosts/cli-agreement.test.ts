/**
 * One engine: `keyfleet push` and a `pulumi up` of the same fleet.yaml (the fleet example program,
 * run by the engine stand-in in test/harness/engine on the real SDK runtime and dynamic-provider
 * server) agree, against 2 real sshd hosts.
 * - CLI push, then up (fresh state): the up records the resources but writes nothing: the sops file
 *   is byte-identical, no env file is rewritten (same inode), no restart runs, the audit log gains
 *   only "adopt" lines; a preview afterwards shows no changes.
 * - A value changed and pushed by an up, then CLI push: "nothing to do", nothing rewritten.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, fileSha, kf, leaks } from "./cli-fleet-helpers";

const req = createRequire(join(ROOT, "package.json"));
const { startHosts, stopHosts } = req("./dist/test/harness/sshd.js") as typeof import("../harness/sshd");
const { Engine } = req("./dist/test/harness/engine/engine.js") as typeof import("../harness/engine/engine");
const { generateX25519, parseRecipient } = req("./dist/provider/age/index.js") as typeof import("../../provider/age");
const { encrypt } = req("./dist/provider/sops/index.js") as typeof import("../../provider/sops");
type Host = Awaited<ReturnType<typeof startHosts>>[number];

const tag = randomBytes(5).toString("hex");
const V = { db: `db-${tag}`, api: `api-${tag}`, db2: `db2-${tag}` };

describe("keyfleet push and pulumi up (engine stand-in) agree", () => {
  let hosts: Host[] = [];
  let dir: string;
  let engine: InstanceType<typeof Engine>;
  const alice = generateX25519();
  const env = (): Record<string, string> => ({ SOPS_AGE_KEY_FILE: join(dir, "alice.txt") });
  const envFile = (h: Host) => join(h.dataDir, "app.env");
  const restarts = (h: Host) =>
    existsSync(join(h.dataDir, "restarts"))
      ? readFileSync(join(h.dataDir, "restarts"), "utf8").split("\n").filter(Boolean).length
      : 0;
  const snapshot = () => ({
    file: readFileSync(join(dir, "secrets/app.yaml"), "utf8"),
    hosts: hosts.map((h) => ({ sha: fileSha(envFile(h)), ino: statSync(envFile(h)).ino, restarts: restarts(h) })),
    audit: existsSync(join(dir, ".keyfleet/audit.jsonl"))
      ? readFileSync(join(dir, ".keyfleet/audit.jsonl"), "utf8").split("\n").filter(Boolean)
      : [],
  });

  beforeAll(async () => {
    hosts = await startHosts(2);
    dir = mkdtempSync(join(tmpdir(), "kf-agree-"));
    writeFileSync(join(dir, "alice.txt"), alice.identity + "\n", { mode: 0o600 });
    mkdirSync(join(dir, "secrets"));
    writeFileSync(
      join(dir, "secrets/app.yaml"),
      await encrypt(`DB_PASSWORD: ${V.db}\nAPI_TOKEN: ${V.api}\n`, {
        format: "yaml",
        recipients: [parseRecipient(alice.recipient)],
      }),
    );
    const lines = [
      "operators:",
      `  alice: ${alice.recipient}`,
      "ci: {}",
      "files:",
      "  app:",
      "    path: secrets/app.yaml",
      "hosts:",
    ];
    hosts.forEach((h, k) =>
      lines.push(
        `  web-${k + 1}:`,
        `    address: ${h.host}`,
        `    port: ${h.port}`,
        `    user: ${h.user}`,
        `    privateKeyFile: ${h.clientKeyFile}`,
        `    hostKey: ${h.hostKeyLine}`,
        "    envFiles:",
        `      - path: ${envFile(h)}`,
        `        sources: [{ file: app, keys: [${k === 0 ? "DB_PASSWORD" : "API_TOKEN"}] }]`,
        `        onChange: echo restarted >> ${join(h.dataDir, "restarts")}`,
      ),
    );
    writeFileSync(join(dir, "fleet.yaml"), lines.join("\n") + "\n");
    engine = new Engine({
      projectDir: dir,
      program: join(ROOT, "dist/examples/fleet/index.js"),
      project: "keyfleet-agree",
      passphrase: "agree-test",
      env: {
        HOME: dir,
        SOPS_AGE_KEY_FILE: join(dir, "alice.txt"),
        SOPS_AGE_KEY: undefined,
        SOPS_AGE_KEY_CMD: undefined,
        SOPS_AGE_SSH_PRIVATE_KEY_FILE: undefined,
        KEYFLEET_ROOT: ROOT,
        KEYFLEET_INVENTORY: join(dir, "fleet.yaml"),
      },
      onLog: () => undefined,
      timeoutMs: 90_000,
    });
  });
  afterAll(async () => {
    await stopHosts(hosts);
    rmSync(dir, { recursive: true, force: true });
  });

  it("CLI push, then up: the up changes nothing on disk or on the hosts; a preview then shows no changes", async () => {
    const p = await kf(["push", "-y"], { cwd: dir, home: dir, env: env() });
    expect(p.code, p.stderr).toBe(0);
    const [h1, h2] = hosts as [Host, Host];
    expect(readFileSync(envFile(h1), "utf8")).toContain(V.db);
    expect(readFileSync(envFile(h2), "utf8")).toContain(V.api);
    const before = snapshot();
    expect(before.hosts.map((h) => h.restarts)).toEqual([1, 1]);
    const up = await engine.up();
    expect(up.changes.filter((c) => c.type.startsWith("pulumi-nodejs:dynamic")).every((c) => c.op === "create")).toBe(
      true,
    );
    const after = snapshot();
    expect(after.file).toBe(before.file);
    expect(after.hosts).toEqual(before.hosts);
    expect(after.audit.slice(0, before.audit.length)).toEqual(before.audit);
    expect(
      after.audit
        .slice(before.audit.length)
        .map((l) => (JSON.parse(l) as { operation: string }).operation)
        .every((o) => o === "adopt"),
    ).toBe(true);
    const pre = await engine.preview();
    expect(pre.changes.filter((c) => c.op !== "same")).toEqual([]);
  }, 240_000);

  it("a change applied by an up: CLI push then says nothing to do and rewrites nothing", async () => {
    expect(
      (await kf(["set", "secrets/app.yaml", "DB_PASSWORD"], { cwd: dir, home: dir, env: env(), input: V.db2 })).code,
    ).toBe(0);
    const r0 = restarts(hosts[0] as Host);
    const up = await engine.up();
    expect(up.changes.some((c) => c.op === "update")).toBe(true);
    expect(readFileSync(envFile(hosts[0] as Host), "utf8")).toContain(V.db2);
    expect(restarts(hosts[0] as Host)).toBe(r0 + 1);
    const before = snapshot();
    const dry = await kf(["push", "--dry-run"], { cwd: dir, home: dir, env: env() });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain("nothing to do");
    const p = await kf(["push", "-y"], { cwd: dir, home: dir, env: env() });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toContain("nothing to do");
    expect(snapshot()).toEqual(before);
    expect(leaks(dry.stdout + dry.stderr + p.stdout + p.stderr + up.programOutput, Object.values(V))).toEqual([]);
  }, 240_000);
});
