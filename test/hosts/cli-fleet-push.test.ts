/**
 * `keyfleet push` over 5 real sshd hosts with the middle one down: the other four get their env
 * files, each host has a progress line, the summary marks the failed one, and the exit status says
 * some failed. `--host` limits the run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, kf, leaks } from "./cli-fleet-helpers";

const req = createRequire(join(ROOT, "package.json"));
const { startHosts, stopHosts } = req("./dist/test/harness/sshd.js") as typeof import("../harness/sshd");
const { generateX25519, parseRecipient, sshToAgeRecipient } = req(
  "./dist/provider/age/index.js",
) as typeof import("../../provider/age");
const { encrypt } = req("./dist/provider/sops/index.js") as typeof import("../../provider/sops");
type Host = Awaited<ReturnType<typeof startHosts>>[number];

const value = `pw-${randomBytes(6).toString("hex")}`;

describe("keyfleet push of 5 hosts, one down", () => {
  let hosts: Host[] = [];
  let dir: string;
  const alice = generateX25519();
  const env = (): Record<string, string> => ({ SOPS_AGE_KEY_FILE: join(dir, "alice.txt") });

  beforeAll(async () => {
    hosts = await startHosts(5);
    dir = mkdtempSync(join(tmpdir(), "kf-clipush-"));
    writeFileSync(join(dir, "alice.txt"), alice.identity + "\n", { mode: 0o600 });
    mkdirSync(join(dir, "secrets"));
    writeFileSync(
      join(dir, "secrets/app.yaml"),
      await encrypt(`DB_PASSWORD: ${value}\n`, { format: "yaml", recipients: [parseRecipient(alice.recipient)] }),
    );
    const lines = [
      "operators:",
      `  alice: ${alice.recipient}`,
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
        `      - path: ${join(h.dataDir, "app.env")}`,
        "        sources: [{ file: app }]",
      ),
    );
    writeFileSync(join(dir, "fleet.yaml"), lines.join("\n") + "\n");
  });
  afterAll(async () => {
    await stopHosts(hosts);
    rmSync(dir, { recursive: true, force: true });
  });

  it("--concurrency is validated", async () => {
    const r = await kf(["push", "--concurrency", "0", "--dry-run"], { cwd: dir, home: dir, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--concurrency");
  });

  it("--host limits the push to that host", async () => {
    const r = await kf(["push", "-y", "--host", "web-1"], { cwd: dir, home: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join((hosts[0] as Host).dataDir, "app.env"))).toBe(true);
    expect(existsSync(join((hosts[1] as Host).dataDir, "app.env"))).toBe(false);
    expect(r.stdout.trim().split("\n")).toHaveLength(2); // header + web-1
  });

  it("one host down: the others are pushed, each has a progress line, the exit status says some failed", async () => {
    await (hosts[2] as Host).stop();
    const r = await kf(["push", "-y", "--concurrency", "2"], { cwd: dir, home: dir, env: env() });
    expect(r.code, r.stderr).toBe(75);
    for (let k = 1; k <= 5; k++) expect(r.stderr).toMatch(new RegExp(`\\[\\d/5\\] web-${k}: `));
    expect(r.stderr).toMatch(/\[\d\/5\] web-3: failed: /);
    expect(r.stderr).toContain("1 of 5 hosts failed: web-3");
    expect(r.stdout).toMatch(/web-3\s+FAILED/);
    expect(r.stdout).toMatch(/web-1\s+unchanged/);
    for (const k of [0, 1, 3, 4]) {
      const text = readFileSync(join((hosts[k] as Host).dataDir, "app.env"), "utf8");
      expect(text).toContain("DB_PASSWORD=");
    }
    expect(existsSync(join((hosts[2] as Host).dataDir, "app.env"))).toBe(false);
    expect(leaks(r.stdout + r.stderr, [value])).toEqual([]);
  });

  it("deprovision of the unreachable host rotates the file and says which env file to remove by hand", async () => {
    const r = await kf(["deprovision", "web-3"], { cwd: dir, home: dir, env: env() });
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(
      /web-3 \(SHA256:[^)]+\) could read DB_PASSWORD in secrets\/app\.yaml: rotate these values/,
    );
    expect(r.stderr).toContain(`web-3 is not reachable`);
    expect(r.stderr).toContain(`remove ${join((hosts[2] as Host).dataDir, "app.env")} from it by hand`);
    expect(readFileSync(join(dir, "fleet.yaml"), "utf8")).not.toContain("web-3:");
    expect(readFileSync(join(dir, "secrets/app.yaml"), "utf8")).not.toContain(
      sshToAgeRecipient((hosts[2] as Host).hostKeyLine),
    );
    expect(leaks(r.stdout + r.stderr, [value])).toEqual([]);
  });
});
