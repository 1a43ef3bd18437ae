/**
 * Pending rotations of one file, by key name only: for the SecretFile `pendingRotations` output
 * and the preview warning. Reads the audit log; never decrypts (the caller passes the file's
 * current digests when it already has them).
 */
import { normalize } from "node:path";
import { DEFAULT_AUDIT_LOG, readAudit, type AuditEntry } from "./audit-log";
import { computePending, type CurrentDigests, type PendingRotation } from "./pending";

/** A path as the log and the resources compare it (`./a/b.yaml` and `a/b.yaml` are one file). */
function same(p: string): string {
  return normalize(p);
}

/** Entries with their paths normalised, so CLI and provider spellings of a file meet. */
function normalised(entries: readonly AuditEntry[]): AuditEntry[] {
  return entries.map((e) =>
    e && typeof e.file === "string"
      ? { ...e, file: same(e.file), ...(typeof e.movedFrom === "string" ? { movedFrom: same(e.movedFrom) } : {}) }
      : e,
  );
}

/**
 * The rotations pending for `file` after `entries`; `current` (the file's digests now, when known)
 * clears those whose value changed, as the CLI decides.
 */
export function pendingOfFile(
  entries: readonly AuditEntry[],
  file: string,
  o: { current?: CurrentDigests; now?: Date } = {},
): PendingRotation[] {
  const f = same(file);
  return computePending(normalised(entries), {
    ...(o.now ? { now: o.now } : {}),
    current: (x) => (x === f ? o.current : undefined),
  }).filter((p) => p.file === f);
}

/** Key names (sorted, unique) pending rotation for `file`. */
export function pendingKeysOfFile(entries: readonly AuditEntry[], file: string, current?: CurrentDigests): string[] {
  return [...new Set(pendingOfFile(entries, file, current ? { current } : {}).map((p) => p.key))].sort();
}

/** Who a rotation is pending for, in words: `bob lost access`, `marked by hand`. */
function cause(p: PendingRotation): string {
  const lost = p.exposedTo.filter((n) => n !== "marked by hand");
  const parts = lost.length > 0 ? [`${lost.join(", ")} lost access`] : [];
  if (lost.length < p.exposedTo.length) parts.push("marked exposed by hand");
  return parts.join(" and ");
}

/**
 * The preview warning for the file at `path` (relative to `baseDir`), or "" when nothing is
 * pending: `secrets/app.yaml: rotation pending for DB_PASSWORD (12 days, since bob lost access);
 * change these values`. Names and ages only, from the audit log. Never throws.
 */
export function pendingWarning(o: { path: string; auditLog?: string; baseDir?: string; now?: Date }): string {
  try {
    const pending = pendingOfFile(
      readAudit(o.auditLog ?? DEFAULT_AUDIT_LOG, o.baseDir ?? process.cwd()),
      o.path,
      o.now ? { now: o.now } : {},
    );
    if (pending.length === 0) return "";
    const items = pending.map(
      (p) =>
        `${p.key} (${p.days} day${p.days === 1 ? "" : "s"}, since ${cause(p)}${p.reason ? `; reason: ${p.reason}` : ""})`,
    );
    return `${o.path}: rotation pending for ${items.join(", ")}; change these values`;
  } catch {
    return "";
  }
}
