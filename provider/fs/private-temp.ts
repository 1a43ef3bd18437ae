/**
 * Private temp directories for plaintext that must sit in a file for a while (`keyfleet edit` hands
 * the decrypted file to an editor).
 *
 * - The base is `$XDG_RUNTIME_DIR` or `/dev/shm` when that is a memory filesystem (tmpfs/ramfs), so
 *   plaintext never reaches a disk; otherwise the system temp directory.
 * - Each run gets a directory of its own, mode 0700, created with `mkdir` (fails if the name exists,
 *   so nobody can plant a symlink or a directory there first); files in it are created 0600 with
 *   O_EXCL.
 * - The directory name carries the owner's pid and process start time
 *   (`keyfleet-edit.<pid>.<start>.<random>`). A later run removes directories of runs that are gone
 *   (pid dead, or reused by a newer process), so a run killed outright (SIGKILL) leaves nothing behind
 *   for long. Only directories owned by the current user are ever touched.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsWriteError } from "./errors.js";

/** statfs magic numbers of memory filesystems (linux/magic.h). */
const MEMORY_FS = new Set([0x01021994 /* tmpfs */, 0x858458f6 /* ramfs */]);

/** True when `dir` is a writable directory on tmpfs or ramfs. */
export function isMemoryDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) return false;
    return MEMORY_FS.has(Number(statfsSync(dir).type));
  } catch {
    return false;
  }
}

/**
 * Where private temp directories go: `$XDG_RUNTIME_DIR` or `/dev/shm` when on a memory filesystem,
 * else `os.tmpdir()`. `memory` says whether plaintext stays off disk.
 */
export function privateTempBase(env: Record<string, string | undefined> = process.env): {
  dir: string;
  memory: boolean;
} {
  const xdg = env["XDG_RUNTIME_DIR"];
  if (xdg && xdg.startsWith("/") && isMemoryDir(xdg)) return { dir: xdg, memory: true };
  if (isMemoryDir("/dev/shm")) return { dir: "/dev/shm", memory: true };
  return { dir: tmpdir(), memory: false };
}

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined when gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Name prefix of the directories made by {@link makePrivateDir} for `purpose`. */
function prefixOf(purpose: string): string {
  return `keyfleet-${purpose}.`;
}

const NAME = /^(\d{1,10})\.(\d{1,20}|x)\.[0-9a-f]{8,32}$/;

/** True when the process that made a directory named `<pid>.<start>.<rand>` is still running. */
function ownerAlive(pid: number, start: string): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = processStartTime(pid);
  // without /proc the start time is unknown: a live pid counts as the owner
  return start === "x" || now === undefined || now === start;
}

/**
 * Removes the private directories for `purpose` in `base` whose owner process is gone. Returns the
 * removed paths. Touches only directories of the current user with the expected name.
 */
export function sweepPrivateDirs(base: string, purpose: string): string[] {
  const prefix = prefixOf(purpose);
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const n of names.slice(0, 10_000)) {
    if (!n.startsWith(prefix)) continue;
    const m = NAME.exec(n.slice(prefix.length));
    if (!m) continue;
    const path = join(base, n);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (ownerAlive(Number(m[1]), m[2] as string)) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // raced with its owner or another sweeper: nothing to do
    }
  }
  return removed;
}

/** A private directory of this process; remove it exactly once (removing twice is harmless). */
export interface PrivateDir {
  /** The directory (mode 0700). */
  readonly path: string;
  /** True when it is on a memory filesystem. */
  readonly memory: boolean;
  /** Writes a new 0600 file `name` in the directory (O_EXCL) and returns its path. */
  write(name: string, data: string | Uint8Array): string;
  /** Removes the directory and everything in it. */
  remove(): void;
}

/**
 * Sweeps dead runs' directories, then makes this run's own 0700 directory for `purpose`.
 * @throws FsWriteError when the directory cannot be made
 */
export function makePrivateDir(purpose: string, env: Record<string, string | undefined> = process.env): PrivateDir {
  const { dir: base, memory } = privateTempBase(env);
  sweepPrivateDirs(base, purpose);
  const path = join(
    base,
    `${prefixOf(purpose)}${process.pid}.${processStartTime(process.pid) ?? "x"}.${randomBytes(4).toString("hex")}`,
  );
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    throw new FsWriteError(path, e);
  }
  let gone = false;
  return {
    path,
    memory,
    write(name, data) {
      if (name.includes("/") || name === "" || name === "." || name === "..")
        throw new FsWriteError(join(path, name), new Error("bad temp file name"));
      const file = join(path, name);
      const bytes =
        typeof data === "string"
          ? Buffer.from(data, "utf8")
          : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      let fd: number | undefined;
      try {
        fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        fchmodSync(fd, 0o600);
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      } catch (e) {
        throw new FsWriteError(file, e);
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
      return file;
    },
    remove() {
      if (gone) return;
      gone = true;
      rmSync(path, { recursive: true, force: true });
    },
  };
}
