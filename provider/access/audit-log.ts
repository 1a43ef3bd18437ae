/**
 * The audit trail: one JSON line per change keyfleet makes to a file. Never values.
 *
 * Each line is appended with a single write on a file opened with O_APPEND, so concurrent
 * writers never interleave within a line.
 */
import { closeSync, fstatSync, mkdirSync, openSync, writeSync, constants } from "node:fs";
import { KeyfleetError } from "../errors";
import { dirname, resolve } from "node:path";
import { readBoundedFile } from "../fs/read-bounded.js";
import type { FingerprintedRecipient } from "./names";
import type { Exposure } from "./exposure";

/** Default audit log path, relative to the project directory. */
export const DEFAULT_AUDIT_LOG = ".keyfleet/audit.jsonl";

/** What happened to a file. */
export type AuditOperation =
  | "create"
  | "adopt"
  | "add-recipients"
  | "rotate"
  | "set-values"
  | "rewrap-rules"
  | "delete"
  | "forget"
  | "exposed"
  | "move";

/**
 * Keyed digests of the values still to rotate, under the file's data key after the operation
 * (provider/access/pending.ts). Safe to commit: nobody without the data key can test a guess.
 */
export interface PendingDigests {
  /** Short non-secret id of the data key the digests are keyed with. */
  readonly dataKeyId: string;
  /** Dotted key name → keyed digest of its value (secret-file-digests valueDigest). */
  readonly digests: Record<string, string>;
  /** Keys found rotated since the last record (their value changed outside keyfleet). */
  readonly cleared?: string[];
}

/** One line of the audit log. */
export interface AuditEntry {
  /** ISO-8601 time of the change. */
  readonly time: string;
  /** The file, as the user wrote its path. */
  readonly file: string;
  /** The operation. */
  readonly operation: AuditOperation;
  /** Recipients given access (names, keys, fingerprints). */
  readonly recipientsAdded: FingerprintedRecipient[];
  /** Recipients whose access was removed. */
  readonly recipientsRemoved: FingerprintedRecipient[];
  /** Key names whose values were set or changed (never the values). */
  readonly keysChanged: string[];
  /** Of `keysChanged`, the keys that are new (present only when the writer tells them apart, as edit does). */
  readonly keysAdded?: string[];
  /** Key names removed from the file (present only when given). */
  readonly keysRemoved?: string[];
  /** What removed recipients could read before the rotation. */
  readonly exposure: Exposure[];
  /** Who made the change: "keyfleet" plus the tool front (provider, cli). */
  readonly by: string;
  /** Why (`--reason TEXT` of set, rotate, updatekeys, exposed; later push and provision). */
  readonly reason?: string;
  /** The person: git `user.name <user.email>`, else `$USER`. */
  readonly actor?: string;
  /** Digests of the values pending rotation after this operation (see provider/access/pending.ts). */
  readonly pending?: PendingDigests;
  /** `move`: the path the file was moved from (its bytes, data key and recipients unchanged). */
  readonly movedFrom?: string;
  /** `move`: true when the old file was kept (a copy: the resource's `deleteFileOnDestroy` is false). */
  readonly oldKept?: boolean;
}

/** Which front made a change (the `by` of an entry). */
export type AuditFront = "provider" | "cli";

/** The parts of an entry a caller may give; the rest default to empty lists. */
export type AuditDetails = Partial<
  Pick<
    AuditEntry,
    | "recipientsAdded"
    | "recipientsRemoved"
    | "keysChanged"
    | "keysAdded"
    | "keysRemoved"
    | "exposure"
    | "reason"
    | "actor"
    | "pending"
    | "movedFrom"
    | "oldKept"
  >
>;

/**
 * The one builder of audit entries: time now, `by` from the front, every list present (empty
 * unless given).
 */
export function auditEntry(
  file: string,
  operation: AuditOperation,
  front: AuditFront,
  details: AuditDetails = {},
): AuditEntry {
  return {
    time: new Date().toISOString(),
    file,
    operation,
    recipientsAdded: [...(details.recipientsAdded ?? [])],
    recipientsRemoved: [...(details.recipientsRemoved ?? [])],
    keysChanged: [...(details.keysChanged ?? [])],
    ...(details.keysAdded ? { keysAdded: [...details.keysAdded] } : {}),
    ...(details.keysRemoved ? { keysRemoved: [...details.keysRemoved] } : {}),
    exposure: [...(details.exposure ?? [])],
    by: `keyfleet ${front}`,
    ...(details.actor ? { actor: details.actor } : {}),
    ...(details.reason ? { reason: details.reason } : {}),
    ...(details.pending ? { pending: details.pending } : {}),
    ...(details.movedFrom !== undefined ? { movedFrom: details.movedFrom } : {}),
    ...(details.oldKept ? { oldKept: true } : {}),
  };
}

/**
 * Appends one entry as one line to the audit log at `logPath` (relative to `baseDir`), creating
 * its directory. One `write` call per line on an O_APPEND descriptor.
 */
export function appendAudit(logPath: string, entry: AuditEntry, baseDir: string = process.cwd()): void {
  const abs = resolve(baseDir, logPath);
  mkdirSync(dirname(abs), { recursive: true });
  const line = JSON.stringify(entry) + "\n";
  const notRegular = (cause?: unknown): KeyfleetError =>
    new KeyfleetError("WRITE_FAILED", `the audit log ${logPath} is not a regular file; nothing was appended`, {
      file: logPath,
      hint: "remove it (keyfleet creates it again) or point auditLog at a regular file",
      ...(cause === undefined ? {} : { cause }),
    });
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted there fails at once (ENXIO) instead of waiting for a reader
    fd = openSync(abs, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENXIO") throw notRegular(e);
    throw e;
  }
  try {
    // a link to a device (/dev/null) or a FIFO would swallow the entry: refuse, the caller's record stays
    if (!fstatSync(fd).isFile()) throw notRegular();
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
}

/** Upper bound on how much of an audit log is read back (names lookup). */
const MAX_READ = 8 * 1024 * 1024;

/**
 * Reads the entries of an audit log; missing file → []. Malformed lines are skipped (the log is
 * append-only and a reader must not fail on a line another version wrote).
 */
export function readAudit(logPath: string, baseDir: string = process.cwd()): AuditEntry[] {
  const abs = resolve(baseDir, logPath);
  // a log that is not a regular file (a link to /dev/zero, a FIFO) or too large reads as empty, never hangs
  const bytes = readBoundedFile(abs, { maxBytes: MAX_READ, followLinks: true });
  if (!bytes) return [];
  const text = bytes.toString("utf8");
  const out: AuditEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const e = JSON.parse(line) as AuditEntry;
      if (e && typeof e === "object" && typeof e.file === "string") out.push(e);
    } catch {
      // skip a malformed line
    }
  }
  return out;
}

/** Recipient → the last name the audit log gave it (for naming recipients that leave). */
export function namesFromAudit(entries: AuditEntry[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of entries)
    for (const r of e.recipientsAdded ?? []) if (r && r.recipient && r.name) names.set(r.recipient, r.name);
  return names;
}
