/**
 * The CLI's file writes and their audit entries, with no kill between the two able to lose an
 * entry: each entry is recorded ahead (provider/access/audit-wal, `.keyfleet/audit-wal/`) before the
 * file is written, appended to the audit log after, and its record removed. A writer killed in
 * between leaves the record; the next writer of that file (any keyfleet verb, or the SecretFile
 * provider) settles it under the file's lock: appended if the file has the new text, dropped if it
 * still has the old one. An audit entry of a change that did not land is never written.
 */
import { readFileSync } from "node:fs";
import {
  complete,
  drop,
  hasPending,
  recoverPendingOf,
  settle,
  writeAheadMany,
  type WalRecord,
} from "../provider/access/audit-wal";
import { DEFAULT_AUDIT_LOG } from "../provider/access/audit-log";
import { textVersion } from "../provider/fs";
import { auditPath, prepareChange, type AuditBatch, type CliChange } from "./audit-trail";
import { projectDir } from "./recipient-names";

/** One file change to log: what changed in `change.file`, and that file's versions around the write. */
export interface LoggedChange {
  change: CliChange;
  /** The file's version before (provider/fs textVersion, the sha256 hex of its bytes); null: it did not exist. */
  before: string | null;
  /** Its version once written. */
  after: string;
}

/** Changes recorded ahead of their write: complete them after it, or settle them if it failed. */
export interface AheadOfWrite {
  /** After the write: appends every entry to its audit log and removes the records; the exposure messages, in order. */
  complete(): string[];
  /** After a write that wrote nothing: removes the records. */
  drop(): void;
  /** After a write that threw: each record is appended if its file has the new text, else removed. */
  settle(): void;
}

/** The current sha256 of `file` (null: absent or unreadable). */
function shaOf(file: string): string | null {
  try {
    return textVersion(readFileSync(file));
  } catch {
    return null;
  }
}

/**
 * Records `changes` ahead of writing them (one fsynced record file each, created in place), after
 * settling what killed writers left for the same files. Call with the files' locks held, before the
 * first rename.
 */
export function logAhead(changes: readonly LoggedChange[], batch?: AuditBatch): AheadOfWrite {
  // what an earlier, killed writer of these files recorded ahead is settled first (the caller holds their locks)
  settleLoggedAhead(
    changes.map((c) => c.change.file),
    batch,
  );
  const prepared = changes.map((c) => ({ c, p: prepareChange(c.change, batch) }));
  const byDir = new Map<string, typeof prepared>();
  for (const x of prepared) {
    const l = byDir.get(x.p.dir);
    if (l) l.push(x);
    else byDir.set(x.p.dir, [x]);
  }
  const records: { rec: WalRecord; dir: string; file: string; message: string }[] = [];
  for (const [dir, xs] of byDir) {
    const rs = xs.map(({ c, p }) => ({
      file: p.rel,
      before: c.before,
      after: c.after,
      entries: [p.entry],
    }));
    const recs = writeAheadMany(DEFAULT_AUDIT_LOG, rs, dir);
    recs.forEach((rec, i) => {
      const x = xs[i] as (typeof xs)[number];
      records.push({ rec, dir, file: x.c.change.file, message: x.p.message });
    });
  }
  return {
    complete() {
      for (const r of records) complete(DEFAULT_AUDIT_LOG, r.rec, r.dir);
      return prepared.map((x) => x.p.message);
    },
    drop() {
      for (const r of records) drop(DEFAULT_AUDIT_LOG, r.rec, r.dir);
    },
    settle() {
      for (const r of records) settle(DEFAULT_AUDIT_LOG, r.rec, shaOf(r.file), r.dir);
    },
  };
}

/**
 * Writes with the audit entries recorded ahead: `write` returns false when it wrote nothing (then
 * the records go), throws on failure (then each is settled by its file's text) or returns normally
 * (then the entries are appended). Returns the exposure messages, or undefined when nothing was written.
 */
export async function writeLogged(
  changes: readonly LoggedChange[],
  write: () => boolean | void | Promise<boolean | void>,
  batch?: AuditBatch,
): Promise<string[] | undefined> {
  const ahead = logAhead(changes, batch);
  let wrote: boolean | void;
  try {
    wrote = await write();
  } catch (e) {
    ahead.settle();
    throw e;
  }
  if (wrote === false) {
    ahead.drop();
    return undefined;
  }
  return ahead.complete();
}

/**
 * Settles what killed writers recorded ahead for `files` (a writer holding their locks), in one pass
 * per project: a change that landed gets its audit entry now, one that did not is forgotten.
 */
export function settleLoggedAhead(files: readonly string[], batch?: AuditBatch): void {
  const byProject = new Map<string, Map<string, string>>();
  for (const f of files) {
    const dir = batch ? batch.projectDir(f) : projectDir(f);
    let m = byProject.get(dir);
    if (!m) byProject.set(dir, (m = new Map()));
    m.set(auditPath(f, batch), f);
  }
  for (const [dir, names] of byProject)
    recoverPendingOf(DEFAULT_AUDIT_LOG, new Set(names.keys()), (name) => shaOf(names.get(name) as string), dir);
}

/** Whether a killed writer left anything recorded ahead in the projects of `files` (one directory read each). */
export function hasLoggedAhead(files: readonly string[], batch?: AuditBatch): boolean {
  const dirs = new Set(files.map((f) => (batch ? batch.projectDir(f) : projectDir(f))));
  return [...dirs].some((d) => hasPending(DEFAULT_AUDIT_LOG, d));
}
