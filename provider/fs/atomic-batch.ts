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

/** Removes the temps, 16 at a time (a batch may hold thousands). */
async function removeAll(temps: Iterable<string>): Promise<void> {
  const list = [...temps];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) await fsp.unlink(list[next++] as string).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(16, list.length) }, worker));
}

/** @throws FsArgumentError unless `conc` is an integer from 1 to 1024 */
export function checkConcurrency(conc: number): void {
  if (!Number.isInteger(conc) || conc < 1 || conc > 1024)
    throw new FsArgumentError(`concurrency must be an integer from 1 to 1024, got ${String(conc)}`, "pass e.g. 16");
}

/**
 * A batch written in two steps, for callers that produce the files one by one and must not hold them
 * all in memory: `stage` writes and fsyncs each file's temp as soon as its data is ready (phase 1),
 * `commit` renames every temp over its file and fsyncs each directory once (phases 2 and 3), `abort`
 * removes every temp. Same guarantees as {@link writeFilesAtomic}; nothing is touched before commit.
 */
export interface StagedBatch {
  /**
   * Writes the temp of `e` (swept directory, final mode, fsynced). `seq` orders the renames (default:
   * staging order). After a failed stage, call abort.
   * @throws FsArgumentError for a path staged twice; KeyfleetError WRITE_FAILED naming the file
   */
  stage(e: AtomicEntry, seq?: number): Promise<void>;
  /** Renames the staged temps in `seq` order, then fsyncs each directory. @throws WRITE_FAILED naming the file */
  commit(): Promise<void>;
  /** Removes every temp staged so far (files stay old). */
  abort(): Promise<void>;
}

/** Fsyncs each directory once, concurrently (best effort: not supported on every filesystem). */
async function fsyncDirs(dirs: Iterable<string>): Promise<void> {
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

/** Starts a {@link StagedBatch}. */
export function stageFilesAtomic(o: { hooks?: BatchWriteHooks } = {}): StagedBatch {
  const seen = new Set<string>();
  const swept = new Set<string>();
  const created = new Set<string>();
  const staged: { path: string; temp: string; seq: number }[] = [];
  let count = 0;
  return {
    async stage(e, seq) {
      const abs = resolve(e.path);
      if (seen.has(abs)) throw new FsArgumentError(`${e.path} is listed twice`, "pass each file once", e.path);
      seen.add(abs);
      const dir = dirname(abs);
      if (!swept.has(dir)) {
        swept.add(dir);
        sweepDeadTemps(dir);
      }
      const temp = tempPathFor(e.path);
      const order = seq ?? count;
      count++;
      try {
        await writeTemp(e, temp, created, o.hooks);
      } catch (err) {
        throw writeFailed(e.path, err);
      }
      staged.push({ path: e.path, temp, seq: order });
    },
    async commit() {
      staged.sort((a, b) => a.seq - b.seq);
      const dirs = new Set<string>();
      for (let i = 0; i < staged.length; i++) {
        const s = staged[i] as { path: string; temp: string };
        try {
          o.hooks?.beforeRename?.(s.path, i);
          await fsp.rename(s.temp, s.path);
          created.delete(s.temp);
          dirs.add(dirname(resolve(s.path)));
        } catch (err) {
          await removeAll(created);
          throw writeFailed(s.path, err);
        }
      }
      await fsyncDirs(dirs);
    },
    async abort() {
      await removeAll(created);
      created.clear();
    },
  };
}

/**
 * Writes every entry atomically (see the module comment for the guarantees on failure).
 * @throws FsArgumentError for duplicate paths or a bad concurrency; KeyfleetError WRITE_FAILED
 *   naming the first file that failed
 */
export async function writeFilesAtomic(entries: readonly AtomicEntry[], o: BatchWriteOptions = {}): Promise<void> {
  const conc = o.concurrency ?? 16;
  checkConcurrency(conc);
  const seen = new Set<string>();
  for (const e of entries) {
    const abs = resolve(e.path);
    if (seen.has(abs)) throw new FsArgumentError(`${e.path} is listed twice`, "pass each file once", e.path);
    seen.add(abs);
  }
  const batch = stageFilesAtomic(o.hooks ? { hooks: o.hooks } : {});
  let failure: unknown;
  let failed = false;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!failed && next < entries.length) {
      const i = next++;
      try {
        await batch.stage(entries[i] as AtomicEntry, i);
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, entries.length) }, worker));
  if (failed) {
    await batch.abort();
    throw failure;
  }
  await batch.commit();
}
