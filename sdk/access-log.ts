/**
 * The preview audit: during program evaluation each SecretFile logs who gains and who loses access,
 * computed from the sops metadata on disk (no decryption) and the resolved recipient list.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { listKeys, readMetadata, formatFromPath, type SopsFormat } from "../provider/sops";
import {
  computeAccessChange,
  formatAccessChange,
  hasAccessChange,
  type AccessChange,
} from "../provider/access/access-change";
import { namesFromAudit, readAudit, DEFAULT_AUDIT_LOG } from "../provider/access/audit-log";
import type { NamedRecipient } from "../provider/access/names";

export { computeAccessChange, formatAccessChange, hasAccessChange, type AccessChange };

/**
 * The access change for the file at `path` (relative to `baseDir`) if it got `desired`
 * recipients. Reads the file's metadata and key names only; names recipients that leave from
 * the audit log when it knows them.
 */
export function accessChangeOnDisk(o: {
  path: string;
  desired: readonly NamedRecipient[];
  format?: SopsFormat;
  auditLog?: string;
  baseDir?: string;
}): AccessChange {
  const baseDir = o.baseDir ?? process.cwd();
  const format = o.format ?? formatFromPath(o.path);
  let text: string | undefined;
  try {
    text = readFileSync(resolve(baseDir, o.path), "utf8");
  } catch {
    text = undefined;
  }
  if (text === undefined)
    return computeAccessChange({ file: o.path, current: undefined, desired: o.desired, keys: [] });
  return computeAccessChange({
    file: o.path,
    current: readMetadata(text, format, o.path).recipients,
    desired: o.desired,
    keys: listKeys(text, format, o.path),
    knownNames: namesFromAudit(readAudit(o.auditLog ?? DEFAULT_AUDIT_LOG, baseDir)),
  });
}

/**
 * The summary to log for a file, or "" when nothing changes. Never throws (a log must not break a
 * program). `planned` are hosts pinned by expected fingerprint whose key is read only at up: each
 * gets `+ web-3 (host key SHA256:…, read at up) gains access`, and is not counted as leaving.
 */
export function accessSummary(
  o: Parameters<typeof accessChangeOnDisk>[0] & { planned?: readonly { name: string; fingerprint: string }[] },
): string {
  try {
    const planned = o.planned ?? [];
    const full = accessChangeOnDisk(o);
    const c = { ...full, loses: full.loses.filter((l) => !planned.some((p) => p.name === l.name)) };
    const lines = hasAccessChange(c) ? [formatAccessChange(c)] : [];
    for (const p of planned) lines.push(`${o.path}: + ${p.name} (host key ${p.fingerprint}, read at up) gains access`);
    return lines.join("\n");
  } catch (e) {
    return `${o.path}: cannot read the current recipients (${e instanceof Error ? e.message : String(e)})`;
  }
}
