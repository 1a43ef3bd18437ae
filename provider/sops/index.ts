/**
 * provider/sops: the sops file format (yaml, json, dotenv, ini, binary), AES-GCM values, MAC,
 * metadata, encrypt / decrypt / set / re-key / rotate and .sops.yaml rules. Pure: no file writes
 * (those are provider/fs).
 */
export { formatFromPath, storeFor, type Store, type StoreOptions } from "./stores/index.js";
export { SOPS_FORMATS, isSopsFormat, sopsFormatList, type SopsFormat } from "./formats.js";
export type { EncryptRules } from "./rules.js";
export { compileRe2, DEFAULT_UNENCRYPTED_SUFFIX } from "./rules.js";
export { SOPS_VERSION, type AgeEntry, type SopsMetadata } from "./metadata.js";
export {
  decryptWithDataKey,
  encryptWithDataKey,
  setValuesWithDataKey,
  setValuesDecrypted,
  resealDecrypted,
  rotateWithDataKeys,
  replaceAgeEntries,
  loadEncrypted,
  leafText,
  type DecryptedFile,
  type LoadedFile,
  type DecryptedLeaf,
  type ValueChange,
  type DataKeyOptions,
  type DecryptWithKeyOptions,
  type SealOptions,
  type EncryptWithKeyOptions,
} from "./core.js";
export {
  encrypt,
  encryptKeyed,
  decrypt,
  setValues,
  updateRecipients,
  rotate,
  rotateKeyed,
  readMetadata,
  listKeys,
  unwrapDataKey,
  type SopsMetadataView,
  type SopsTextOptions,
  type EncryptOptions,
  type KeyedOptions,
  type DecryptOptions,
  type SetValuesOptions,
  type UpdateRecipientsOptions,
  type RotateOptions,
  type KeyedText,
  type RecipientsChange,
} from "./ops.js";
export { keyedDigest, DIGEST_INFO } from "./digest.js";
export {
  parseSopsConfig,
  parseStoreOptions,
  storeOptionsFor,
  findConfigFile,
  loadConfigFor,
  matchRule,
  upsertCreationRule,
  pathRegexFor,
  type CreationRule,
  type SopsConfig,
} from "./config.js";
export {
  MacMismatchError,
  NoIdentityError,
  SopsParseError,
  UnsupportedError,
  SopsCryptoError,
  SopsArgumentError,
} from "./errors.js";
export { isEncrypted } from "./cipher.js";
export { MAX_SOPS_FILE_BYTES, checkFileSize } from "./limits.js";
export { labelMismatches, describeMismatch, type LabelMismatch } from "./labels.js";
