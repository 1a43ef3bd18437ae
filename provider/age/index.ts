/**
 * The age key layer: parse recipients and identities, wrap and unwrap sops data keys, ssh-to-age,
 * SSH fingerprints and sops-compatible identity discovery.
 */
export type { RecipientKind, AgeRecipient, AgeIdentity } from "./types";
export { Stanza } from "./primitives";
export { KeyParseError, EncryptedKeyError, UnsupportedKeyError, AgeFormatError, NoIdentityError } from "./errors";
export { X25519Recipient, X25519Identity } from "./x25519";
export { SshEd25519Recipient, SshEd25519Identity, sshTag } from "./agessh";
export {
  parseRecipient,
  recipientText,
  parseIdentities,
  parseX25519Recipient,
  parseX25519Identity,
  generateX25519,
  sshToAgeRecipient,
  sshToAgeIdentity,
  MAX_IDENTITY_FILE_BYTES,
} from "./parse";
export {
  parseSshPublicKey,
  sshFingerprint,
  parseOpenSshPrivateKey,
  type SshPublicKey,
  type SshEd25519PrivateKey,
} from "./ssh";
export {
  encryptDataKey,
  decryptDataKey,
  encryptDataKeySync,
  encryptDataKeysSync,
  decryptDataKeySync,
  encryptAgeSync,
  decryptAgeSync,
  parseHeader,
  armor,
  dearmor,
} from "./format";
export { canonicalRecipientText, recipientDelta, type RecipientDelta } from "./text";
export { discoverIdentities, splitCommandLine, type DiscoveryResult, type DiscoveryOptions } from "./discover";
