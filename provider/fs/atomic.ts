/**
 * Atomic local file writes: temp file in the same directory (mode 0600 for as long as it exists; the
 * final mode is set through the descriptor just after the rename), fsync, rename, fsync dir.
 *
 * Temps are named `.NAME.kf-<pid>-<start>-<rand>.tmp`, where `<start>` is the writer's start time
 * (clock ticks since boot, /proc/<pid>/stat field 22). A write into a directory first removes the
 * temps of writers that are dead (no such pid, or a pid reused by a process that started at another
 * time), so plaintext left by a killed command does not outlive the next command.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { FsWriteError } from "./errors.js";
import { assertUnchanged, FileChangedError } from "./lock.js";

/** Start time of process `pid` (clock ticks since boot), "0" where /proc is not available, undefined when it is not running. */
export function processStart(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return "0";
    try {
      process.kill(pid, 0);
      return "0"; // running, start time unknown
    } catch (k) {
      return (k as NodeJS.ErrnoException).code === "EPERM" ? "0" : undefined;
    }
  }
  // the command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? "0";
}

let selfStart: string | undefined;

/** A fresh temp path next to `path`, named after this process (see the module comment). */
export function tempPathFor(path: string): string {
  selfStart ??= processStart(process.pid) ?? "0";
  return join(dirname(path), `.${basename(path)}.kf-${process.pid}-${selfStart}-${randomBytes(6).toString("hex")}.tmp`);
}

const TEMP_RE = /^\..+\.kf-(\d{1,10})-(\d{1,20})-[0-9a-f]{12}\.tmp$/;
/** Most directory entries looked at by one sweep. */
const MAX_SWEEP_ENTRIES = 100_000;

/**
 * Removes the temps in `dir` left by writers that are no longer running (a live writer's temps,
 * and this process's, are kept). Best effort: never throws. Returns the names removed.
 */
export function sweepDeadTemps(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const alive = new Map<string, boolean>();
  for (const name of names.slice(0, MAX_SWEEP_ENTRIES)) {
    const m = TEMP_RE.exec(name);
    if (!m) continue;
    const [, pid, start] = m as unknown as [string, string, string];
    let live = alive.get(`${pid}-${start}`);
    if (live === undefined) {
      const now = Number(pid) === process.pid ? (selfStart ?? processStart(process.pid)) : processStart(Number(pid));
      // "0": start time unknown (no /proc); a running pid then counts as the writer
      live = now !== undefined && (now === start || now === "0" || start === "0");
      alive.set(`${pid}-${start}`, live);
    }
    if (live) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
}

/** Test hook: called after each chunk is written to the temp file (throw to simulate a crash). */
export interface AtomicWriteHooks {
  afterWrite?: (tempPath: string, written: number) => void;
}

/**
 * Writes `data` to `path` atomically: readers see the old file or the new one, never a partial one.
 * The mode defaults to the existing file's mode, else 0600. On error the temp file is removed.
 * With `expect` (a {@link fileVersion} / {@link textVersion}, null for "absent"), the file must still
 * be that version right before the rename (compare-and-swap), else nothing is written.
 * @throws FsWriteError (`WRITE_FAILED`) naming the path; FileChangedError when `expect` does not match
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  o: { mode?: number; hooks?: AtomicWriteHooks; expect?: string | null } = {},
): void {
  const dir = dirname(path);
  let mode = o.mode;
  if (mode === undefined) {
    try {
      mode = statSync(path).mode & 0o7777;
    } catch {
      mode = 0o600;
    }
  }
  sweepDeadTemps(dir);
  const tmp = tempPathFor(path);
  const bytes =
    typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let fd: number | undefined;
  try {
    // 0600 while it holds data; O_NOFOLLOW + O_EXCL: never someone else's file or link
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let off = 0;
    while (off < bytes.length) {
      off += writeSync(fd, bytes, off, Math.min(1 << 20, bytes.length - off));
      o.hooks?.afterWrite?.(tmp, off);
    }
    if (bytes.length === 0) o.hooks?.afterWrite?.(tmp, 0);
    fsyncSync(fd);
    if (o.expect !== undefined) assertUnchanged(path, o.expect);
    renameSync(tmp, path);
    // the final mode, exact (the creation mode is filtered by the umask), set through the descriptor
    // after the rename: the temp is 0600 for as long as it exists (a kill in between leaves the
    // new file 0600, narrower than asked, never wider)
    fchmodSync(fd, mode);
    closeSync(fd);
    fd = undefined;
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* temp may not exist */
    }
    if (e instanceof FileChangedError) throw e;
    throw new FsWriteError(path, e);
  }
  try {
    const dfd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* directory fsync is best effort (not supported on every filesystem) */
  }
}
