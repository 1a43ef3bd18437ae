/**
 * Re-keying many files at once: each file is read, re-keyed and its new text staged as a temp file
 * (fsynced, beside it) by a bounded pool of workers, so memory holds a few files at a time, not the
 * batch; only if every file succeeds are the temps renamed over their files (provider/fs
 * `stageFilesAtomic`: one directory fsync per directory). So a failed multi-file re-key writes
 * nothing, and an interrupted write leaves each file either old or new, each decryptable.
 */
import { promises as fsp } from "node:fs";
import { recipientDelta, type AgeIdentity, type AgeRecipient } from "../age/index.js";
import {
  assertUnchanged,
  checkConcurrency,
  stageFilesAtomic,
  textVersion,
  withFileLocks,
  type BatchWriteHooks,
} from "../fs/index.js";
import {
  formatFromPath,
  readMetadata,
  rotate,
  SopsArgumentError,
  updateRecipients,
  type SopsFormat,
  type StoreOptions,
} from "../sops/index.js";

/** What happened to one file. */
export interface RecipientsUpdate {
  file: string;
  format: SopsFormat;
  added: string[];
  removed: string[];
  rotated: boolean;
  /** False when the file already had exactly these recipients (not rewritten). */
  written: boolean;
  /** The file's text after the update (the text read when not rewritten); "" when `keepText` is false. */
  text: string;
}

/** A file to re-key: its path, or its path and the text already read (then it is not read again). */
export type RekeyFile = string | { readonly path: string; readonly text: string };

/** Options for updateRecipientsMany. */
export interface UpdateManyOptions {
  identities: AgeIdentity[];
  /** The wanted recipients, the same for every file or per file. */
  recipients: AgeRecipient[] | ((file: string) => AgeRecipient[]);
  /** Format of every file, or per file; default: from each file's extension. */
  format?: SopsFormat | ((file: string) => SopsFormat);
  /**
   * Files whose data key must be rotated even when the recipient set is unchanged, e.g. when an
   * entry's recipient label cannot be trusted (default: none).
   */
  forceRotate?: (file: string) => boolean;
  /** Store options (`.sops.yaml` `stores:` indents) per file (default: none, sops's defaults). */
  stores?: (file: string) => StoreOptions;
  /** Reads a file given by path (default: fs readFile as UTF-8), e.g. to throw the caller's typed error. */
  readText?: (file: string) => string | Promise<string>;
  /** Files read, and temp files written, at the same time (default 16). */
  concurrency?: number;
  hooks?: BatchWriteHooks;
  /** Hears each file as it is re-keyed and staged (`done` of `total`, counting up), for a progress line. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Sees each file's update (its `text` always set) and the text it was made from, before anything is
   * written, e.g. to prepare an audit record; a throw fails the batch (nothing is written).
   */
  onFile?: (update: RecipientsUpdate, before: string) => Promise<void> | void;
  /**
   * Keep each file's new text in the results (default true). False: results carry `text: ""` and no
   * file's text stays in memory once staged, for batches of thousands of files.
   */
  keepText?: boolean;
  /**
   * Runs after every file is staged and checked unchanged, just before the renames, with the
   * updates that will be written (e.g. to record their audit entries ahead); a throw writes nothing.
   */
  beforeCommit?: (written: readonly RecipientsUpdate[]) => Promise<void> | void;
  /** The caller already holds the lock of every file (provider/fs lock). Default: false, the files are locked here. */
  locked?: boolean;
  /** Recorded as the lock holder's command. Default: the process's script and verb. */
  command?: string;
}

/**
 * `updateRecipients` for many files (additions keep the data key; any removal rotates), then one
 * batched atomic write of the files that changed. At most `concurrency` files are in memory at once
 * (their new texts wait as fsynced temp files); results keep each new text unless `keepText` is false.
 * Every file is locked (unless `locked`) from before it is read until after it is written, and must
 * still be the text that was re-keyed right before the write (compare-and-swap).
 * @throws the first file's error (NoIdentityError, MacMismatchError, SopsParseError, …) before
 *   anything is written; KeyfleetError WRITE_FAILED from the write phase; LockTimeoutError;
 *   FileChangedError when a file changed after it was read (nothing is written then)
 */
export async function updateRecipientsMany(
  files: readonly RekeyFile[],
  o: UpdateManyOptions,
): Promise<RecipientsUpdate[]> {
  const paths = Array.isArray(files)
    ? files.map((f) => (typeof f === "string" ? f : f?.path)).filter((p): p is string => typeof p === "string")
    : [];
  if (o.locked === true) return rekeyMany(files, o);
  return withFileLocks(paths, () => rekeyMany(files, o), o.command !== undefined ? { command: o.command } : {});
}

async function rekeyMany(files: readonly RekeyFile[], o: UpdateManyOptions): Promise<RecipientsUpdate[]> {
  if (
    !Array.isArray(files) ||
    files.some((f) => !(typeof f === "string" ? f : f?.path) || (typeof f === "object" && typeof f.text !== "string"))
  ) {
    throw new SopsArgumentError(
      "files must be a list of paths (or { path, text } entries)",
      'pass e.g. ["secrets/a.yaml"]',
    );
  }
  const conc = o.concurrency ?? 16;
  checkConcurrency(conc);
  const total = files.length;
  const results: RecipientsUpdate[] = new Array<RecipientsUpdate>(total);
  /** Version (sha256) of the text each written file was re-keyed from, for the compare-and-swap. */
  const versions: (string | undefined)[] = new Array<string | undefined>(total);
  const batch = stageFilesAtomic(o.hooks ? { hooks: o.hooks } : {});
  const failures: { i: number; error: unknown }[] = [];
  let next = 0;
  let done = 0;
  // bounded pool: at most `conc` files in memory; indices are taken in order, so once one fails,
  // every earlier file has been tried and the lowest failing index is the batch's first error
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < total) {
      const i = next++;
      try {
        const r = await rekeyOne(files[i] as RekeyFile, o);
        if (r.written) {
          versions[i] = textVersion(r.before);
          await batch.stage({ path: r.update.file, data: r.update.text }, i);
        }
        results[i] = o.keepText === false ? { ...r.update, text: "" } : r.update;
        o.onProgress?.(++done, total);
      } catch (error) {
        failures.push({ i, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(conc, total)) }, worker));
  if (failures.length) {
    await batch.abort();
    throw failures.reduce((a, b) => (b.i < a.i ? b : a)).error;
  }
  try {
    for (let i = 0; i < total; i++) {
      const v = versions[i];
      if (v !== undefined) assertUnchanged((results[i] as RecipientsUpdate).file, v);
    }
    await o.beforeCommit?.(results.filter((r) => r.written));
  } catch (e) {
    await batch.abort();
    throw e;
  }
  await batch.commit();
  return results;
}

/** Reads (unless given) and re-keys one file in memory; hands it to `onFile`. */
async function rekeyOne(
  f: RekeyFile,
  o: UpdateManyOptions,
): Promise<{ update: RecipientsUpdate; before: string; written: boolean }> {
  const file = typeof f === "string" ? f : f.path;
  const before = typeof f === "string" ? await (o.readText ? o.readText(file) : fsp.readFile(file, "utf8")) : f.text;
  const format = typeof o.format === "function" ? o.format(file) : (o.format ?? formatFromPath(file));
  const recipients = typeof o.recipients === "function" ? o.recipients(file) : o.recipients;
  const force = o.forceRotate?.(file) === true;
  const one = { format, identities: o.identities, recipients, file, stores: o.stores?.(file) ?? {} };
  const r = force ? { ...(await rotateAndDelta(before, one)), rotated: true } : await updateRecipients(before, one);
  const written = force || r.added.length > 0 || r.removed.length > 0;
  const update: RecipientsUpdate = {
    file,
    format,
    added: r.added,
    removed: r.removed,
    rotated: r.rotated,
    written,
    text: written ? r.text : before,
  };
  await o.onFile?.(update, before);
  return { update, before, written };
}

/** Rotates one file's data key for `recipients`, reporting the recipient delta as updateRecipients does. */
async function rotateAndDelta(
  text: string,
  o: { format: SopsFormat; identities: AgeIdentity[]; recipients: AgeRecipient[]; file: string; stores: StoreOptions },
): Promise<{ text: string; added: string[]; removed: string[] }> {
  const current = readMetadata(text, o.format, o.file).recipients;
  const delta = recipientDelta(current, o.recipients.map(String));
  return { text: await rotate(text, o), added: delta.added, removed: delta.removed.map(String) };
}
