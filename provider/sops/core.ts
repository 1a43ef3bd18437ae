/**
 * Operations on sops files given the data key: the part of encrypt / decrypt / set / rotate that does
 * not involve key wrapping. The age-based front (`ops.ts`) unwraps the data key and calls these.
 */
import { decryptBytes, encryptValue } from "./cipher.js";
import { MacMismatchError, SopsArgumentError, SopsCryptoError, SopsParseError } from "./errors.js";
import { goTimeText, reformatRfc3339, rfc3339Seconds } from "./goformat.js";
import {
  assertSingleGroup,
  metadataToPlain,
  parseMetadata,
  SOPS_VERSION,
  type AgeEntry,
  type SopsMetadata,
} from "./metadata.js";
import { DEFAULT_UNENCRYPTED_SUFFIX, effectiveRules, validateRules, type EncryptRules } from "./rules.js";
import { storeFor, type SopsFormat, type StoreOptions } from "./stores/index.js";
import {
  entry,
  mapping,
  scalar,
  type Mapping,
  type Node,
  type ScalarValue,
  type SopsValueType,
  type Tree,
} from "./tree.js";
import { decryptTree, encryptTree, forEachLeaf, type IvStash } from "./walk.js";
import { valueBytes } from "./cipher.js";

/** One decrypted leaf. `path` has mapping keys and list indices (as decimal strings). */
export interface DecryptedLeaf {
  path: string[];
  /** int64 values outside the safe-integer range are bigint. */
  value: string | number | bigint | boolean | Date | Uint8Array;
  type: SopsValueType;
  /** Index of the YAML document (0 for single-document files). */
  doc: number;
}

/** A decrypted file: never log or serialise it. */
export interface DecryptedFile {
  dataKey: Uint8Array;
  leaves: DecryptedLeaf[];
  /** Plaintext as `sops -d` prints it, in `outputType` (default: the file's format). */
  emit(outputType?: SopsFormat): string | Uint8Array;
  /** The plaintext tree (comments decrypted). */
  tree: Tree;
  metadata: SopsMetadata;
  /** ENC strings of unchanged values, for byte-identical re-encryption. */
  stash: IvStash;
}

/** Options every data-key operation takes: the file's name (for errors) and, for tests, the clock. */
export interface DataKeyOptions {
  /** The file's path as the user wrote it; named in errors. */
  file?: string;
  /** The time written as `lastmodified` (default: now). */
  now?: Date;
  /** `.sops.yaml` `stores:` options (indents) for the text written (default: sops's). */
  stores?: StoreOptions;
}

/** Options of {@link decryptWithDataKey}. */
export interface DecryptWithKeyOptions {
  file?: string;
  /** Skip the MAC check (as `sops --ignore-mac`). */
  ignoreMac?: boolean;
  /** The file already split by {@link loadEncrypted} (not parsed again). */
  parsed?: LoadedFile;
  /** `.sops.yaml` `stores:` options used when the plaintext is emitted. */
  stores?: StoreOptions;
}

/** Options of {@link sealTree}: the metadata to write around the encrypted tree. */
export interface SealOptions extends DataKeyOptions {
  age: AgeEntry[];
  rules: EncryptRules;
  /** Key sources keyfleet keeps but does not use (pgp, kms, …), as found in the file. */
  other?: Record<string, unknown[]>;
  version?: string;
  /** ENC strings of unchanged values, reused byte-identical. */
  stash?: IvStash;
}

/** Options of {@link encryptWithDataKey}. */
export interface EncryptWithKeyOptions extends DataKeyOptions {
  age: AgeEntry[];
  rules?: EncryptRules;
}

/** An encrypted file split into its (still encrypted) tree and parsed metadata. */
export interface LoadedFile {
  tree: Tree;
  meta: SopsMetadata;
}

/** An encrypted file split into its tree and parsed metadata (no key needed). */
export function loadEncrypted(text: string, format: SopsFormat, file?: string): LoadedFile {
  if (typeof text !== "string")
    throw new SopsArgumentError("sops file text must be a string", "pass the file content as utf-8 text", file);
  const p = storeFor(format).parseEncrypted(text, file);
  if (!p.meta)
    throw new SopsParseError("sops metadata not found", {
      file,
      hint: "this file is not encrypted with sops; encrypt it first",
    });
  return { tree: p.tree, meta: parseMetadata(p.meta, file) };
}

/** The MAC AAD: lastmodified parsed and re-formatted as RFC3339. */
function macAad(meta: SopsMetadata, file?: string): string {
  const aad = reformatRfc3339(meta.lastmodified);
  if (!aad)
    throw new SopsParseError(
      `lastmodified ${JSON.stringify(meta.lastmodified.slice(0, 40))} is not an RFC3339 timestamp`,
      { file },
    );
  return aad;
}

/** Decrypts the stored MAC; "" if the file has none. */
export function storedMac(meta: SopsMetadata, dataKey: Uint8Array, file?: string): string {
  if (!meta.mac) return "";
  return Buffer.from(decryptBytes(meta.mac, dataKey, macAad(meta, file)).bytes).toString("utf8");
}

/**
 * The text of a decrypted leaf as `sops exec-env` gives it: strings as they are, binary as UTF-8,
 * time as RFC3339Nano with its offset (Go's form), numbers and booleans with String().
 */
export function leafText(v: DecryptedLeaf["value"]): string {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (v instanceof Date) return goTimeText(v);
  return String(v);
}

function leavesOf(tree: Tree): DecryptedLeaf[] {
  const out: DecryptedLeaf[] = [];
  forEachLeaf(tree, (s, path, doc) => {
    const v = s.value as NonNullable<ScalarValue>;
    const value =
      typeof v === "bigint" && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v;
    out.push({ path, value, type: s.type ?? valueBytes(v).type, doc });
  });
  return out;
}

/**
 * Decrypts a sops file with its data key and verifies the MAC.
 * @throws MacMismatchError, SopsCryptoError, SopsParseError, UnsupportedError
 */
export function decryptWithDataKey(
  text: string,
  format: SopsFormat,
  dataKey: Uint8Array,
  o: DecryptWithKeyOptions = {},
): DecryptedFile {
  const { tree, meta } = o.parsed ?? loadEncrypted(text, format, o.file);
  assertSingleGroup(meta, o.file);
  if (dataKey.length !== 32)
    throw new SopsArgumentError(
      "data key must be 32 bytes",
      "pass the key unwrapped from the file's age entry",
      o.file,
    );
  const rules = effectiveRules(meta.rules);
  const { mac, stash } = decryptTree(tree, dataKey, rules, { rawStr: format === "binary", file: o.file });
  if (!o.ignoreMac) {
    if (!meta.mac) throw new MacMismatchError(o.file, "file has no mac");
    const stored = storedMac(meta, dataKey, o.file);
    if (stored !== mac) throw new MacMismatchError(o.file, "values do not match the stored mac");
  }
  return {
    dataKey,
    leaves: leavesOf(tree),
    tree,
    metadata: meta,
    stash,
    emit(outputType?: SopsFormat) {
      return storeFor(outputType ?? format).emitPlain(tree, o.stores);
    },
  };
}

/** Rules to write for new files: the given ones, or sops' default suffix (none for binary). */
export function rulesForNewFile(format: SopsFormat, rules: EncryptRules | undefined, file?: string): EncryptRules {
  const r: EncryptRules = { ...(rules ?? {}) };
  validateRules(r, file);
  const any =
    r.unencryptedSuffix ||
    r.encryptedSuffix ||
    r.unencryptedRegex ||
    r.encryptedRegex ||
    r.unencryptedCommentRegex ||
    r.encryptedCommentRegex;
  if (!any && format !== "binary") r.unencryptedSuffix = DEFAULT_UNENCRYPTED_SUFFIX;
  return r;
}

/** Encrypts `tree` in place and builds fresh metadata around it. */
export function sealTree(tree: Tree, format: SopsFormat, dataKey: Uint8Array, o: SealOptions): string {
  const macHex = encryptTree(tree, dataKey, effectiveRules(o.rules), o.stash, o.file);
  const lastmodified = rfc3339Seconds(o.now ?? new Date());
  const meta: SopsMetadata = {
    age: o.age,
    lastmodified,
    mac: encryptValue(macHex, dataKey, lastmodified),
    version: o.version ?? SOPS_VERSION,
    rules: o.rules,
    other: o.other ?? {},
    keyGroups: 1,
  };
  return storeFor(format).emitEncrypted(tree, metadataToPlain(meta), o.stores);
}

/**
 * Encrypts plaintext with a given data key and already-wrapped age entries.
 * @throws SopsArgumentError when the input already carries sops metadata or rules are invalid
 */
export function encryptWithDataKey(
  plain: string | Uint8Array,
  format: SopsFormat,
  dataKey: Uint8Array,
  o: EncryptWithKeyOptions,
): string {
  const p = storeFor(format).parsePlain(plain, o.file);
  if (p.meta)
    throw new SopsArgumentError(
      `${o.file ?? "input"} is already encrypted with sops`,
      "decrypt it first or use setValues/updateRecipients",
      o.file,
    );
  const rules = rulesForNewFile(format, o.rules, o.file);
  return sealTree(p.tree, format, dataKey, { age: o.age, rules, file: o.file, now: o.now, stores: o.stores });
}

/** A change for setValues: `value: null` deletes the key. */
export interface ValueChange {
  path: string[];
  value: string | number | bigint | boolean | null;
}

function toScalarValue(v: string | number | bigint | boolean, path: string[], file?: string): ScalarValue {
  if (typeof v === "number") return Number.isInteger(v) && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "bigint") return v;
  throw new SopsArgumentError(
    `value for ${JSON.stringify(path.join("."))} must be a string, number or boolean`,
    "pass a scalar value",
    file,
  );
}

/** Applies one change to a plaintext tree (creating mappings along the path). */
export function applyChange(root: Mapping, c: ValueChange, file?: string): void {
  if (!Array.isArray(c.path) || c.path.length === 0 || c.path.some((k) => typeof k !== "string")) {
    throw new SopsArgumentError("change path must be a non-empty list of keys", 'pass e.g. ["db", "password"]', file);
  }
  if (c.path[0] === "sops")
    throw new SopsArgumentError('the top-level key "sops" is reserved', "pick another key", file);
  let cur: Node = root;
  for (let i = 0; i < c.path.length; i++) {
    const k = c.path[i] as string;
    const last = i === c.path.length - 1;
    if (cur.kind === "map") {
      const idx = cur.items.findIndex((it) => it.kind === "entry" && it.key === k);
      if (last) {
        if (c.value === null) {
          if (idx >= 0) cur.items.splice(idx, 1);
          return;
        }
        const val = scalar(toScalarValue(c.value, c.path, file));
        if (idx >= 0) (cur.items[idx] as { value: Node }).value = val;
        else cur.items.push(entry(k, val));
        return;
      }
      if (idx < 0) {
        if (c.value === null) return;
        const m = mapping();
        cur.items.push(entry(k, m));
        cur = m;
      } else cur = (cur.items[idx] as { value: Node }).value;
      continue;
    }
    if (cur.kind === "seq") {
      const n = /^\d+$/.test(k) ? Number(k) : -1;
      const real = cur.items.map((it, j) => [it, j] as const).filter(([it]) => it.kind !== "comment");
      const hit = real[n];
      if (!hit)
        throw new SopsArgumentError(
          `list index ${JSON.stringify(k)} not found at ${JSON.stringify(c.path.slice(0, i).join("."))}`,
          "use an existing index",
          file,
        );
      if (last) {
        if (c.value === null) cur.items.splice(hit[1], 1);
        else cur.items[hit[1]] = scalar(toScalarValue(c.value, c.path, file));
        return;
      }
      cur = hit[0] as Node;
      continue;
    }
    throw new SopsArgumentError(
      `${JSON.stringify(c.path.slice(0, i).join("."))} is a value, not a mapping`,
      "set the parent key itself or pick another path",
      file,
    );
  }
}

/**
 * Sets values (null deletes) and re-encrypts: unchanged values keep their exact ENC strings; new MAC
 * and lastmodified. @throws MacMismatchError and the decrypt errors
 */
export function setValuesWithDataKey(
  text: string,
  format: SopsFormat,
  dataKey: Uint8Array,
  changes: ValueChange[],
  o: DataKeyOptions = {},
): string {
  return setValuesDecrypted(decryptWithDataKey(text, format, dataKey, { file: o.file }), format, changes, o);
}

/**
 * {@link setValuesWithDataKey} on a file already decrypted (by {@link decryptWithDataKey} or
 * `decrypt`, MAC verified) from the text being changed, so it is not parsed and decrypted a second
 * time. `d` is used up: its tree is changed and encrypted in place.
 */
export function setValuesDecrypted(
  d: DecryptedFile,
  format: SopsFormat,
  changes: ValueChange[],
  o: DataKeyOptions = {},
): string {
  if (format === "dotenv" || format === "ini") {
    for (const c of changes) {
      const depth = format === "dotenv" ? 1 : 2;
      if (c.path.length !== depth)
        throw new SopsArgumentError(
          `${format} keys take ${depth} path element(s), got ${JSON.stringify(c.path)}`,
          format === "ini" ? "use [section, key]" : "use [key]",
          o.file,
        );
    }
  }
  for (const c of changes) applyChange(d.tree[0] ?? mapping(), c, o.file);
  return resealDecrypted(d, format, d.tree, o);
}

/**
 * Re-encrypts a decrypted file whose plaintext is now `tree` (the file's own tree changed in place,
 * or a new tree parsed from edited plaintext), under the same data key, recipients, rules and
 * version. Every value and comment whose plaintext and key path are unchanged keeps its exact ENC
 * string (from `d.stash`); new mac and lastmodified. `tree` is encrypted in place.
 */
export function resealDecrypted(
  d: DecryptedFile,
  format: SopsFormat,
  tree: Tree,
  o: { file?: string; now?: Date; stores?: StoreOptions } = {},
): string {
  return sealTree(tree, format, d.dataKey, {
    age: d.metadata.age,
    rules: d.metadata.rules,
    other: d.metadata.other,
    version: d.metadata.version,
    stash: d.stash,
    now: o.now,
    file: o.file,
    stores: o.stores,
  });
}

/** Re-emits an encrypted file with replaced age entries; values, mac and lastmodified untouched. */
export function replaceAgeEntries(
  text: string,
  format: SopsFormat,
  age: AgeEntry[],
  file?: string,
  parsed?: LoadedFile,
  stores?: StoreOptions,
): string {
  const { tree, meta } = parsed ?? loadEncrypted(text, format, file);
  assertSingleGroup(meta, file);
  return storeFor(format).emitEncrypted(tree, metadataToPlain({ ...meta, age }), stores);
}

/** Decrypts with `oldKey` (MAC verified) and re-encrypts every value under `newKey`. */
export function rotateWithDataKeys(
  text: string,
  format: SopsFormat,
  oldKey: Uint8Array,
  newKey: Uint8Array,
  age: AgeEntry[],
  o: DataKeyOptions = {},
): string {
  const d = decryptWithDataKey(text, format, oldKey, { file: o.file });
  return sealTree(d.tree, format, newKey, {
    age,
    rules: d.metadata.rules,
    other: d.metadata.other,
    version: d.metadata.version,
    now: o.now,
    file: o.file,
    stores: o.stores,
  });
}

/** Checks that `dataKey` authenticates the file's MAC (used before re-wrapping a key). */
export function checkDataKey(meta: SopsMetadata, dataKey: Uint8Array, file?: string): void {
  if (!meta.mac) return;
  try {
    storedMac(meta, dataKey, file);
  } catch (e) {
    throw new SopsCryptoError(`${file ?? "sops file"}: the unwrapped data key does not authenticate the file's mac`, {
      file,
      cause: e,
    });
  }
}
