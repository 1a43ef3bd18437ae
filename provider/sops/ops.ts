/**
 * The public sops operations over text: the age layer wraps/unwraps the data key, `core.ts` does the
 * rest. All are pure (no file IO); write results with provider/fs `writeFileAtomic`.
 */
import { randomBytes } from "node:crypto";
import { decryptDataKey, encryptDataKey, recipientText, type AgeIdentity, type AgeRecipient } from "../age/index.js";
import { recipientDelta } from "../age/text.js";
import { checkDataKey, decryptWithDataKey, encryptWithDataKey, loadEncrypted, replaceAgeEntries, rotateWithDataKeys, setValuesWithDataKey, type DecryptedFile, type ValueChange } from "./core.js";
import { NoIdentityError, SopsArgumentError } from "./errors.js";
import { assertSingleGroup, type AgeEntry, type SopsMetadata } from "./metadata.js";
import type { EncryptRules } from "./rules.js";
import type { SopsFormat } from "./stores/index.js";
import { listLeaves } from "./walk.js";

/** What `readMetadata` reports; no key needed. */
export interface SopsMetadataView {
  recipients: string[];
  lastmodified: string;
  version: string;
  rules: EncryptRules;
  keyGroups: number;
  /** `shamir_threshold` when the file has one. */
  shamirThreshold?: number;
  /** With several key groups (Shamir): each group's age recipients; `recipients` is then empty. */
  groupRecipients?: string[][];
}

/** One `age` entry per recipient; `recipient` is the text as given (an ssh key's comment kept, as sops). */
async function wrapAll(dataKey: Uint8Array, recipients: readonly AgeRecipient[]): Promise<AgeEntry[]> {
  return Promise.all(recipients.map(async (r) => ({ recipient: recipientText(r), enc: await encryptDataKey(dataKey, r) })));
}

function checkRecipients(rs: unknown, file?: string): asserts rs is AgeRecipient[] {
  if (!Array.isArray(rs) || rs.length === 0 || rs.some((r) => typeof (r as AgeRecipient)?.wrapFileKey !== "function")) {
    throw new SopsArgumentError("recipients must be a non-empty list of parsed age recipients", "parse them with parseRecipient", file);
  }
}

/**
 * Unwraps the data key from any matching `age` entry.
 * @throws NoIdentityError naming the file and its recipients; UnsupportedError for Shamir files
 */
export async function unwrapDataKey(meta: SopsMetadata, identities: readonly AgeIdentity[], file?: string, report: string[] = []): Promise<Uint8Array> {
  assertSingleGroup(meta, file);
  if (!Array.isArray(identities)) throw new SopsArgumentError("identities must be a list", "use parseIdentities or discoverIdentities", file);
  for (const e of meta.age) {
    const k = await decryptDataKey(e.enc, [...identities]);
    if (k) {
      if (k.length !== 32) throw new SopsArgumentError(`${file ?? "sops file"}: age entry for ${e.recipient} holds a ${k.length}-byte data key`, "the file is corrupt; restore it from git", file);
      return k;
    }
  }
  throw new NoIdentityError(file, [...meta.age.map((e) => e.recipient), ...Object.keys(meta.other).map((k) => `${k} (not supported by keyfleet)`)], report.length ? report : identities.map((i) => i.source));
}

/** Encrypts plaintext for `recipients` with a fresh data key. */
export async function encrypt(plain: string | Uint8Array, o: { format: SopsFormat; recipients: AgeRecipient[]; rules?: EncryptRules; file?: string }): Promise<string> {
  checkRecipients(o.recipients, o.file);
  const dataKey = randomBytes(32);
  return encryptWithDataKey(plain, o.format, dataKey, { age: await wrapAll(dataKey, o.recipients), rules: o.rules, file: o.file });
}

/** Decrypts a sops file (MAC verified unless `ignoreMac`). */
export async function decrypt(text: string, o: { format: SopsFormat; identities: AgeIdentity[]; file?: string; ignoreMac?: boolean; report?: string[] }): Promise<DecryptedFile> {
  const parsed = loadEncrypted(text, o.format, o.file);
  const key = await unwrapDataKey(parsed.meta, o.identities, o.file, o.report);
  return decryptWithDataKey(text, o.format, key, { file: o.file, ignoreMac: o.ignoreMac, parsed });
}

/** Sets (or with `null` deletes) values; every other ENC string stays byte-identical. */
export async function setValues(text: string, o: { format: SopsFormat; identities: AgeIdentity[]; changes: ValueChange[]; file?: string }): Promise<string> {
  if (!Array.isArray(o.changes)) throw new SopsArgumentError("changes must be a list", "pass [{ path, value }]", o.file);
  const { meta } = loadEncrypted(text, o.format, o.file);
  const key = await unwrapDataKey(meta, o.identities, o.file);
  return setValuesWithDataKey(text, o.format, key, o.changes, { file: o.file });
}

/**
 * Makes the recipient set equal to `recipients`. Only additions: same data key, existing entries
 * byte-identical, new entries appended, values/mac/lastmodified untouched. Any removal: rotate.
 */
export async function updateRecipients(text: string, o: { format: SopsFormat; identities: AgeIdentity[]; recipients: AgeRecipient[]; file?: string }): Promise<{ text: string; added: string[]; removed: string[]; rotated: boolean }> {
  checkRecipients(o.recipients, o.file);
  const parsed = loadEncrypted(text, o.format, o.file);
  const { meta } = parsed;
  assertSingleGroup(meta, o.file);
  // same key = same recipient: an ssh key with or without its comment is neither added nor removed
  const { added: addedR, removed } = recipientDelta(meta.age.map((e) => e.recipient), o.recipients);
  const added = addedR.map(recipientText);
  if (removed.length) {
    const out = await rotate(text, { format: o.format, identities: o.identities, recipients: o.recipients, file: o.file });
    return { text: out, added, removed, rotated: true };
  }
  if (!added.length) return { text, added, removed, rotated: false };
  const key = await unwrapDataKey(meta, o.identities, o.file);
  checkDataKey(meta, key, o.file);
  const fresh = await wrapAll(key, addedR);
  return { text: replaceAgeEntries(text, o.format, [...meta.age, ...fresh], o.file, parsed), added, removed, rotated: false };
}

/** New data key, every value re-encrypted, new mac/lastmodified; recipients default to the file's. */
export async function rotate(text: string, o: { format: SopsFormat; identities: AgeIdentity[]; recipients?: AgeRecipient[]; file?: string }): Promise<string> {
  const { meta } = loadEncrypted(text, o.format, o.file);
  const oldKey = await unwrapDataKey(meta, o.identities, o.file);
  const newKey = randomBytes(32);
  let age: AgeEntry[];
  if (o.recipients) {
    checkRecipients(o.recipients, o.file);
    age = await wrapAll(newKey, o.recipients);
  } else {
    const { parseRecipient } = await import("../age/index.js");
    age = await wrapAll(newKey, meta.age.map((e) => parseRecipient(e.recipient, o.file)));
  }
  return rotateWithDataKeys(text, o.format, oldKey, newKey, age, { file: o.file });
}

/** Metadata without any key: recipients, lastmodified, version, rules, key group count. */
export function readMetadata(text: string, format: SopsFormat, file?: string): SopsMetadataView {
  const { meta } = loadEncrypted(text, format, file);
  const view: SopsMetadataView = { recipients: meta.age.map((e) => e.recipient), lastmodified: meta.lastmodified, version: meta.version, rules: meta.rules, keyGroups: meta.keyGroups };
  if (meta.shamirThreshold !== undefined) view.shamirThreshold = meta.shamirThreshold;
  if (meta.groupRecipients) view.groupRecipients = meta.groupRecipients;
  return view;
}

/** Key paths (mapping keys and list indices) and whether each value is stored encrypted; no key needed. */
export function listKeys(text: string, format: SopsFormat, file?: string): { path: string[]; encrypted: boolean }[] {
  const { tree } = loadEncrypted(text, format, file);
  return listLeaves(tree).map(({ path, encrypted }) => ({ path, encrypted }));
}
