/**
 * provider/fs/lock: exclusive lock files with holder records, bounded waits, stale-lock recovery
 * and the compare-and-swap check.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import {
  FileChangedError,
  LockTimeoutError,
  acquireFileLock,
  assertUnchanged,
  fileVersion,
  lockPathOf,
  readLockHolder,
  withFileLock,
  withFileLocks,
} from "../../../provider/fs/lock";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kf-lock-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("file lock", () => {
  it("records the holder and removes the lock file on release", async () => {
    const target = join(dir, "a.yaml");
    const lock = await acquireFileLock(target, { command: "keyfleet set" });
    expect(lock.path).toBe(join(dir, ".a.yaml.keyfleet-lock"));
    const h = readLockHolder(lock.path);
    expect(h).toMatchObject({ pid: process.pid, command: "keyfleet set", host: hostname() });
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    lock.release(); // twice is harmless
  });

  it("a waiting writer is told who holds the lock and gives up after the timeout, naming pid and command", async () => {
    const target = join(dir, "b.yaml");
    const first = await acquireFileLock(target, { command: "keyfleet updatekeys" });
    let told: string | undefined;
    const err = await acquireFileLock(target, {
      timeoutMs: 300,
      onWait: (h) => (told = `${h?.pid} ${h?.command}`),
    }).catch((e: unknown) => e);
    expect(told).toBe(`${process.pid} keyfleet updatekeys`);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `b\\.yaml is locked by pid ${process.pid} \\(keyfleet updatekeys\\) since \\S+; gave up after 0\\.\\d s`,
      ),
    );
    expect((err as Error).message).toContain(lockPathOf(target));
    first.release();
  });

  it("a waiter gets the lock as soon as the holder (another process) releases it", async () => {
    const target = join(dir, "c.yaml");
    // the holder is another process running the built module (dist/, from tsc)
    const built = join(__dirname, "../../../dist/provider/fs/lock.js");
    const child = spawn(
      process.execPath,
      [
        "-e",
        `
      const { acquireFileLock } = require(${JSON.stringify(built)});
      acquireFileLock(${JSON.stringify(target)}, { command: "holder" }).then((l) => {
        process.stdout.write("held\\n");
        setTimeout(() => l.release(), 400);
      });
    `,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((r) => child.stdout.once("data", () => r()));
    expect(readLockHolder(lockPathOf(target))).toMatchObject({ pid: child.pid, command: "holder" });
    const t0 = Date.now();
    const lock = await acquireFileLock(target, { timeoutMs: 10_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    lock.release();
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
  });

  it("a stale lock of a dead pid is recovered", async () => {
    const target = join(dir, "d.yaml");
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout);
    writeFileSync(
      lockPathOf(target),
      JSON.stringify({
        pid: deadPid,
        command: "keyfleet set",
        started: "2026-01-01T00:00:00Z",
        host: hostname(),
        token: "old",
      }),
    );
    const lock = await acquireFileLock(target, { timeoutMs: 2_000 });
    expect(readLockHolder(lock.path)?.pid).toBe(process.pid);
    lock.release();
    expect(readdirSync(dir).filter((f) => f.startsWith(".d.yaml"))).toEqual([]);
  });

  it("a lock of a live process on another host is never taken over", async () => {
    const target = join(dir, "e.yaml");
    writeFileSync(
      lockPathOf(target),
      JSON.stringify({ pid: 1, command: "keyfleet set", started: "x", host: "some-other-host", token: "o" }),
    );
    await expect(acquireFileLock(target, { timeoutMs: 150 })).rejects.toThrow(
      /locked by pid 1 \(keyfleet set\) since x on some-other-host/,
    );
    expect(readLockHolder(lockPathOf(target))?.token).toBe("o");
  });

  it("release leaves a lock that is no longer its own", async () => {
    const target = join(dir, "f.yaml");
    const lock = await acquireFileLock(target);
    writeFileSync(
      lock.path,
      JSON.stringify({ pid: 2, command: "other", started: "x", host: hostname(), token: "theirs" }),
    );
    lock.release();
    expect(readLockHolder(lockPathOf(target))?.token).toBe("theirs");
    rmSync(lockPathOf(target));
  });

  it("withFileLock serialises async critical sections in one process", async () => {
    const target = join(dir, "g.yaml");
    const order: string[] = [];
    const section = (n: string) =>
      withFileLock(target, async () => {
        order.push(`${n}+`);
        await new Promise((r) => setTimeout(r, 30));
        order.push(`${n}-`);
      });
    await Promise.all([section("1"), section("2"), section("3")]);
    for (let i = 0; i < order.length; i += 2) expect(order[i]?.slice(0, 1)).toBe(order[i + 1]?.slice(0, 1));
  });

  it("withFileLocks takes several locks and releases them all, also on error", async () => {
    const a = join(dir, "h1.yaml");
    const b = join(dir, "h2.yaml");
    await expect(
      withFileLocks([b, a, a], () => {
        expect(existsSync(lockPathOf(a)) && existsSync(lockPathOf(b))).toBe(true);
        throw new Error("inside");
      }),
    ).rejects.toThrow("inside");
    expect(existsSync(lockPathOf(a)) || existsSync(lockPathOf(b))).toBe(false);
  });

  it("a read-only directory gives a clear error", async () => {
    if (process.getuid?.() === 0) return; // root writes anywhere
    const ro = join(dir, "ro");
    spawnSync("mkdir", ["-m", "0555", ro]);
    await expect(acquireFileLock(join(ro, "x.yaml"))).rejects.toThrow(
      /cannot create the lock file .*ro\/\.x\.yaml\.keyfleet-lock/,
    );
  });
});

describe("compare-and-swap", () => {
  it("passes for the version read and refuses a changed or newly created file", () => {
    const target = join(dir, "cas.yaml");
    expect(fileVersion(target)).toBeNull();
    expect(() => assertUnchanged(target, null)).not.toThrow();
    writeFileSync(target, "one");
    expect(() => assertUnchanged(target, null)).toThrow(FileChangedError);
    const v = fileVersion(target);
    expect(() => assertUnchanged(target, v)).not.toThrow();
    writeFileSync(target, "two");
    expect(() => assertUnchanged(target, v)).toThrow(
      /cas\.yaml changed while this command was working on it; nothing was written/,
    );
    expect(readFileSync(target, "utf8")).toBe("two");
  });
});
