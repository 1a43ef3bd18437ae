/**
 * Tree walks (sops `Tree.Encrypt` / `Tree.Decrypt`): encrypt or decrypt every leaf with its AAD
 * (mapping-key path + ":"), and compute the MAC over typed plaintext in document order.
 */
import { createHash } from "node:crypto";
import { decryptBytes, encryptBytes, isEncrypted, typedValue, valueBytes } from "./cipher.js";
import { SopsCryptoError } from "./errors.js";
import { compileRules, hasCommentRule, type EncryptRules } from "./rules.js";
import type { Comment, Mapping, Node, Scalar, Tree } from "./tree.js";

/** Remembers (aad, type, plaintext) → ENC string from a decrypt so unchanged values re-encrypt byte-identically. */
export type IvStash = Map<string, string>;

function stashKey(aad: string, type: string, bytes: Uint8Array): string {
  return `${aad}\u0000${type}\u0000${Buffer.from(bytes).toString("base64")}`;
}

const MAC_ONLY_INIT = createHash("sha256").update("sops").digest();

interface Visit {
  leaf(s: Scalar, path: readonly string[], comments: readonly string[]): void;
  comment(c: Comment, path: readonly string[]): void;
}

function walkNode(n: Node, path: string[], comments: string[], v: Visit): void {
  if (n.kind === "scalar") return v.leaf(n, path, comments);
  const local: string[] = [];
  if (n.kind === "map") {
    for (const it of n.items) {
      if (it.kind === "comment") {
        v.comment(it, path);
        local.push(it.text);
        continue;
      }
      walkNode(it.value, [...path, it.key], [...comments, ...local], v);
      local.length = 0;
    }
    return;
  }
  for (const it of n.items) {
    if (it.kind === "comment") {
      v.comment(it, path);
      local.push(it.text);
      continue;
    }
    walkNode(it, path, [...comments, ...local], v);
    local.length = 0;
  }
}

/** Visits all documents in order. */
function walkTree(t: Tree, v: Visit): void {
  for (const doc of t) walkNode(doc as Mapping, [], [], v);
}

/** Result of a MAC computation. */
function macHex(h: ReturnType<typeof createHash>): string {
  return h.digest("hex").toUpperCase();
}

/**
 * Encrypts a plaintext tree in place under `key` and returns the MAC (uppercase hex) of its plaintext.
 * Leaves found in `stash` with identical plaintext and AAD reuse their previous ENC string.
 */
export function encryptTree(t: Tree, key: Uint8Array, rules: EncryptRules, stash?: IvStash, file?: string): string {
  const should = compileRules(rules, file);
  const commentsClear = hasCommentRule(rules);
  const h = createHash("sha512");
  if (rules.macOnlyEncrypted) h.update(MAC_ONLY_INIT);
  walkTree(t, {
    leaf(s, path, comments) {
      if (s.value === null) return;
      const enc = should(path, comments);
      const { bytes, type } = valueBytes(s.value);
      if (!rules.macOnlyEncrypted || enc) h.update(bytes);
      if (!enc) return;
      if (type === "str" && bytes.length === 0) {
        s.value = "";
        return;
      }
      const aad = path.join(":") + ":";
      const sk = stash ? stashKey(aad, type, bytes) : "";
      s.value = stash?.get(sk) ?? encryptBytes(bytes, type, key, aad);
      delete s.type;
    },
    comment(c, path) {
      if (commentsClear || !should(path, []) || c.text === "") return;
      const aad = path.join(":") + ":";
      const { bytes } = valueBytes(c.text, true);
      const sk = stash ? stashKey(aad, "comment", bytes) : "";
      c.text = stash?.get(sk) ?? encryptBytes(bytes, "comment", key, aad);
    },
  });
  return macHex(h);
}

/**
 * Decrypts an encrypted tree in place and returns the MAC of its plaintext and an IV stash.
 * `rawStr` keeps `str` values as bytes (binary store).
 * @throws SopsCryptoError on a malformed or unauthenticated value.
 */
export function decryptTree(
  t: Tree,
  key: Uint8Array,
  rules: EncryptRules,
  opts: { rawStr?: boolean; file?: string } = {},
): { mac: string; stash: IvStash } {
  const should = compileRules(rules, opts.file);
  const commentsClear = hasCommentRule(rules);
  const h = createHash("sha512");
  if (rules.macOnlyEncrypted) h.update(MAC_ONLY_INIT);
  const stash: IvStash = new Map();
  walkTree(t, {
    leaf(s, path, comments) {
      if (s.value === null) return;
      const enc = should(path, comments);
      if (enc && !(typeof s.value === "string" && s.value === "")) {
        if (typeof s.value !== "string" || !isEncrypted(s.value)) {
          throw new SopsCryptoError(`value at ${JSON.stringify(path.join(":"))} should be encrypted but is in clear`, {
            file: opts.file,
          });
        }
        const aad = path.join(":") + ":";
        const encStr = s.value;
        const { bytes, type } = decryptBytes(encStr, key, aad);
        if (type === "comment")
          throw new SopsCryptoError(`value at ${JSON.stringify(path.join(":"))} has type comment`, { file: opts.file });
        s.value = typedValue(bytes, type, opts.rawStr);
        s.type = type;
        stash.set(stashKey(aad, valueBytes(s.value).type, bytes), encStr);
      }
      if (!rules.macOnlyEncrypted || enc) h.update(valueBytes(s.value).bytes);
    },
    comment(c, path) {
      if (commentsClear || !isEncrypted(c.text)) return;
      const aad = path.join(":") + ":";
      const encStr = c.text;
      const { bytes, type } = decryptBytes(encStr, key, aad);
      if (type !== "comment")
        throw new SopsCryptoError(`comment in ${JSON.stringify(aad)} has type ${type}`, { file: opts.file });
      c.text = Buffer.from(bytes).toString("utf8");
      stash.set(stashKey(aad, "comment", bytes), encStr);
    },
  });
  return { mac: macHex(h), stash };
}

/**
 * Calls `f` for every non-null scalar of every document, in file order, with its path (map keys and
 * list indices as strings) and document index; comments are skipped.
 */
export function forEachLeaf(t: Tree, f: (s: Scalar, path: string[], doc: number) => void): void {
  const rec = (n: Node, path: string[], doc: number): void => {
    if (n.kind === "scalar") {
      if (n.value !== null) f(n, path, doc);
      return;
    }
    if (n.kind === "map") {
      for (const it of n.items) if (it.kind === "entry") rec(it.value, [...path, it.key], doc);
      return;
    }
    let i = 0;
    for (const it of n.items) if (it.kind !== "comment") rec(it, [...path, String(i++)], doc);
  };
  t.forEach((d, i) => rec(d, [], i));
}

/** Lists leaves (path incl. list indices, and whether the stored value is encrypted) without a key. */
export function listLeaves(t: Tree): { path: string[]; encrypted: boolean; doc: number }[] {
  const out: { path: string[]; encrypted: boolean; doc: number }[] = [];
  forEachLeaf(t, (s, path, doc) =>
    out.push({ path, encrypted: typeof s.value === "string" && isEncrypted(s.value), doc }),
  );
  return out;
}
