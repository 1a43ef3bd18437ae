/**
 * provider/sops: the sops file format (yaml, json, dotenv, ini, binary), AES-GCM values, MAC,
 * metadata, encrypt / decrypt / set / re-key / rotate and .sops.yaml rules. Pure: no file writes
 * (those are provider/fs).
 */
export { formatFromPath, storeFor, type SopsFormat, type Store } from "./stores/index.js";
export type { EncryptRules } from "./rules.js";
export { compileRe2, DEFAULT_UNENCRYPTED_SUFFIX } from "./rules.js";
export { SOPS_VERSION, type AgeEntry, type SopsMetadata } from "./metadata.js";
export {
  decryptWithDataKey,
  encryptWithDataKey,
  setValuesWithDataKey,
  rotateWithDataKeys,
  replaceAgeEntries,
  loadEncrypted,
  leafText,
  type DecryptedFile,
  type LoadedFile,
  type DecryptedLeaf,
  type ValueChange,
} from "./core.js";
export { encrypt, decrypt, setValues, updateRecipients, rotate, readMetadata, listKeys, unwrapDataKey, type SopsMetadataView } from "./ops.js";
export { keyedDigest, DIGEST_INFO } from "./digest.js";
export { parseSopsConfig, findConfigFile, loadConfigFor, matchRule, upsertCreationRule, pathRegexFor, type CreationRule, type SopsConfig } from "./config.js";
export { MacMismatchError, NoIdentityError, SopsParseError, UnsupportedError, SopsCryptoError, SopsArgumentError } from "./errors.js";
export { isEncrypted } from "./cipher.js";
