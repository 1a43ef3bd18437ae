/**
 * One writer at a time per file: an exclusive lock file beside the target, and a compare-and-swap
 * check before the rename.
 *
 * - The lock is `.<name>.keyfleet-lock` in the target's directory, created with O_EXCL (so exactly
 *   one process wins) and holding JSON `{ pid, command, started, host, token }`: who holds it.
 * - A waiting writer polls with a growing pause, tells `onWait` once who holds the lock, and gives up
 *   after `timeoutMs` with a {@link LockTimeoutError} naming the holder and the lock file.
 * - A lock whose pid is dead on this host (or was reused by a process started later) is stale and is
 *   recovered; recovery itself is serialised by a short-lived `.recover` lock so that two waiters never
 *   remove a fresh lock by mistake.
 * - {@link assertUnchanged} is the compare-and-swap: the file must still be the one the writer read
 *   (same sha256, or still absent), else {@link FileChangedError}. Writers call it right before the
 *   rename, so a writer that does not take the lock (an editor, `sops edit`) is never overwritten.
 *
 * The lock is advisory: every keyfleet writer of a sops file takes it (CLI verbs, the SecretFile
 * provider, the batch re-key).
 */
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  constants,
} from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { KeyfleetError } from "../errors.js";

/** What a lock file records about its holder. No secrets: the command is the program and its verb. */
export interface LockHolder {
  /** Process id of the holder. */
  pid: number;
  /** The holder's command, e.g. `keyfleet set` or `pulumi SecretFile secrets/app.yaml`. */
  command: string;
  /** When the lock was taken (ISO 8601). */
  started: string;
  /** Host name of the holder (a pid is only checked on the same host). */
  host: string;
  /** The holder process's start time (Linux clock ticks since boot), to tell a reused pid apart. */
  procStart?: string;
  /** Random token, so a holder removes only its own lock. */
  token: string;
}

/** Options of {@link acquireFileLock} and {@link withFileLock}. */
export interface LockOptions {
  /** Give up after this long. Default: `KEYFLEET_LOCK_TIMEOUT_MS` from the environment, else 30,000 ms. */
  timeoutMs?: number;
  /** Recorded as the holder's command. Default: the script's base name and its first argument (`keyfleet set`). */
  command?: string;
  /** Called once when the lock is busy, with its holder (the CLI prints who it waits for). Default: none. */
  onWait?: (holder: LockHolder | undefined, lockFile: string) => void;
}

/** A held lock; release it exactly once (releasing twice is harmless). */
export interface FileLock {
  /** The lock file path. */
  readonly path: string;
  /** What this lock records. */
  readonly holder: LockHolder;
  /** Removes the lock file if it is still this lock. */
  release(): void;
}

/** The lock stayed busy for the whole timeout. */
export class LockTimeoutError extends KeyfleetError {
  /** Who held it when the waiter gave up (undefined when unreadable). */
  readonly holder: LockHolder | undefined;
  constructor(target: string, lockFile: string, holder: LockHolder | undefined, waitedMs: number) {
    super(
      "LOCK_TIMEOUT",
      `${target} is locked by ${holder ? describeHolder(holder) : "an unknown process"}; gave up after ${Math.round(waitedMs / 100) / 10} s`,
      {
        file: target,
        hint: `wait for that command to finish and retry, or remove ${lockFile} if that process is gone (raise KEYFLEET_LOCK_TIMEOUT_MS to wait longer)`,
      },
    );
    this.holder = holder;
  }
}

/** The file changed between the writer's read and its rename (compare-and-swap failed). */
export class FileChangedError extends KeyfleetError {
  constructor(target: string) {
    super("FILE_CHANGED", `${target} changed while this command was working on it; nothing was written`, {
      file: target,
      hint: "another program wrote the file meanwhile; run the command again",
    });
  }
}

/** `pid 123 (keyfleet set) since 2026-…` */
export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} (${h.command}) since ${h.started}${h.host !== hostname() ? ` on ${h.host}` : ""}`;
}

/** The lock file of `target`: `.<name>.keyfleet-lock` beside it. */
export function lockPathOf(target: string): string {
  return join(dirname(target), `.${basename(target)}.keyfleet-lock`);
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** A lock file still empty after this long was left by a writer that died between create and write. */
const EMPTY_LOCK_STALE_MS = 5_000;
/** A recovery lock older than this was left by a waiter that died while recovering (recovery takes microseconds). */
const RECOVER_STALE_MS = 10_000;

function defaultCommand(): string {
  const script = process.argv[1] ? basename(process.argv[1]).replace(/\.js$/, "") : basename(process.execPath);
  const verb = process.argv[2] && /^[a-z][a-z-]{0,30}$/.test(process.argv[2]) ? ` ${process.argv[2]}` : "";
  return `${script === "main" ? "keyfleet" : script}${verb}`;
}

/** The start time of `pid` (field 22 of /proc/<pid>/stat), or undefined where /proc is absent. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by someone else
  }
}

/** Reads a lock file; undefined when it is absent, empty or not a lock record. */
export function readLockHolder(lockFile: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(lockFile, "utf8");
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== "number" || typeof v.token !== "string") return undefined;
    return {
      pid: v.pid,
      command: String(v.command ?? "?"),
      started: String(v.started ?? "?"),
      host: String(v.host ?? "?"),
      token: v.token,
      ...(typeof v.procStart === "string" ? { procStart: v.procStart } : {}),
    };
  } catch {
    return undefined;
  }
}

/** True when the holder is a process of this host that no longer runs (or whose pid now names a newer process). */
function isStale(h: LockHolder | undefined, lockFile: string): boolean {
  if (!h) {
    try {
      return Date.now() - statSync(lockFile).mtimeMs > EMPTY_LOCK_STALE_MS;
    } catch {
      return false; // gone: the next attempt creates it
    }
  }
  if (h.host !== hostname()) return false;
  if (!pidAlive(h.pid)) return true;
  const now = procStart(h.pid);
  return h.procStart !== undefined && now !== undefined && now !== h.procStart;
}

/** Creates `file` exclusively with `text`; false when it exists. */
function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes a stale lock, once: under a `.recover` lock, re-reads the lock and removes it only if it is
 * still the same stale record (another waiter may have recovered it and taken a fresh lock meanwhile).
 */
function recoverStale(lockFile: string, seen: LockHolder | undefined): void {
  const guard = `${lockFile}.recover`;
  try {
    if (Date.now() - statSync(guard).mtimeMs > RECOVER_STALE_MS) unlinkSync(guard);
  } catch {
    // no guard, or someone else removed it
  }
  if (!createExclusive(guard, String(process.pid))) return;
  try {
    const now = readLockHolder(lockFile);
    const same = seen ? now?.token === seen.token : now === undefined;
    if (same && isStale(now, lockFile)) {
      // move it aside first: an unlink by name could hit a lock created after our read
      const aside = `${lockFile}.stale-${randomBytes(4).toString("hex")}`;
      renameSync(lockFile, aside);
      unlinkSync(aside);
    }
  } catch {
    // raced with the holder's own release: nothing to recover
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      /* already gone */
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lock of `target`, waiting while another live process holds it.
 * @throws LockTimeoutError after `timeoutMs`, naming the holder
 * @throws KeyfleetError LOCK_FAILED when the lock file cannot be created (e.g. a read-only directory)
 */
export async function acquireFileLock(target: string, o: LockOptions = {}): Promise<FileLock> {
  const lockFile = lockPathOf(target);
  const envTimeout = Number(process.env["KEYFLEET_LOCK_TIMEOUT_MS"]);
  const timeoutMs = o.timeoutMs ?? (Number.isFinite(envTimeout) && envTimeout > 0 ? envTimeout : DEFAULT_TIMEOUT_MS);
  const ps = procStart(process.pid);
  const holder: LockHolder = {
    pid: process.pid,
    command: o.command ?? defaultCommand(),
    started: new Date().toISOString(),
    host: hostname(),
    ...(ps !== undefined ? { procStart: ps } : {}),
    token: randomBytes(12).toString("hex"),
  };
  const text = JSON.stringify(holder) + "\n";
  const t0 = Date.now();
  let pause = 5;
  let told = false;
  // bounded: each pass sleeps at least 5 ms and the loop ends at the deadline
  for (;;) {
    try {
      if (createExclusive(lockFile, text)) return held(lockFile, holder);
    } catch (e) {
      throw new KeyfleetError("LOCK_FAILED", `cannot create the lock file ${lockFile}: ${(e as Error).message}`, {
        file: target,
        hint: "the directory must be writable by this user",
        cause: e,
      });
    }
    const current = readLockHolder(lockFile);
    if (isStale(current, lockFile)) {
      recoverStale(lockFile, current);
      continue;
    }
    const waited = Date.now() - t0;
    if (waited >= timeoutMs) throw new LockTimeoutError(target, lockFile, current, waited);
    if (!told) {
      told = true;
      o.onWait?.(current, lockFile);
    }
    await sleep(Math.min(pause, timeoutMs - waited));
    pause = Math.min(pause * 2, 100);
  }
}

function held(lockFile: string, holder: LockHolder): FileLock {
  let released = false;
  return {
    path: lockFile,
    holder,
    release() {
      if (released) return;
      released = true;
      if (readLockHolder(lockFile)?.token !== holder.token) return; // not ours any more: leave it
      try {
        unlinkSync(lockFile);
      } catch {
        /* already gone */
      }
    },
  };
}

/** Runs `fn` holding the lock of `target`; releases it however `fn` ends. */
export async function withFileLock<T>(target: string, fn: () => Promise<T> | T, o: LockOptions = {}): Promise<T> {
  const lock = await acquireFileLock(target, o);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Runs `fn` holding the locks of every target, taken in sorted order (no deadlock between two batches). */
export async function withFileLocks<T>(
  targets: readonly string[],
  fn: () => Promise<T> | T,
  o: LockOptions = {},
): Promise<T> {
  const sorted = [...new Set(targets)].sort();
  const locks: FileLock[] = [];
  try {
    for (const t of sorted) locks.push(await acquireFileLock(t, o));
    return await fn();
  } finally {
    for (const l of locks.reverse()) l.release();
  }
}

/** The identity a compare-and-swap compares: sha256 of the file's bytes, or null when it does not exist. */
export function fileVersion(target: string): string | null {
  if (!existsSync(target)) return null;
  return createHash("sha256").update(readFileSync(target)).digest("hex");
}

/** The version of text already read (so a writer need not read the file twice). */
export function textVersion(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The compare-and-swap check: `target` must still have version `expected` ({@link fileVersion}).
 * @throws FileChangedError when it differs
 */
export function assertUnchanged(target: string, expected: string | null): void {
  if (fileVersion(target) !== expected) throw new FileChangedError(target);
}
