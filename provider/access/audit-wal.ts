/**
 * Write-ahead records for the audit log: an access change is recorded BEFORE the file it changes is
 * written, and completed (appended to the audit log) after, so that no failure between the two loses
 * it.
 *
 * A writer calls {@link writeAhead} with the audit entries and the sha256 the file will have, then
 * writes the file, then {@link complete}s the record: its entries go to the audit log and the record
 * is removed. When the process dies (or the write throws) in between, the record stays in
 * `<audit log dir>/audit-wal/`; the next writer of that file calls {@link recoverPending} first: if
 * the file has the recorded sha256 (the change landed) the entries are appended to the log then; if
 * it still has the sha256 from before (nothing landed) the record is dropped, and the run that
 * follows makes and records the change itself.
 */
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";
import { readBoundedFile } from "../fs/read-bounded.js";
import { appendAudit, type AuditEntry } from "./audit-log.js";

/** One pending access change. */
export interface WalRecord {
  /** Random id (also the record's file name). */
  id: string;
  /** The sops file, as the audit entries name it. */
  file: string;
  /** sha256 of the file before the change (null: it did not exist). */
  before: string | null;
  /** sha256 the file has once the change landed. */
  after: string;
  /** The audit entries to append once it did. */
  entries: AuditEntry[];
}

/** At most this many records are read per pass (a bound on a hostile directory). */
const MAX_RECORDS = 100_000;

function walDir(auditLog: string, baseDir: string): string {
  return join(dirname(resolve(baseDir, auditLog)), "audit-wal");
}

/** Records `entries` ahead of the file change; returns the record to {@link complete} after it. */
export function writeAhead(auditLog: string, r: Omit<WalRecord, "id">, baseDir: string = process.cwd()): WalRecord {
  const rec: WalRecord = { id: `${Date.now()}-${randomBytes(6).toString("hex")}`, ...r };
  const dir = walDir(auditLog, baseDir);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, `${rec.id}.json`), JSON.stringify(rec) + "\n", { mode: 0o644 });
  return rec;
}

/** Appends the record's entries to the audit log, then removes the record. */
export function complete(auditLog: string, rec: WalRecord, baseDir: string = process.cwd()): void {
  for (const e of rec.entries) appendAudit(auditLog, e, baseDir);
  rmSync(join(walDir(auditLog, baseDir), `${rec.id}.json`), { force: true });
}

/** Pending records of `file` (oldest first); unreadable records are skipped. */
export function pendingFor(auditLog: string, file: string, baseDir: string = process.cwd()): WalRecord[] {
  return readRecords(walDir(auditLog, baseDir)).filter((r) => r.file === file);
}

/** Largest record read (a record holds one file's audit entries). */
const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * The records in `dir`, oldest first, at most {@link MAX_RECORDS}. Each is read bounded
 * (provider/fs readBoundedFile: no link, FIFO, device or oversized file is read, nothing blocks);
 * unreadable or malformed ones are skipped: a record being written (created in place) or cut short
 * by a kill, or not ours to judge.
 */
function readRecords(dir: string): WalRecord[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch {
    return [];
  }
  const out: WalRecord[] = [];
  for (const n of names.slice(0, MAX_RECORDS)) {
    const bytes = readBoundedFile(join(dir, n), { maxBytes: MAX_RECORD_BYTES });
    if (!bytes) continue;
    try {
      const r = JSON.parse(bytes.toString("utf8")) as WalRecord;
      // the id is the record's own file name, never what its content says: settling removes `<id>.json`
      if (r && typeof r.file === "string" && Array.isArray(r.entries))
        out.push({ ...r, id: n.slice(0, -".json".length) });
    } catch {
      // cut short by a kill, or not a record
    }
  }
  return out;
}

/**
 * Settles one pending record given its file's current sha256 (null: absent): a change that landed
 * is appended to the audit log; one that did not (the file is still as before) is dropped; a file
 * changed again since most likely had the change land and then an edit over it, so the trail is
 * kept. Returns whether it was appended.
 */
export function settle(
  auditLog: string,
  r: WalRecord,
  current: string | null,
  baseDir: string = process.cwd(),
): boolean {
  if (current === r.before && current !== r.after) {
    drop(auditLog, r, baseDir);
    return false;
  }
  complete(auditLog, r, baseDir);
  return true;
}

/** Removes a record without logging it: its change did not land. */
export function drop(auditLog: string, r: WalRecord, baseDir: string = process.cwd()): void {
  rmSync(join(walDir(auditLog, baseDir), `${r.id}.json`), { force: true });
}

/**
 * Settles the pending records of `file` given its current sha256 (null: absent), as {@link settle}
 * does for each. Returns the records appended.
 */
export function recoverPending(
  auditLog: string,
  file: string,
  current: string | null,
  baseDir: string = process.cwd(),
): WalRecord[] {
  return pendingFor(auditLog, file, baseDir).filter((r) => settle(auditLog, r, current, baseDir));
}

/**
 * Records many changes ahead at once, for a writer of many files: one record file each, created in
 * place (O_EXCL, written, fsynced; no temp, no sweep of the directory per record, so n records cost
 * O(n)). A record cut short by a kill does not parse and is skipped, and then the rename of its
 * file had not happened either.
 */
export function writeAheadMany(
  auditLog: string,
  rs: readonly Omit<WalRecord, "id">[],
  baseDir: string = process.cwd(),
): WalRecord[] {
  if (rs.length === 0) return [];
  const dir = walDir(auditLog, baseDir);
  mkdirSync(dir, { recursive: true });
  const stem = `${Date.now()}-${randomBytes(6).toString("hex")}`;
  return rs.map((r, i) => {
    const rec: WalRecord = { id: `${stem}-${String(i).padStart(6, "0")}`, ...r };
    const fd = openSync(
      join(dir, `${rec.id}.json`),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    try {
      writeSync(fd, JSON.stringify(rec) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return rec;
  });
}

/** Whether any record waits beside `auditLog` (one directory read). */
export function hasPending(auditLog: string, baseDir: string = process.cwd()): boolean {
  try {
    return readdirSync(walDir(auditLog, baseDir)).some((n) => n.endsWith(".json"));
  } catch {
    return false;
  }
}

/**
 * Settles, in one pass over the records directory, the pending records of the files named in
 * `files` (a writer holding their locks); `shaOf` gives a file's current sha256 (null: absent) and
 * is asked only for files that have records. Returns the records appended.
 */
export function recoverPendingOf(
  auditLog: string,
  files: ReadonlySet<string>,
  shaOf: (file: string) => string | null,
  baseDir: string = process.cwd(),
): WalRecord[] {
  const landed: WalRecord[] = [];
  const shas = new Map<string, string | null>();
  for (const r of readRecords(walDir(auditLog, baseDir))) {
    if (!files.has(r.file)) continue;
    let sha = shas.get(r.file);
    if (sha === undefined) shas.set(r.file, (sha = shaOf(r.file)));
    if (settle(auditLog, r, sha, baseDir)) landed.push(r);
  }
  return landed;
}
