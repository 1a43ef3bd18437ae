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
import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";
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
  const dir = walDir(auditLog, baseDir);
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch {
    return [];
  }
  const out: WalRecord[] = [];
  for (const n of names.slice(0, 10_000)) {
    try {
      const r = JSON.parse(readFileSync(join(dir, n), "utf8")) as WalRecord;
      if (r.file === file && Array.isArray(r.entries)) out.push(r);
    } catch {
      // a record being written (atomic, so only a foreign file) or damaged: not ours to judge
    }
  }
  return out;
}

/**
 * Settles the pending records of `file` given its current sha256 (null: absent): a change that
 * landed is appended to the audit log; one that did not is dropped. Returns the records appended.
 */
export function recoverPending(
  auditLog: string,
  file: string,
  current: string | null,
  baseDir: string = process.cwd(),
): WalRecord[] {
  const landed: WalRecord[] = [];
  for (const r of pendingFor(auditLog, file, baseDir)) {
    if (current !== null && current === r.after) {
      complete(auditLog, r, baseDir);
      landed.push(r);
    } else if (current === r.before) {
      rmSync(join(walDir(auditLog, baseDir), `${r.id}.json`), { force: true });
    } else {
      // the file changed again since: the change most likely landed and was edited over; keep the trail
      complete(auditLog, r, baseDir);
      landed.push(r);
    }
  }
  return landed;
}
