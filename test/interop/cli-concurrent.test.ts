/**
 * Concurrent writers of one sops file (issue 10 §1): `keyfleet set` racing `keyfleet updatekeys`, and
 * `set` racing `set`, 20+ rounds each. The two commands of a round are separate processes started
 * together by the test (siblings: neither is a child of the other). After every round:
 * - no lost update: every value ever set is in the file;
 * - no undone recipient change: the recipients are exactly what the last updatekeys wanted, and a
 *   removed recipient cannot read the file;
 * - the file passes its MAC (decrypt without --ignore-mac).
 * Before the lock, 11 of 20 rounds lost a change and a removal was undone twice, all exiting 0.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, cleanupTmp, kf, project, setupKeys, type Keys } from "./cli-helpers";

let k: Keys;
beforeAll(() => {
  k = setupKeys();
});
afterAll(cleanupTmp);

const ROUNDS = Number(process.env["SLOW"] ? 60 : 20);

/** One CLI run, not waited for: resolves with its exit code and stderr. */
function start(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  input = "",
): Promise<{ code: number | null; stderr: string; args: string[] }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: k.home, ...env },
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const t = setTimeout(() => c.kill("SIGKILL"), 60_000);
    c.once("error", reject);
    c.once("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stderr, args });
    });
    c.stdin.end(input);
  });
}

function rules(d: string, withBob: boolean): void {
  writeFileSync(
    join(d, ".sops.yaml"),
    `creation_rules:\n  - path_regex: ^secrets/\n    age: ${withBob ? `${k.alice.recipient},${k.bob.recipient}` : k.alice.recipient}\n`,
  );
}

/** Decrypts as `who`; the parsed JSON, or undefined when refused (exit code kept in `code`). */
function decryptAs(d: string, keyFile: string): { code: number | null; data: Record<string, unknown> | undefined } {
  const r = kf(["decrypt", "--output-type", "json", "secrets/app.yaml"], {
    cwd: d,
    home: k.home,
    env: { SOPS_AGE_KEY_FILE: keyFile },
  });
  return { code: r.code, data: r.code === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
}

function recipientsOf(d: string): string[] {
  const text = readFileSync(join(d, "secrets/app.yaml"), "utf8");
  return [...text.matchAll(/recipient: (age1\w+)/g)].map((m) => m[1] as string).sort();
}

describe("concurrent writers take the file's lock", () => {
  it(`set racing updatekeys, ${ROUNDS} rounds: no lost value, no undone recipient change, MAC intact`, async () => {
    const d = project(k);
    const env = { SOPS_AGE_KEY_FILE: k.alice.file };
    const expected: Record<string, string> = {};
    let lost = 0;
    let undone = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const withBob = i % 2 === 0; // even rounds add bob, odd rounds remove him
      rules(d, withBob);
      const [s, u] = await Promise.all([
        start(["set", "secrets/app.yaml", `k${i}`], d, env, `value-${i}\n`),
        start(["updatekeys", "-y", "secrets/app.yaml"], d, env),
      ]);
      expect(s.code, s.stderr).toBe(0);
      expect(u.code, u.stderr).toBe(0);
      expected[`k${i}`] = `value-${i}`;
      const mine = decryptAs(d, k.alice.file);
      expect(mine.code).toBe(0); // the MAC is checked by decrypt
      for (const [key, v] of Object.entries(expected)) if (mine.data?.[key] !== v) lost++;
      const want = (withBob ? [k.alice.recipient, k.bob.recipient] : [k.alice.recipient]).sort();
      if (recipientsOf(d).join() !== want.join()) undone++;
      if (!withBob && decryptAs(d, k.bob.file).code === 0) undone++;
    }
    expect({ lost, undone }).toEqual({ lost: 0, undone: 0 });
    expect(readdirSync(join(d, "secrets")).filter((f) => f !== "app.yaml")).toEqual([]); // no lock or temp left
  }, 600_000);

  it(`set racing set, ${ROUNDS} rounds: both values land, MAC intact`, async () => {
    const d = project(k);
    const env = { SOPS_AGE_KEY_FILE: k.alice.file };
    const expected: Record<string, string> = {};
    let lost = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const [a, b] = await Promise.all([
        start(["set", "secrets/app.yaml", `a${i}`], d, env, `A-${i}\n`),
        start(["set", "secrets/app.yaml", `b${i}`], d, env, `B-${i}\n`),
      ]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      expected[`a${i}`] = `A-${i}`;
      expected[`b${i}`] = `B-${i}`;
      const r = decryptAs(d, k.alice.file);
      expect(r.code).toBe(0);
      for (const [key, v] of Object.entries(expected)) if (r.data?.[key] !== v) lost++;
    }
    expect(lost).toBe(0);
  }, 600_000);

  it(`add racing set, ${ROUNDS} rounds: both land, or add reports the file changed (exit 12) and writes nothing`, async () => {
    const d = project(k);
    const env = { SOPS_AGE_KEY_FILE: k.alice.file };
    const expected: Record<string, string> = {};
    let lost = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const [a, b] = await Promise.all([
        start(["add", `ADDED_${i}`, "--file", "secrets/app.yaml"], d, env, `A-${i}\n`),
        start(["set", "secrets/app.yaml", `s${i}`], d, env, `S-${i}\n`),
      ]);
      expect(b.code, b.stderr).toBe(0);
      expected[`s${i}`] = `S-${i}`;
      // add read the file before its prompt: it lands, or (set wrote in between) refuses with nothing written
      expect([0, 12], a.stderr).toContain(a.code);
      if (a.code === 0) expected[`ADDED_${i}`] = `A-${i}`;
      const r = decryptAs(d, k.alice.file);
      expect(r.code).toBe(0);
      for (const [key, v] of Object.entries(expected)) if (r.data?.[key] !== v) lost++;
      if (a.code === 12) expect(r.data?.[`ADDED_${i}`]).toBeUndefined();
    }
    expect(lost).toBe(0);
  }, 600_000);

  it("a writer waiting on a held lock names the holder and gives up with exit code 11", () => {
    const d = project(k);
    const lockFile = join(d, "secrets/.app.yaml.keyfleet-lock");
    // a live holder: this test process (pid alive), recorded as another command
    writeFileSync(
      lockFile,
      JSON.stringify({
        pid: process.pid,
        command: "keyfleet rotate",
        started: "2026-12-03T10:00:00.000Z",
        host: require("node:os").hostname(),
        token: "held",
      }),
    );
    const r = kf(["set", "secrets/app.yaml", "x"], {
      cwd: d,
      home: k.home,
      env: { SOPS_AGE_KEY_FILE: k.alice.file, KEYFLEET_LOCK_TIMEOUT_MS: "400" },
      input: "v\n",
    });
    expect(r.code).toBe(11);
    expect(r.stderr).toContain(
      `keyfleet: waiting for pid ${process.pid} (keyfleet rotate) since 2026-12-03T10:00:00.000Z to release secrets/.app.yaml.keyfleet-lock`,
    );
    expect(r.stderr).toMatch(
      /secrets\/app\.yaml is locked by pid \d+ \(keyfleet rotate\) since \S+; gave up after 0\.\d s; wait for that command to finish/,
    );
    expect(existsSync(lockFile)).toBe(true);
    // a stale lock (dead pid) is recovered and the set goes through
    writeFileSync(
      lockFile,
      JSON.stringify({
        pid: 2 ** 22 + 7,
        command: "keyfleet set",
        started: "x",
        host: require("node:os").hostname(),
        token: "dead",
      }),
    );
    const ok = kf(["set", "secrets/app.yaml", "x"], {
      cwd: d,
      home: k.home,
      env: { SOPS_AGE_KEY_FILE: k.alice.file },
      input: "v\n",
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  });
});
