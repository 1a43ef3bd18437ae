/**
 * The sshd harness (test/harness/sshd.ts) that host tests, benchmarks and the demo start their hosts
 * with: a daemon that cannot start (here: a config sshd refuses) fails with sshd's own reason after
 * the bounded retries and leaves nothing behind, neither its directory (host key, client key) nor a
 * process; a started host is stopped by pid and its directory removed.
 */
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSshd } from "../harness/sshd";

const scratch = mkdtempSync(join(tmpdir(), "kf-sshd-harness-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `f` with os.tmpdir() pointing at a fresh directory of `scratch`; returns that directory. */
async function inOwnTmp(f: () => Promise<unknown>): Promise<string> {
  const dir = mkdtempSync(join(scratch, "tmp-"));
  const saved = process.env["TMPDIR"];
  process.env["TMPDIR"] = dir;
  try {
    await f();
  } finally {
    if (saved === undefined) delete process.env["TMPDIR"];
    else process.env["TMPDIR"] = saved;
  }
  return dir;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("sshd harness", () => {
  it("a daemon that cannot start fails with sshd's reason and leaves no directory behind", async () => {
    let err: unknown;
    const dir = await inOwnTmp(async () => {
      await startSshd({ maxStartups: -1 }).then(
        (h) => h.stop(), // not expected; stopped so the test cannot leak it
        (e: unknown) => (err = e),
      );
    });
    expect(String(err)).toMatch(/MaxStartups/);
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);

  it("a started host is stopped by pid and its directory removed", async () => {
    let pid = -1;
    let baseDir = "";
    await inOwnTmp(async () => {
      const h = await startSshd();
      pid = h.pid();
      baseDir = h.baseDir;
      expect(alive(pid)).toBe(true);
      await h.stop();
    });
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(baseDir)).toBe(false);
  }, 60_000);
});
