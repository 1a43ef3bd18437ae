/**
 * The recipient and identity types of the age key layer. They extend age-encryption's `Recipient`
 * and `Identity` (type-only import: nothing loads that module at run time), so every AgeRecipient
 * can be passed to its `Encrypter.addRecipient` and every AgeIdentity to `Decrypter.addIdentity`.
 */
import type { Identity as TypageIdentity, Recipient as TypageRecipient } from "age-encryption" with {
  "resolution-mode": "import",
};
import type { Stanza } from "./primitives";

/** The recipient kinds keyfleet implements. */
export type RecipientKind = "x25519" | "ssh-ed25519";

/** A parsed, validated age recipient (public key). */
export interface AgeRecipient extends TypageRecipient {
  /** Which age recipient type this is. */
  readonly kind: RecipientKind;
  /**
   * Canonical text: `age1…` or `ssh-ed25519 AAAA…` (comment dropped). Identity: two recipients are
   * the same key exactly when their `toString()` is equal.
   */
  toString(): string;
  /**
   * The trimmed text as given when it differs from `toString()`: an `ssh-ed25519 AAAA… comment`
   * line keeps its comment. sops writes this string as the `age` entry's `recipient`; read it
   * through `recipientText`.
   */
  readonly text?: string;
  /**
   * Wraps a file key into this recipient's stanza(s). Synchronous.
   * @param ephemeralSecret - optional 32 CSPRNG bytes for the ephemeral key, so a batch can draw all
   *   its randomness in one call; the recipient zeroes them after use and draws its own when absent
   */
  wrapFileKey(fileKey: Uint8Array, ephemeralSecret?: Uint8Array): Stanza[];
}

/** A parsed age identity (private key). Its `toString` never reveals key material. */
export interface AgeIdentity extends TypageIdentity {
  /** Which age recipient type this identity decrypts. */
  readonly kind: RecipientKind;
  /** Where it came from, e.g. `SOPS_AGE_KEY_FILE=/x/keys.txt line 3`; no key material. */
  readonly source: string;
  /**
   * The file key from the first stanza meant for this identity, or null when none is.
   * @throws AgeFormatError when a stanza meant for this identity is malformed or fails to open
   */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null;
  /** The matching recipient. */
  recipient(): AgeRecipient;
}
