/**
 * The whole job without Pulumi, against real OpenSSH sshd hosts on 127.0.0.1 and the built CLI:
 * init → add → provision two hosts → set → push (only the affected host changes) → deprovision one
 * (rotation, exposure, env file removed) → push (nothing to do). No value appears in any output,
 * in fleet.yaml or in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT, fileSha, keygenFingerprint, kf, leaks, type Run } from "./cli-fleet-helpers";

const req = createRequire(join(ROOT, "package.json"));
const { startHosts, stopHosts } = req("./dist/test/harness/sshd.js") as typeof import("../harness/sshd");
const { sshToAgeRecipient } = req("./dist/provider/age/index.js") as typeof import("../../provider/age");
const { readMetadata, formatFromPath } = req("./dist/provider/sops/index.js") as typeof import("../../provider/sops");
type Host = Awaited<ReturnType<typeof startHosts>>[number];

const tag = randomBytes(5).toString("hex");
const V = { db1: `db-${tag}-first "q" $x`, db2: `db-${tag}-second`, api: `api-${tag}-token` };
const SECRETS = Object.values(V);

describe("keyfleet CLI fleet path on 2 real sshd hosts", () => {
  let hosts: Host[] = [];
  let dir: string;
  let home: string;
  const outputs: Run[] = [];
  const run = async (args: string[], input?: string): Promise<Run> => {
    const r = await kf(args, { cwd: dir, home, ...(input !== undefined ? { input } : {}) });
    outputs.push(r);
    return r;
  };
  const envPath = (h: Host, f: string) => join(h.dataDir, f);
  const restarts = (h: Host) =>
    existsSync(join(h.dataDir, "restarts"))
      ? readFileSync(join(h.dataDir, "restarts"), "utf8").split("\n").filter(Boolean).length
      : 0;
  const recipientsOf = (file: string): string[] =>
    readMetadata(readFileSync(join(dir, file), "utf8"), formatFromPath(file), file).recipients;

  beforeAll(async () => {
    hosts = await startHosts(2);
    dir = mkdtempSync(join(tmpdir(), "kf-clifleet-"));
    home = mkdtempSync(join(tmpdir(), "kf-clifleet-home-"));
  });
  afterAll(async () => {
    await stopHosts(hosts);
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("init sets up the project, and a second run says nothing to do", async () => {
    const r = await run(["init", "--name", "alice"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("created your operator key");
    for (const f of [".sops.yaml", "fleet.yaml", ".gitignore", "secrets"])
      expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toContain(".env");
    const inv = parse(readFileSync(join(dir, "fleet.yaml"), "utf8")) as { operators: Record<string, string> };
    expect(inv.operators["alice"]).toMatch(/^age1/);
    expect(readFileSync(join(dir, ".sops.yaml"), "utf8")).toContain(inv.operators["alice"]);
    const again = await run(["init", "--name", "alice"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("nothing to do");
  });

  it("add reads the value from stdin, refuses an empty one and a value argument", async () => {
    expect((await run(["add", "DB_PASSWORD", "--file", "secrets/app.yaml"], V.db1 + "\n")).code).toBe(0);
    expect((await run(["add", "API_TOKEN", "--per-secret"], V.api)).code).toBe(0);
    expect(existsSync(join(dir, "secrets/API_TOKEN.env"))).toBe(true);
    const empty = await run(["add", "EMPTY", "--file", "secrets/app.yaml"], "");
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain("empty");
    const arg = await run(["add", "OTHER", "typed-value-" + tag]);
    expect(arg.code).toBe(2);
    expect(arg.stderr).not.toContain("typed-value-" + tag);
    const d = await run(["decrypt", "secrets/app.yaml", "--extract", '["DB_PASSWORD"]']);
    expect(d.stdout).toBe(V.db1);
  });

  it("provision pins the host, re-keys with the same data key, pushes, and a second run does nothing", async () => {
    const [h1, h2] = hosts as [Host, Host];
    const before = readFileSync(join(dir, "secrets/app.yaml"), "utf8");
    const encBefore = /DB_PASSWORD: (ENC\[[^\]]+\])/.exec(before)?.[1];
    const p1 = [
      "provision",
      `web-1=${h1.user}@${h1.host}:${h1.port}`,
      "--env",
      `${envPath(h1, "app.env")}:secrets/app.yaml:DB_PASSWORD`,
      "--fingerprint",
      keygenFingerprint(h1.hostKeyFile + ".pub"),
      "--ssh-key",
      h1.clientKeyFile,
      "--on-change",
      `echo restarted >> ${join(h1.dataDir, "restarts")}`,
    ];
    const r1 = await run(p1);
    expect(r1.code, r1.stderr).toBe(0);
    expect(readFileSync(envPath(h1, "app.env"), "utf8")).toContain("DB_PASSWORD=");
    expect(readFileSync(envPath(h1, "app.env"), "utf8")).toContain("first");
    expect((statSync(envPath(h1, "app.env")).mode & 0o777).toString(8)).toBe("600");
    expect(restarts(h1)).toBe(1);
    // same data key: the value's ciphertext is byte-identical, one more age entry
    const after = readFileSync(join(dir, "secrets/app.yaml"), "utf8");
    expect(/DB_PASSWORD: (ENC\[[^\]]+\])/.exec(after)?.[1]).toBe(encBefore);
    expect(recipientsOf("secrets/app.yaml")).toContain(sshToAgeRecipient(h1.hostKeyLine));
    const inv = parse(readFileSync(join(dir, "fleet.yaml"), "utf8")) as {
      hosts: Record<string, { hostKey: string; envFiles: unknown[] }>;
    };
    expect(inv.hosts["web-1"]?.hostKey).toBe(h1.hostKeyLine);
    // a second run: nothing to change
    const again = await run(p1);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("nothing to do");
    expect(restarts(h1)).toBe(1);
    // without --fingerprint and without a terminal it refuses, showing the fingerprint
    const unpinned = await run([
      "provision",
      `web-2=${h2.user}@${h2.host}:${h2.port}`,
      "--env",
      `${envPath(h2, "api.env")}:secrets/API_TOKEN.env`,
      "--ssh-key",
      h2.clientKeyFile,
    ]);
    expect(unpinned.code).not.toBe(0);
    expect(unpinned.stderr).toContain(keygenFingerprint(h2.hostKeyFile + ".pub"));
    expect(existsSync(envPath(h2, "api.env"))).toBe(false);
    // a wrong fingerprint is refused
    const wrong = await run([
      "provision",
      `web-2=${h2.user}@${h2.host}:${h2.port}`,
      "--env",
      `${envPath(h2, "api.env")}:secrets/API_TOKEN.env`,
      "--ssh-key",
      h2.clientKeyFile,
      "--fingerprint",
      keygenFingerprint(h1.hostKeyFile + ".pub"),
    ]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("expected");
    const r2 = await run([
      "provision",
      `web-2=${h2.user}@${h2.host}:${h2.port}`,
      "--env",
      `${envPath(h2, "api.env")}:secrets/API_TOKEN.env`,
      "--ssh-key",
      h2.clientKeyFile,
      "--fingerprint",
      keygenFingerprint(h2.hostKeyFile + ".pub"),
      "--on-change",
      `echo restarted >> ${join(h2.dataDir, "restarts")}`,
    ]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(readFileSync(envPath(h2, "api.env"), "utf8")).toContain("API_TOKEN=");
    expect(recipientsOf("secrets/API_TOKEN.env")).toContain(sshToAgeRecipient(h2.hostKeyLine));
    expect(recipientsOf("secrets/app.yaml")).not.toContain(sshToAgeRecipient(h2.hostKeyLine));
  });

  it("set then push: the plan names the host, only web-1 changes and restarts", async () => {
    const [h1, h2] = hosts as [Host, Host];
    expect((await run(["set", "secrets/app.yaml", "DB_PASSWORD"], V.db2)).code).toBe(0);
    const sha2 = fileSha(envPath(h2, "api.env"));
    const ino2 = statSync(envPath(h2, "api.env")).ino;
    const dry = await run(["push", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/web-1 \S+app\.env: env file changes/);
    expect(dry.stderr).not.toMatch(/web-2 /);
    expect(readFileSync(envPath(h1, "app.env"), "utf8")).toContain("first");
    const noTty = await run(["push"]);
    expect(noTty.code).not.toBe(0);
    expect(noTty.stderr).toContain("-y");
    const p = await run(["push", "-y"]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/\[\d\/2\] web-1: wrote /);
    expect(p.stderr).toMatch(/\[\d\/2\] web-2: up to date/);
    expect(p.stdout).toMatch(/web-1\s+changed\s+1\/1\s+1/);
    expect(p.stdout).toMatch(/web-2\s+unchanged\s+0\/1\s+0/);
    expect(readFileSync(envPath(h1, "app.env"), "utf8")).toContain("second");
    expect(restarts(h1)).toBe(2);
    expect(restarts(h2)).toBe(1);
    expect(fileSha(envPath(h2, "api.env"))).toBe(sha2);
    expect(statSync(envPath(h2, "api.env")).ino).toBe(ino2);
  });

  it("deprovision rotates what the host could read, prints the exposure, removes its env file; push then has nothing to do", async () => {
    const [h1] = hosts as [Host, Host];
    const before = readFileSync(join(dir, "secrets/app.yaml"), "utf8");
    const r = await run(["deprovision", "web-1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /web-1 \(SHA256:[^)]+\) could read DB_PASSWORD in secrets\/app\.yaml: rotate these values/,
    );
    expect(r.stderr).toContain("removed " + envPath(h1, "app.env"));
    expect(existsSync(envPath(h1, "app.env"))).toBe(false);
    const after = readFileSync(join(dir, "secrets/app.yaml"), "utf8");
    expect(recipientsOf("secrets/app.yaml")).not.toContain(sshToAgeRecipient(h1.hostKeyLine));
    // rotated: a new data key, so the value's ciphertext changed
    expect(/DB_PASSWORD: (ENC\[[^\]]+\])/.exec(after)?.[1]).not.toBe(/DB_PASSWORD: (ENC\[[^\]]+\])/.exec(before)?.[1]);
    expect((await run(["decrypt", "secrets/app.yaml", "--extract", '["DB_PASSWORD"]'])).stdout).toBe(V.db2);
    const inv = parse(readFileSync(join(dir, "fleet.yaml"), "utf8")) as { hosts: Record<string, unknown> };
    expect(Object.keys(inv.hosts)).toEqual(["web-2"]);
    const audit = readFileSync(join(dir, ".keyfleet/audit.jsonl"), "utf8");
    expect(audit).toContain('"operation":"rotate"');
    const p = await run(["push", "-y"]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toContain("nothing to do");
  });

  it("no value in any output, fleet.yaml or the audit log", async () => {
    const texts = [
      ...outputs.flatMap((o) => [o.stdout, o.stderr]),
      readFileSync(join(dir, "fleet.yaml"), "utf8"),
      readFileSync(join(dir, ".keyfleet/audit.jsonl"), "utf8"),
    ];
    // decrypt's stdout is the one place a value is meant to appear
    const decryptRuns = new Set(outputs.filter((o) => SECRETS.includes(o.stdout)).map((o) => o.stdout));
    const all = texts.filter((t) => !decryptRuns.has(t)).join("\n");
    expect(leaks(all, SECRETS)).toEqual([]);
  });
});
