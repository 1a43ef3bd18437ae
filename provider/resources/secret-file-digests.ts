/**
 * Per-key keyed digests of a SecretFile's values (the `valueDigests` output).
 *
 * Every leaf of the file gets `HMAC-SHA256(HKDF(dataKey), label ‖ 0 ‖ value)` with a label naming
 * the key (`db.password`, as in `keyNames`). So the digest of key K depends only on the data key,
 * K's name and K's value: an edit of another key (same data key) leaves it byte-identical, while a
 * rotation (new data key) changes every digest. Nobody without the data key can brute-force a
 * value from its digest, so the map is safe in state (it is still a secret output).
 */
import { decrypt, decryptWithDataKey, keyedDigest, NoIdentityError, UnsupportedError, type DecryptedLeaf, type SopsFormat } from "../sops";
import type { AgeIdentity } from "../age";
import { keyName } from "../access/exposure";

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

/** How {@link digestsOf} gets at the data key. */
export interface DigestSource {
  /** The data key, when the caller knows it (it made or unwrapped it); skips the age unwrap. */
  dataKey?: Uint8Array;
  /** The deployer's identities (discovered lazily: only called without `dataKey`). */
  identities: () => Promise<AgeIdentity[]>;
}

/**
 * Digests of every leaf of `text`, or `undefined` when no identity here can unwrap the data key
 * (or the file uses a sops feature keyfleet cannot decrypt). A corrupt file (bad MAC, bad ENC
 * string, parse error) throws: its digests would describe values nobody can trust.
 */
export async function digestsOf(text: string, format: SopsFormat, file: string, src: DigestSource): Promise<Record<string, string> | undefined> {
  if (src.dataKey) {
    const d = decryptWithDataKey(text, format, src.dataKey, { file });
    return leafDigests(d.dataKey, d.leaves);
  }
  let ids: AgeIdentity[];
  try {
    ids = await src.identities();
  } catch {
    return undefined; // an unreadable key file is reported by the operations that need it
  }
  try {
    const d = await decrypt(text, { format, identities: ids, file });
    return leafDigests(d.dataKey, d.leaves);
  } catch (e) {
    if (e instanceof NoIdentityError || e instanceof UnsupportedError) return undefined;
    throw e;
  }
}
