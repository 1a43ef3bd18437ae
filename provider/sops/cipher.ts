/**
 * sops value cipher (`aes/cipher.go`): AES-256-GCM with 32-byte IVs, 16-byte tags and the
 * `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` encoding.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SopsCryptoError } from "./errors.js";
import { goFormatFloatF, goTimeText, parseGoTime } from "./goformat.js";
import type { ScalarValue, SopsValueType } from "./tree.js";

const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TYPES: ReadonlySet<string> = new Set(["str", "int", "float", "bool", "time", "comment", "bytes"]);
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: false });

/** True when `s` looks like an encrypted sops value. */
export function isEncrypted(s: string): boolean {
  return s.startsWith("ENC[AES256_GCM,");
}

function b64(s: string, what: string): Buffer {
  const b = B64_RE.test(s) ? Buffer.from(s, "base64") : undefined;
  if (!b || b.toString("base64") !== s) throw new SopsCryptoError(`invalid base64 in the ${what} of an encrypted value`);
  return b;
}

/** Plaintext bytes of a typed value (sops `ToBytes`); also what the MAC hashes. */
export function valueBytes(v: Exclude<ScalarValue, null>, asComment = false): { bytes: Uint8Array; type: SopsValueType } {
  if (asComment) return { bytes: enc.encode(String(v)), type: "comment" };
  if (typeof v === "string") return { bytes: enc.encode(v), type: "str" };
  if (v instanceof Uint8Array) return { bytes: v, type: "str" };
  if (typeof v === "bigint") return { bytes: enc.encode(v.toString()), type: "int" };
  if (typeof v === "number") return { bytes: enc.encode(goFormatFloatF(v)), type: "float" };
  if (typeof v === "boolean") return { bytes: enc.encode(v ? "True" : "False"), type: "bool" };
  return { bytes: enc.encode(goTimeText(v)), type: "time" };
}

/** Encrypts plaintext bytes with `type` under `key` and `aad`; a fresh 32-byte IV unless `iv` given. */
export function encryptBytes(plain: Uint8Array, type: SopsValueType, key: Uint8Array, aad: string, iv?: Uint8Array): string {
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
  const m = ENC_RE.exec(s);
  if (!m) throw new SopsCryptoError("malformed encrypted value (expected ENC[AES256_GCM,data:…,iv:…,tag:…,type:…])");
  const [, d, i, t, ty] = m as unknown as [string, string, string, string, string];
  if (!TYPES.has(ty)) throw new SopsCryptoError(`unknown type ${JSON.stringify(ty.slice(0, 20))} in an encrypted value`);
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
    throw new SopsCryptoError(`cannot decrypt the value at ${JSON.stringify(aad)}: authentication failed (wrong data key or tampered value)`, { cause: e });
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
      if (n > 9223372036854775807n || n < -9223372036854775808n) throw new SopsCryptoError("decrypted int value is out of int64 range");
      return n;
    }
    case "float": {
      const t = s.trim();
      const special: Record<string, number> = { NaN: NaN, "+Inf": Infinity, Inf: Infinity, "-Inf": -Infinity };
      const n = t in special ? (special[t] as number) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
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
