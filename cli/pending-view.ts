/**
 * Pending rotations as the CLI sees them: the project's audit log, checked against the current
 * files that the user's identities open (decrypted in memory for their keyed digests only).
 */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { AgeIdentity } from "../provider/age";
import {
  currentDigests,
  computePending,
  overdue,
  pendingDigests,
  type CurrentDigests,
  type PendingRotation,
} from "../provider/access/pending";
import type { Finding } from "../provider/access/scan/scan";
import { DEFAULT_AUDIT_LOG, readAudit, type AuditEntry, type PendingDigests } from "../provider/access/audit-log";
import { decrypt, decryptWithDataKey, formatFromPath, type SopsFormat } from "../provider/sops";

/** Digests of a file now, or undefined when it cannot be read or opened. */
export async function digestsOfFile(
  abs: string,
  identities: AgeIdentity[] | undefined,
): Promise<CurrentDigests | undefined> {
  if (!identities?.length) return undefined;
  try {
    if (statSync(abs).size > 16 * 1024 * 1024) return undefined;
    const d = await decrypt(readFileSync(abs, "utf8"), { format: formatFromPath(abs), identities, file: abs });
    return currentDigests(d.dataKey, d.leaves);
  } catch {
    return undefined;
  }
}

/** Pending rotations of the project at `root` (files relative to it, as in the audit log). */
export async function pendingNow(
  root: string,
  identities: AgeIdentity[] | undefined,
  now?: Date,
): Promise<PendingRotation[]> {
  const entries = readAudit(DEFAULT_AUDIT_LOG, root);
  const files = new Set(entries.filter((e) => (e.exposure ?? []).length > 0).map((e) => e.file));
  const cur = new Map<string, CurrentDigests | undefined>();
  for (const f of files) cur.set(f, await digestsOfFile(resolve(root, f), identities));
  return computePending(entries, { ...(now ? { now } : {}), current: (f) => cur.get(f) });
}

/** `age in days` line for one pending rotation. */
export function formatPending(p: PendingRotation): string {
  const age = `${p.days} day${p.days === 1 ? "" : "s"}`;
  return `${p.file} ${p.key}: pending rotation for ${age} (since ${p.since.slice(0, 10)}; readable by ${p.exposedTo.join(", ")}${p.reason ? `; reason: ${p.reason}` : ""})${p.checked ? "" : " [unverified]"}`;
}

/** Scan findings for rotations pending more than `maxDays` days. */
export async function pendingFindings(
  root: string,
  maxDays: number,
  identities: AgeIdentity[] | undefined,
): Promise<Finding[]> {
  return overdue(await pendingNow(root, identities), maxDays).map((p) => ({
    rule: "pending" as const,
    path: p.file,
    key: p.key,
    message: `${p.key} has been pending rotation for ${p.days} days (more than ${maxDays}); rotate the value`,
  }));
}

/** A project's audit log read once for many {@link cliPendingDigests} calls: entries and pending items by file. */
export interface PendingLog {
  readonly entries: readonly AuditEntry[];
  readonly byFile: ReadonlyMap<string, readonly PendingRotation[]>;
}

/** Reads the audit log of the project at `root` and replays it once (see {@link PendingLog}). */
export function readPendingLog(root: string): PendingLog {
  const entries = readAudit(DEFAULT_AUDIT_LOG, root);
  const byFile = new Map<string, PendingRotation[]>();
  for (const p of computePending(entries)) {
    const list = byFile.get(p.file);
    if (list) list.push(p);
    else byFile.set(p.file, [p]);
  }
  return { entries, byFile };
}

/**
 * The `pending` field of an audit entry written by the CLI: the digests, under the file's data key
 * after the write, of every key pending before it plus `exposedNow`; keys found rotated before the
 * write are listed as cleared. `dataKey` is the data key after the write when the caller knows it.
 */
export async function cliPendingDigests(o: {
  root: string;
  file: string;
  format: SopsFormat;
  /** The file before the write: pending keys whose value it shows changed are recorded as cleared. */
  textBefore?: string;
  textAfter: string;
  identities: AgeIdentity[] | undefined;
  dataKey?: Uint8Array;
  exposedNow?: readonly string[];
  /** The project's log read once already (many files in one command); default: read it now. */
  log?: PendingLog;
}): Promise<PendingDigests | undefined> {
  const entries = o.log ? o.log.entries : readAudit(DEFAULT_AUDIT_LOG, o.root);
  const byLog = o.log ? (o.log.byFile.get(o.file) ?? []) : computePending(entries).filter((p) => p.file === o.file);
  if (byLog.length === 0 && !o.exposedNow?.length) return undefined;
  let cleared: string[] = [];
  if (o.textBefore !== undefined && o.identities?.length && byLog.length) {
    let now: CurrentDigests | undefined;
    try {
      const d = await decrypt(o.textBefore, { format: o.format, identities: o.identities, file: o.file });
      now = currentDigests(d.dataKey, d.leaves);
    } catch {
      now = undefined;
    }
    if (now) {
      const still = new Set(
        computePending(entries, { current: (f) => (f === o.file ? now : undefined) })
          .filter((p) => p.file === o.file)
          .map((p) => p.key),
      );
      cleared = byLog.map((p) => p.key).filter((k) => !still.has(k));
    }
  }
  const keys = new Set([...byLog.map((p) => p.key).filter((k) => !cleared.includes(k)), ...(o.exposedNow ?? [])]);
  let after: CurrentDigests | undefined;
  try {
    if (o.dataKey) {
      const d = decryptWithDataKey(o.textAfter, o.format, o.dataKey, { file: o.file });
      after = currentDigests(d.dataKey, d.leaves);
    } else if (o.identities?.length) {
      const d = await decrypt(o.textAfter, { format: o.format, identities: o.identities, file: o.file });
      after = currentDigests(d.dataKey, d.leaves);
    }
  } catch {
    after = undefined;
  }
  if (!after) return undefined;
  return pendingDigests(after, keys, cleared);
}
