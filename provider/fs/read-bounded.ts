/**
 * Reading the small files keyfleet keeps beside a project (the audit log, its write-ahead records,
 * claim records) from a directory that a hostile repository or another user may have filled: never
 * blocking and never reading without end.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/**
 * Reads a regular file of at most `maxBytes`. Opened with O_NONBLOCK, so a FIFO fails at once
 * instead of waiting for a writer, and (unless `followLinks`) with O_NOFOLLOW; a device, a directory,
 * a FIFO or a larger file is not read.
 * @returns the bytes; undefined when nothing is there (ENOENT, ENOTDIR); null when something else is
 *   there (not a regular file, a link where none is followed, too large, unreadable)
 */
export function readBoundedFile(
  path: string,
  o: { maxBytes: number; followLinks?: boolean },
): Buffer | undefined | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (o.followLinks ? 0 : constants.O_NOFOLLOW));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? undefined : null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > o.maxBytes) return null;
    // the size read first bounds the read even if the file grows meanwhile
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
