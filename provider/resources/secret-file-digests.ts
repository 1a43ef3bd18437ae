/**
 * Per-key keyed digests of a SecretFile's values (the `valueDigests` output).
 *
 * Every leaf of the file gets `HMAC-SHA256(HKDF(dataKey), label ‖ 0 ‖ value)` with a label naming
 * the key (`db.password`, as in `keyNames`). So the digest of key K depends only on the data key,
 * K's name and K's value: an edit of another key (same data key) leaves it byte-identical, while a
 * rotation (new data key) changes every digest. Nobody without the data key can brute-force a
 * value from its digest, so the map is safe in state (it is still a secret output).
 */
import { decrypt, decryptWithDataKey, NoIdentityError, UnsupportedError, type SopsFormat } from "../sops";
import type { AgeIdentity } from "../age";

export { DIGEST_LABEL, leafData, valueDigest, leafDigests } from "../access/value-digests";
import { currentDigests, type CurrentDigests } from "../access/pending";

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
export async function digestsOf(
  text: string,
  format: SopsFormat,
  file: string,
  src: DigestSource,
): Promise<Record<string, string> | undefined> {
  return (await currentDigestsOf(text, format, file, src))?.digests;
}

/**
 * As {@link digestsOf}, with the id of the data key the digests are keyed with (pending rotations
 * compare digests only under the same data key).
 */
export async function currentDigestsOf(
  text: string,
  format: SopsFormat,
  file: string,
  src: DigestSource,
): Promise<CurrentDigests | undefined> {
  if (src.dataKey) {
    const d = decryptWithDataKey(text, format, src.dataKey, { file });
    return currentDigests(d.dataKey, d.leaves);
  }
  let ids: AgeIdentity[];
  try {
    ids = await src.identities();
  } catch {
    return undefined; // an unreadable key file is reported by the operations that need it
  }
  try {
    const d = await decrypt(text, { format, identities: ids, file });
    return currentDigests(d.dataKey, d.leaves);
  } catch (e) {
    if (e instanceof NoIdentityError || e instanceof UnsupportedError) return undefined;
    throw e;
  }
}
