/**
 * The public sops operations over text: the age layer wraps/unwraps the data key, `core.ts` does the
 * rest. All are pure (no file IO); write results with provider/fs `writeFileAtomic`.
 */
import { randomBytes } from "node:crypto";
import {
  decryptDataKey,
  encryptDataKeysSync,
  recipientText,
  type AgeIdentity,
  type AgeRecipient,
} from "../age/index.js";
import { recipientDelta } from "../age/text.js";
import {
  checkDataKey,
  decryptWithDataKey,
  encryptWithDataKey,
  loadEncrypted,
  replaceAgeEntries,
  rotateWithDataKeys,
  setValuesWithDataKey,
  type DecryptedFile,
  type ValueChange,
} from "./core.js";
import { NoIdentityError, SopsArgumentError } from "./errors.js";
import { assertSingleGroup, type AgeEntry, type SopsMetadata } from "./metadata.js";
import type { EncryptRules } from "./rules.js";
import type { SopsFormat, StoreOptions } from "./stores/index.js";
import { listLeaves } from "./walk.js";
import { checkFileSize } from "./limits.js";

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
  const encs = encryptDataKeysSync(dataKey, recipients);
  return recipients.map((r, i) => ({ recipient: recipientText(r), enc: encs[i] as string }));
}

function checkRecipients(rs: unknown, file?: string): asserts rs is AgeRecipient[] {
  if (!Array.isArray(rs) || rs.length === 0 || rs.some((r) => typeof (r as AgeRecipient)?.wrapFileKey !== "function")) {
    throw new SopsArgumentError(
      "recipients must be a non-empty list of parsed age recipients",
      "parse them with parseRecipient",
      file,
    );
  }
}

/** Largest number of `age` entries tried: each costs an X25519 operation per identity (~0.1-1 ms), and real files have a few dozen. */
export const MAX_AGE_ENTRIES = 1_000;

/**
 * Unwraps the data key from any matching `age` entry. Like sops, every entry is tried in turn: a
 * malformed or tampered entry (one that is not armored age, or that one of our identities opens
 * but fails to authenticate) does not block the others. When none opens, the error names the bad
 * entries (index and recipient label, never key material).
 * @throws NoIdentityError naming the file, its recipients and the unreadable entries;
 *   SopsArgumentError for more than MAX_AGE_ENTRIES entries; UnsupportedError for Shamir files
 */
export async function unwrapDataKey(
  meta: SopsMetadata,
  identities: readonly AgeIdentity[],
  file?: string,
  report: string[] = [],
): Promise<Uint8Array> {
  assertSingleGroup(meta, file);
  if (!Array.isArray(identities))
    throw new SopsArgumentError("identities must be a list", "use parseIdentities or discoverIdentities", file);
  if (meta.age.length > MAX_AGE_ENTRIES)
    throw new SopsArgumentError(
      `${file ?? "sops file"} has ${meta.age.length} age entries, more than the ${MAX_AGE_ENTRIES} keyfleet tries`,
      "the file is corrupt or hostile; restore it from git",
      file,
    );
  const bad: string[] = [];
  for (const [i, e] of meta.age.entries()) {
    let k: Uint8Array | null;
    try {
      k = await decryptDataKey(e.enc, [...identities]);
    } catch (err) {
      if (bad.length < 5)
        bad.push(
          `age[${i}] (${e.recipient.slice(0, 80)}): ${err instanceof Error ? err.message.split(";")[0] : String(err)}`,
        );
      else if (bad.length === 5) bad.push("…");
      continue;
    }
    if (k) {
      if (k.length !== 32)
        throw new SopsArgumentError(
          `${file ?? "sops file"}: age entry for ${e.recipient} holds a ${k.length}-byte data key`,
          "the file is corrupt; restore it from git",
          file,
        );
      return k;
    }
  }
  const tried = report.length ? report : identities.map((i) => i.source);
  throw new NoIdentityError(
    file,
    [...meta.age.map((e) => e.recipient), ...Object.keys(meta.other).map((k) => `${k} (not supported by keyfleet)`)],
    tried,
    bad,
  );
}

/** Where a sops operation's input comes from: its format and, for messages, the file's name. */
export interface SopsTextOptions {
  format: SopsFormat;
  /** The file's path as the user wrote it; named in errors. */
  file?: string;
  /** `.sops.yaml` `stores:` options (indents) for the text written (default: sops's). */
  stores?: StoreOptions;
}

/** Options of {@link encrypt}. */
export interface EncryptOptions extends SopsTextOptions {
  recipients: AgeRecipient[];
  rules?: EncryptRules;
}

/** Options of the operations that unwrap the data key. */
export interface KeyedOptions extends SopsTextOptions {
  identities: AgeIdentity[];
}

/** Options of {@link decrypt}. */
export interface DecryptOptions extends KeyedOptions {
  ignoreMac?: boolean;
  /** Identity sources tried (for the NoIdentityError message); never key material. */
  report?: string[];
}

/** Options of {@link setValues}. */
export interface SetValuesOptions extends KeyedOptions {
  changes: ValueChange[];
}

/** Options of {@link updateRecipients}. */
export interface UpdateRecipientsOptions extends KeyedOptions {
  recipients: AgeRecipient[];
}

/** Options of {@link rotate}; recipients default to the file's. */
export interface RotateOptions extends KeyedOptions {
  recipients?: AgeRecipient[];
}

/** A sops file's text with the data key it is encrypted under (memory only: it keys digests). */
export interface KeyedText {
  text: string;
  dataKey: Uint8Array;
}

/** What {@link updateRecipients} did. */
export interface RecipientsChange {
  text: string;
  /** Recipients added, as recorded in the file. */
  added: string[];
  /** Recipients removed, as the file recorded them. */
  removed: string[];
  /** True when a removal made it rotate the data key. */
  rotated: boolean;
  /** The data key of `text` when the operation unwrapped or made it (not when nothing changed). */
  dataKey?: Uint8Array;
}

/** {@link encrypt}, also returning the fresh data key (so a caller can key digests without an unwrap). */
export async function encryptKeyed(plain: string | Uint8Array, o: EncryptOptions): Promise<KeyedText> {
  checkRecipients(o.recipients, o.file);
  const dataKey = randomBytes(32);
  return {
    text: checkFileSize(
      encryptWithDataKey(plain, o.format, dataKey, {
        age: await wrapAll(dataKey, o.recipients),
        rules: o.rules,
        file: o.file,
        stores: o.stores,
      }),
      o.file,
    ),
    dataKey,
  };
}

/** Encrypts plaintext for `recipients` with a fresh data key. */
export async function encrypt(plain: string | Uint8Array, o: EncryptOptions): Promise<string> {
  return (await encryptKeyed(plain, o)).text;
}

/** Decrypts a sops file (MAC verified unless `ignoreMac`). */
export async function decrypt(text: string, o: DecryptOptions): Promise<DecryptedFile> {
  const parsed = loadEncrypted(text, o.format, o.file);
  const key = await unwrapDataKey(parsed.meta, o.identities, o.file, o.report);
  return decryptWithDataKey(text, o.format, key, { file: o.file, ignoreMac: o.ignoreMac, parsed, stores: o.stores });
}

/** Sets (or with `null` deletes) values; every other ENC string stays byte-identical. */
export async function setValues(text: string, o: SetValuesOptions): Promise<string> {
  if (!Array.isArray(o.changes))
    throw new SopsArgumentError("changes must be a list", "pass [{ path, value }]", o.file);
  const { meta } = loadEncrypted(text, o.format, o.file);
  const key = await unwrapDataKey(meta, o.identities, o.file);
  return checkFileSize(
    setValuesWithDataKey(text, o.format, key, o.changes, { file: o.file, stores: o.stores }),
    o.file,
  );
}

/**
 * Makes the recipient set equal to `recipients`. Only additions: same data key, existing entries
 * byte-identical, new entries appended, values/mac/lastmodified untouched. Any removal: rotate.
 */
export async function updateRecipients(text: string, o: UpdateRecipientsOptions): Promise<RecipientsChange> {
  checkRecipients(o.recipients, o.file);
  const parsed = loadEncrypted(text, o.format, o.file);
  const { meta } = parsed;
  assertSingleGroup(meta, o.file);
  // same key = same recipient: an ssh key with or without its comment is neither added nor removed
  const { added: addedR, removed } = recipientDelta(
    meta.age.map((e) => e.recipient),
    o.recipients,
  );
  const added = addedR.map(recipientText);
  if (removed.length) {
    const out = await rotateKeyed(text, {
      format: o.format,
      identities: o.identities,
      recipients: o.recipients,
      file: o.file,
      stores: o.stores,
    });
    return { text: out.text, added, removed, rotated: true, dataKey: out.dataKey };
  }
  if (!added.length) return { text, added, removed, rotated: false };
  const key = await unwrapDataKey(meta, o.identities, o.file);
  checkDataKey(meta, key, o.file);
  const fresh = await wrapAll(key, addedR);
  return {
    text: checkFileSize(replaceAgeEntries(text, o.format, [...meta.age, ...fresh], o.file, parsed, o.stores), o.file),
    added,
    removed,
    rotated: false,
    dataKey: key,
  };
}

/** New data key, every value re-encrypted, new mac/lastmodified; recipients default to the file's. */
export async function rotate(text: string, o: RotateOptions): Promise<string> {
  return (await rotateKeyed(text, o)).text;
}

/** {@link rotate}, also returning the new data key. */
export async function rotateKeyed(text: string, o: RotateOptions): Promise<KeyedText> {
  const { meta } = loadEncrypted(text, o.format, o.file);
  const oldKey = await unwrapDataKey(meta, o.identities, o.file);
  const newKey = randomBytes(32);
  let age: AgeEntry[];
  if (o.recipients) {
    checkRecipients(o.recipients, o.file);
    age = await wrapAll(newKey, o.recipients);
  } else {
    const { parseRecipient } = await import("../age/index.js");
    age = await wrapAll(
      newKey,
      meta.age.map((e) => parseRecipient(e.recipient, o.file)),
    );
  }
  return {
    text: checkFileSize(
      rotateWithDataKeys(text, o.format, oldKey, newKey, age, { file: o.file, stores: o.stores }),
      o.file,
    ),
    dataKey: newKey,
  };
}

/** Metadata without any key: recipients, lastmodified, version, rules, key group count. */
export function readMetadata(text: string, format: SopsFormat, file?: string): SopsMetadataView {
  const { meta } = loadEncrypted(text, format, file);
  const view: SopsMetadataView = {
    recipients: meta.age.map((e) => e.recipient),
    lastmodified: meta.lastmodified,
    version: meta.version,
    rules: meta.rules,
    keyGroups: meta.keyGroups,
  };
  if (meta.shamirThreshold !== undefined) view.shamirThreshold = meta.shamirThreshold;
  if (meta.groupRecipients) view.groupRecipients = meta.groupRecipients;
  return view;
}

/** Key paths (mapping keys and list indices) and whether each value is stored encrypted; no key needed. */
export function listKeys(text: string, format: SopsFormat, file?: string): { path: string[]; encrypted: boolean }[] {
  const { tree } = loadEncrypted(text, format, file);
  return listLeaves(tree).map(({ path, encrypted }) => ({ path, encrypted }));
}
