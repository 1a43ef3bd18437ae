/**
 * Keyed digests of decrypted values: `HMAC-SHA256(HKDF(dataKey), label ‖ 0 ‖ value)` with a label
 * naming the key. Used by the SecretFile `valueDigests` output and by pending rotations; nobody
 * without the data key can test a guess against them.
 */
import { keyedDigest, type DecryptedLeaf } from "../sops";
import { keyName } from "./exposure";

/** Label under which value digests are keyed; versioned so a scheme change is visible. */
export const DIGEST_LABEL = "keyfleet secretfile value v1";

/** The bytes a leaf's digest covers: text for scalars (dates as ISO 8601), raw bytes for binary data. */
export function leafData(value: DecryptedLeaf["value"]): string | Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Keyed digest of one value under the name `key` (a dotted key name as in `keyNames`). */
export function valueDigest(dataKey: Uint8Array, key: string, value: string | Uint8Array): string {
  return keyedDigest(dataKey, `${DIGEST_LABEL} ${key}`, value);
}

/**
 * Key name → keyed digest for every leaf. A name shared by two leaves (a dotted top-level key
 * next to a nested one, or the same key in two YAML documents) gets no digest: consumers then
 * fall back to the file's sha256, which is conservative.
 */
export function leafDigests(dataKey: Uint8Array, leaves: readonly DecryptedLeaf[]): Record<string, string> {
  const out = new Map<string, string>();
  const shared = new Set<string>();
  for (const l of leaves) {
    const name = keyName(l.path);
    if (out.has(name)) shared.add(name);
    out.set(name, valueDigest(dataKey, name, leafData(l.value)));
  }
  for (const s of shared) out.delete(s);
  return Object.fromEntries([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
