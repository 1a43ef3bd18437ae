/**
 * Re-keying many files at once: every file is read and re-keyed in memory first; only if all of them
 * succeed are the changed ones written, together, with `writeFilesAtomic` (grouped fsyncs, one
 * directory fsync per directory). So a failed multi-file re-key writes nothing, and an interrupted
 * write leaves each file either old or new, each decryptable.
 */
import { promises as fsp } from "node:fs";
import { recipientDelta, type AgeIdentity, type AgeRecipient } from "../age/index.js";
import {
  assertUnchanged,
  textVersion,
  withFileLocks,
  writeFilesAtomic,
  type AtomicEntry,
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
  /** The file's text after the update (the text read when not rewritten). */
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
  /** Files read, and temp files written, at the same time (default 16). */
  concurrency?: number;
  hooks?: BatchWriteHooks;
  /** Hears each file as it is re-keyed in memory (`done` of `total`), for a progress line. */
  onProgress?: (done: number, total: number) => void;
  /** The caller already holds the lock of every file (provider/fs lock). Default: false, the files are locked here. */
  locked?: boolean;
  /** Recorded as the lock holder's command. Default: the process's script and verb. */
  command?: string;
}

/**
 * `updateRecipients` for many files (additions keep the data key; any removal rotates), then one
 * batched atomic write of the files that changed. All files are held in memory until written.
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
  const paths = files.map((f) => (typeof f === "string" ? f : f.path));
  const conc = o.concurrency ?? 16;
  const texts: string[] = files.map((f) => (typeof f === "string" ? "" : f.text));
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      if (typeof files[i] === "string") texts[i] = await fsp.readFile(paths[i] as string, "utf8");
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(conc, files.length)) }, reader));
  const results: RecipientsUpdate[] = [];
  const writes: AtomicEntry[] = [];
  for (let i = 0; i < paths.length; i++) {
    const file = paths[i] as string;
    const format = typeof o.format === "function" ? o.format(file) : (o.format ?? formatFromPath(file));
    const recipients = typeof o.recipients === "function" ? o.recipients(file) : o.recipients;
    const force = o.forceRotate?.(file) === true;
    const one = { format, identities: o.identities, recipients, file, stores: o.stores?.(file) ?? {} };
    const r = force
      ? { ...(await rotateAndDelta(texts[i] as string, one)), rotated: true }
      : await updateRecipients(texts[i] as string, one);
    const written = force || r.added.length > 0 || r.removed.length > 0;
    if (written) writes.push({ path: file, data: r.text });
    results.push({
      file,
      format,
      added: r.added,
      removed: r.removed,
      rotated: r.rotated,
      written,
      text: written ? r.text : (texts[i] as string),
    });
    o.onProgress?.(i + 1, paths.length);
  }
  for (const w of writes) assertUnchanged(w.path, textVersion(texts[paths.indexOf(w.path)] as string));
  await writeFilesAtomic(writes, { concurrency: o.concurrency, hooks: o.hooks });
  return results;
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
