/**
 * The sha256 of a SecretFile's text as diff compares it with `fileSha256`, remembered per provider
 * process by the file's identity: (dev, ino, size, mtime, ctime), in nanoseconds. A preview
 * diffs every file once per run, and a long-lived provider process diffs the same files again;
 * an unchanged file then costs one `stat` instead of open + read + hash.
 *
 * A cached digest never hides a change:
 * - any rename over the file (every keyfleet and sops write) gives it a new inode;
 * - any write in place sets ctime to the time of the write, which no program can set back;
 * - a digest is remembered only when the file's mtime and ctime are older than
 *   {@link shaCacheTuning}.racyMs at the time of its `stat` (git's "racy clean" rule): a write in
 *   the same clock tick as an earlier one could keep every field the same, but it then lands
 *   within that window, so the digest of such a recent file is recomputed on every call.
 * Only digests of encrypted text are kept, never any text or value.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync, type BigIntStats } from "node:fs";

/** The identity of a file's content as `stat` reports it, with its digest. */
interface Entry {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  sha256: string;
}

const cache = new Map<string, Entry>();
/** Bound on remembered files; the cache is cleared when full. */
const MAX_ENTRIES = 20_000;

/**
 * Tuning and counters, for tests: `racyMs` is how old mtime and ctime must be for a digest to be
 * remembered (default 2,000 ms, far above any file system's timestamp tick); `reads` counts the
 * files read and hashed, `hits` the digests answered from the cache.
 */
export const shaCacheTuning = { racyMs: 2_000, reads: 0, hits: 0 };

/** Forgets every remembered digest (tests; the provider process never needs it). */
export function clearShaCache(): void {
  cache.clear();
}

function same(e: Entry, st: BigIntStats): boolean {
  return (
    e.dev === st.dev && e.ino === st.ino && e.size === st.size && e.mtimeNs === st.mtimeNs && e.ctimeNs === st.ctimeNs
  );
}

function absent(e: unknown): boolean {
  // ENOTDIR: a parent is a file, so the file does not exist either (creating it reports why)
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * sha256 hex of the file at the absolute path `abs`, or undefined when there is no file.
 * @throws the read error for anything but a missing file (EISDIR, EACCES, …)
 */
export function fileSha256(abs: string): string | undefined {
  let st: BigIntStats;
  try {
    st = statSync(abs, { bigint: true });
  } catch (e) {
    if (absent(e)) {
      cache.delete(abs);
      return undefined;
    }
    throw e;
  }
  const hit = cache.get(abs);
  if (hit !== undefined && st.isFile() && same(hit, st)) {
    shaCacheTuning.hits++;
    return hit.sha256;
  }
  cache.delete(abs);
  let text: string;
  try {
    text = readFileSync(abs, "utf8"); // as diff read it before: the digest of the decoded text
  } catch (e) {
    if (absent(e)) return undefined;
    throw e;
  }
  shaCacheTuning.reads++;
  const sha256 = createHash("sha256").update(text).digest("hex");
  // the stat came before the read: a change in between has a newer ctime than the stat holds, so
  // the next call misses; a file changed within racyMs of the stat is not remembered at all
  const settled = BigInt(Date.now() - shaCacheTuning.racyMs) * 1_000_000n;
  if (st.isFile() && st.mtimeNs < settled && st.ctimeNs < settled) {
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(abs, { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, sha256 });
  }
  return sha256;
}
