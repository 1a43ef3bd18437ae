/**
 * sops value cipher (`aes/cipher.go`): AES-256-GCM with 32-byte IVs, 16-byte tags and the
 * `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` encoding.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SopsCryptoError } from "./errors.js";
import { goFormatFloatF, goTimeText, parseGoTime } from "./goformat.js";
import type { ScalarValue, SopsValueType } from "./tree.js";

const ENC_PREFIX = "ENC[AES256_GCM,data:";
/** Characters a regex `.` does not match (the type part ends before them, as in sops' regex). */
const LINE_END: ReadonlySet<number> = new Set([10, 13, 0x2028, 0x2029]);
const TYPES: ReadonlySet<string> = new Set(["str", "int", "float", "bool", "time", "comment", "bytes"]);
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: false });

/** True when `s` looks like an encrypted sops value. */
export function isEncrypted(s: string): boolean {
  return s.startsWith("ENC[AES256_GCM,");
}

/** True when `c` (a char code) is in the standard base64 alphabet (no padding). */
function isB64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/**
 * Decodes canonical padded base64 in one linear pass: a regex with a repeated group backtracks once
 * per 4 characters and overflows V8's stack on values of a few megabytes.
 */
function b64(s: string, what: string): Buffer {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  if (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  let ok = s.length % 4 === 0;
  for (let i = 0; ok && i < end; i++) ok = isB64Char(s.charCodeAt(i));
  const b = ok ? Buffer.from(s, "base64") : undefined;
  if (!b || b.toString("base64") !== s)
    throw new SopsCryptoError(`invalid base64 in the ${what} of an encrypted value`);
  return b;
}

/**
 * Splits `ENC[AES256_GCM,data:D,iv:I,tag:T,type:Y]` with indexOf (no backtracking regex), accepting
 * what sops' `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]` accepts once the parts are
 * checked (base64 parts contain no `,` or `:`, types no `]`).
 */
function splitEnc(s: string): [string, string, string, string] | undefined {
  if (!s.startsWith(ENC_PREFIX)) return undefined;
  const iv = s.indexOf(",iv:", ENC_PREFIX.length + 1);
  const tag = iv < 0 ? -1 : s.indexOf(",tag:", iv + 5);
  const type = tag < 0 ? -1 : s.indexOf(",type:", tag + 6);
  if (type < 0) return undefined;
  let eol = type;
  while (eol < s.length && !LINE_END.has(s.charCodeAt(eol))) eol++;
  const close = s.lastIndexOf("]", eol);
  if (close < type + 7) return undefined;
  return [s.slice(ENC_PREFIX.length, iv), s.slice(iv + 4, tag), s.slice(tag + 5, type), s.slice(type + 6, close)];
}

/** Plaintext bytes of a typed value (sops `ToBytes`); also what the MAC hashes. */
export function valueBytes(
  v: Exclude<ScalarValue, null>,
  asComment = false,
): { bytes: Uint8Array; type: SopsValueType } {
  if (asComment) return { bytes: enc.encode(String(v)), type: "comment" };
  if (typeof v === "string") return { bytes: enc.encode(v), type: "str" };
  if (v instanceof Uint8Array) return { bytes: v, type: "str" };
  if (typeof v === "bigint") return { bytes: enc.encode(v.toString()), type: "int" };
  if (typeof v === "number") return { bytes: enc.encode(goFormatFloatF(v)), type: "float" };
  if (typeof v === "boolean") return { bytes: enc.encode(v ? "True" : "False"), type: "bool" };
  return { bytes: enc.encode(goTimeText(v)), type: "time" };
}

/** Encrypts plaintext bytes with `type` under `key` and `aad`; a fresh 32-byte IV unless `iv` given. */
export function encryptBytes(
  plain: Uint8Array,
  type: SopsValueType,
  key: Uint8Array,
  aad: string,
  iv?: Uint8Array,
): string {
  const nonce = iv ?? randomBytes(32);
  const c = createCipheriv("aes-256-gcm", key, nonce);
  c.setAAD(enc.encode(aad));
  const data = Buffer.concat([c.update(plain), c.final()]);
  const tag = c.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${Buffer.from(nonce).toString("base64")},tag:${tag.toString("base64")},type:${type}]`;
}

/** Encrypts a typed value (sops `Cipher.Encrypt`). Empty strings/comments are returned as "". */
export function encryptValue(v: Exclude<ScalarValue, null>, key: Uint8Array, aad: string, asComment = false): string {
  const { bytes, type } = valueBytes(v, asComment);
  if ((type === "str" || type === "comment") && bytes.length === 0) return "";
  return encryptBytes(bytes, type, key, aad);
}

/** Parsed parts of an ENC string. */
export interface EncParts {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
  type: SopsValueType;
}

/** Splits an ENC string; throws SopsCryptoError on malformed input. */
export function parseEnc(s: string): EncParts {
  const m = typeof s === "string" ? splitEnc(s) : undefined;
  if (!m) throw new SopsCryptoError("malformed encrypted value (expected ENC[AES256_GCM,data:…,iv:…,tag:…,type:…])");
  const [d, i, t, ty] = m;
  if (!TYPES.has(ty))
    throw new SopsCryptoError(`unknown type ${JSON.stringify(ty.slice(0, 20))} in an encrypted value`);
  const parts = { data: b64(d, "data"), iv: b64(i, "iv"), tag: b64(t, "tag"), type: ty as SopsValueType };
  if (parts.iv.length === 0) throw new SopsCryptoError("empty iv in an encrypted value");
  if (parts.tag.length !== 16) throw new SopsCryptoError("tag of an encrypted value is not 16 bytes");
  return parts;
}

/** Decrypts an ENC string to its plaintext bytes and type (authenticates with `aad`). */
export function decryptBytes(s: string, key: Uint8Array, aad: string): { bytes: Uint8Array; type: SopsValueType } {
  const p = parseEnc(s);
  try {
    const d = createDecipheriv("aes-256-gcm", key, p.iv);
    d.setAAD(enc.encode(aad));
    d.setAuthTag(p.tag);
    const bytes = Buffer.concat([d.update(p.data), d.final()]);
    return { bytes, type: p.type };
  } catch (e) {
    throw new SopsCryptoError(
      `cannot decrypt the value at ${JSON.stringify(aad)}: authentication failed (wrong data key or tampered value)`,
      { cause: e },
    );
  }
}

/** Parses decrypted bytes according to `type` (sops `Cipher.Decrypt`); `rawStr` keeps `str` as bytes. */
export function typedValue(bytes: Uint8Array, type: SopsValueType, rawStr = false): Exclude<ScalarValue, null> {
  const s = dec.decode(bytes);
  switch (type) {
    case "str":
      return rawStr ? bytes : s;
    case "comment":
      return s;
    case "bytes":
      return bytes;
    case "int": {
      if (!/^[+-]?\d+$/.test(s)) throw new SopsCryptoError("decrypted int value is not an integer");
      const n = BigInt(s);
      if (n > 9223372036854775807n || n < -9223372036854775808n)
        throw new SopsCryptoError("decrypted int value is out of int64 range");
      return n;
    }
    case "float": {
      const t = s.trim();
      const special: Record<string, number> = { NaN: NaN, "+Inf": Infinity, Inf: Infinity, "-Inf": -Infinity };
      const n =
        t in special ? (special[t] as number) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
      if (Number.isNaN(n) && t !== "NaN") throw new SopsCryptoError("decrypted float value is not a number");
      return n;
    }
    case "bool": {
      if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
      if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
      throw new SopsCryptoError("decrypted bool value is not a boolean");
    }
    case "time": {
      // keep the offset and nanoseconds as Go's UnmarshalText does, so the MAC re-serialises the same text
      const g = parseGoTime(s);
      if (g) return g;
      const d = new Date(s);
      if (Number.isNaN(d.getTime())) throw new SopsCryptoError("decrypted time value is not an RFC3339 timestamp");
      return d;
    }
  }
}
