/**
 * Atomic writes of many files at once. Phase 1 writes and fsyncs every temp file (temp in the
 * file's own directory, created with the final mode), many in flight on the libuv threadpool so the
 * filesystem journal can group the fsyncs; phase 2 renames each temp over its file; phase 3 fsyncs
 * each distinct directory once. Each file ends up either old or new, never partial: on an error in
 * phase 1 no file is touched and every temp is removed; on an error in phase 2 the files already
 * renamed are new, the rest stay old, and the remaining temps are removed. Temps are 0600 while
 * their content is written; the final mode (the target's own) is set once the temp is complete, just
 * before it is fsynced and renamed. They are named as in atomic.ts, so a killed batch's temps are
 * removed by the next write into their directory.
 */
import { constants, promises as fsp } from "node:fs";
import { dirname, resolve } from "node:path";
import { KeyfleetError } from "../errors.js";
import { sweepDeadTemps, tempPathFor } from "./atomic.js";
import { FsArgumentError, FsWriteError } from "./errors.js";

/** One file to write. `mode` defaults to the existing file's mode, else 0600. */
export interface AtomicEntry {
  path: string;
  data: string | Uint8Array;
  mode?: number;
}

/** Test hooks (throw to simulate a crash at that point). */
export interface BatchWriteHooks {
  /** After a temp file is written and fsynced, before it is closed. */
  afterTempWritten?: (path: string, tempPath: string) => void;
  /** Before the temp for `path` is renamed over it (`index` counts renames). */
  beforeRename?: (path: string, index: number) => void;
}

/** Options for writeFilesAtomic. */
export interface BatchWriteOptions {
  /** Temp files written and fsynced at the same time (default 16). */
  concurrency?: number;
  hooks?: BatchWriteHooks;
}

function writeFailed(path: string, e: unknown): KeyfleetError {
  if (e instanceof KeyfleetError) return e;
  return new FsWriteError(path, e);
}

async function modeOf(path: string, mode: number | undefined): Promise<number> {
  if (mode !== undefined) return mode;
  try {
    return (await fsp.stat(path)).mode & 0o7777;
  } catch {
    return 0o600;
  }
}

async function writeTemp(
  e: AtomicEntry,
  temp: string,
  created: Set<string>,
  hooks: BatchWriteHooks | undefined,
): Promise<void> {
  const mode = await modeOf(e.path, e.mode);
  const fh = await fsp.open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  created.add(temp);
  try {
    const bytes = typeof e.data === "string" ? Buffer.from(e.data, "utf8") : e.data;
    await fh.writeFile(bytes);
    await fh.chmod(mode); // the final mode, exact (the creation mode is filtered by the umask)
    await fh.sync();
    hooks?.afterTempWritten?.(e.path, temp);
  } finally {
    await fh.close();
  }
}

async function removeAll(temps: Iterable<string>): Promise<void> {
  await Promise.all([...temps].map((t) => fsp.unlink(t).catch(() => undefined)));
}

/**
 * Writes every entry atomically (see the module comment for the guarantees on failure).
 * @throws FsArgumentError for duplicate paths or a bad concurrency; KeyfleetError WRITE_FAILED
 *   naming the first file that failed
 */
export async function writeFilesAtomic(entries: readonly AtomicEntry[], o: BatchWriteOptions = {}): Promise<void> {
  const conc = o.concurrency ?? 16;
  if (!Number.isInteger(conc) || conc < 1 || conc > 1024)
    throw new FsArgumentError(`concurrency must be an integer from 1 to 1024, got ${String(conc)}`, "pass e.g. 16");
  const seen = new Set<string>();
  for (const e of entries) {
    const abs = resolve(e.path);
    if (seen.has(abs)) throw new FsArgumentError(`${e.path} is listed twice`, "pass each file once", e.path);
    seen.add(abs);
  }
  for (const d of new Set(entries.map((e) => dirname(resolve(e.path))))) sweepDeadTemps(d);
  const temps = entries.map((e) => tempPathFor(e.path));
  const created = new Set<string>();
  let failure: { path: string; error: unknown } | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < entries.length) {
      const i = next++;
      const e = entries[i] as AtomicEntry;
      const temp = temps[i] as string;
      try {
        await writeTemp(e, temp, created, o.hooks);
      } catch (err) {
        failure ??= { path: e.path, error: err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, entries.length) }, worker));
  if (failure) {
    await removeAll(created);
    throw writeFailed(failure.path, failure.error);
  }
  const dirs = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as AtomicEntry;
    try {
      o.hooks?.beforeRename?.(e.path, i);
      await fsp.rename(temps[i] as string, e.path);
      created.delete(temps[i] as string);
      dirs.add(dirname(resolve(e.path)));
    } catch (err) {
      await removeAll(created);
      throw writeFailed(e.path, err);
    }
  }
  await Promise.all(
    [...dirs].map(async (d) => {
      try {
        const fh = await fsp.open(d, constants.O_RDONLY);
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      } catch {
        /* directory fsync is best effort (not supported on every filesystem) */
      }
    }),
  );
}
