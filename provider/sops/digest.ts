/** Keyed digests of secret values: safe to expose (state, outputs) because nobody without the data key can brute-force them. */
import { createHmac, hkdfSync } from "node:crypto";
import { SopsArgumentError } from "./errors.js";

/** HKDF info string for the digest key (domain separation from sops' own use of the data key). */
export const DIGEST_INFO = "keyfleet/v1/digest";

/**
 * HMAC-SHA256 (hex) of `label` ‖ 0x00 ‖ `data` under HKDF-SHA256(dataKey, salt empty, info "keyfleet/v1/digest").
 * The label (e.g. a key path) separates digests of equal values under different names.
 */
export function keyedDigest(dataKey: Uint8Array, label: string, data: Uint8Array | string): string {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== 32)
    throw new SopsArgumentError("keyedDigest needs the file's 32-byte data key", "pass DecryptedFile.dataKey");
  const k = Buffer.from(hkdfSync("sha256", dataKey, new Uint8Array(0), DIGEST_INFO, 32));
  return createHmac("sha256", k)
    .update(label, "utf8")
    .update(Buffer.from([0]))
    .update(typeof data === "string" ? Buffer.from(data, "utf8") : data)
    .digest("hex");
}
