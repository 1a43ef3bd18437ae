/** Atomic local file writes: temp file in the same directory, mode set at creation, fsync, rename, fsync dir. */
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { FsWriteError } from "./errors.js";
import { assertUnchanged, FileChangedError } from "./lock.js";

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
export function writeFileAtomic(path: string, data: string | Uint8Array, o: { mode?: number; hooks?: AtomicWriteHooks; expect?: string | null } = {}): void {
  const dir = dirname(path);
  let mode = o.mode;
  if (mode === undefined) {
    try {
      mode = statSync(path).mode & 0o7777;
    } catch {
      mode = 0o600;
    }
  }
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    fchmodSync(fd, mode); // the creation mode is filtered by the umask; the file keeps its exact mode
    let off = 0;
    while (off < bytes.length) {
      off += writeSync(fd, bytes, off, Math.min(1 << 20, bytes.length - off));
      o.hooks?.afterWrite?.(tmp, off);
    }
    if (bytes.length === 0) o.hooks?.afterWrite?.(tmp, 0);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (o.expect !== undefined) assertUnchanged(path, o.expect);
    renameSync(tmp, path);
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
