/**
 * Pending rotations on the provider's side: the `pending` digests its audit entries record (as
 * the CLI's writes do, so its pending entries are verified and clear when the value changes) and
 * the `pendingRotations` output (key names only).
 */
import { decryptWithDataKey, type SopsFormat } from "../sops";
import { currentDigests, pendingDigests } from "../access/pending";
import type { PendingDigests } from "../access/audit-log";

/**
 * The `pending` detail of an audit entry for `text` (the file after that entry's step), keyed with
 * `dataKey`: the digests of `keys` (the keys pending before plus those exposed now), and the keys
 * this step rotated (`cleared`: keyfleet itself set a new value). Nothing when
 * there is nothing to record or the data key is unknown; a file that does not open with the key
 * records nothing here (the digest step after it reports why).
 */
export function pendingDetail(
  text: string,
  format: SopsFormat,
  file: string,
  dataKey: Uint8Array | undefined,
  keys: Iterable<string>,
  cleared: readonly string[] = [],
): { pending?: PendingDigests } {
  const wanted = [...new Set(keys)];
  if (!dataKey || (wanted.length === 0 && cleared.length === 0)) return {};
  try {
    const d = decryptWithDataKey(text, format, dataKey, { file });
    const p = pendingDigests(currentDigests(d.dataKey, d.leaves), wanted, cleared);
    return p ? { pending: p } : {};
  } catch {
    return {};
  }
}
