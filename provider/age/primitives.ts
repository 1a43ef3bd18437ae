/**
 * The native primitives the age recipients use: X25519, HKDF-SHA256 and ChaCha20-Poly1305 from
 * node:crypto (OpenSSL), plus the `Stanza` value type. Kept apart so the recipient files read as the
 * age spec does.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes,
  type KeyObject,
} from "node:crypto";
import { AgeFormatError } from "./errors";

/**
 * A section of an age header: arguments of the `->` line and the raw body. Structurally identical
 * to age-encryption's `Stanza`, so values pass both ways without loading that module.
 */
export class Stanza {
  constructor(
    /** Space-separated arguments of the stanza line; the first is the type. */
    readonly args: string[],
    /** Raw (decoded) body. */
    readonly body: Uint8Array,
  ) {}
}

const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");

/** An all-zero `x` for importing a raw scalar as JWK: OpenSSL derives the public key from `d` alone. */
const JWK_X_PLACEHOLDER = Buffer.alloc(32).toString("base64url");

function fromDer(scalar: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: "der", type: "pkcs8" });
}

function fromJwk(scalar: Uint8Array): KeyObject {
  return createPrivateKey({
    key: { kty: "OKP", crv: "X25519", d: Buffer.from(scalar).toString("base64url"), x: JWK_X_PLACEHOLDER },
    format: "jwk",
  });
}

/** The X25519 public key of the scalar 32 × 0x07 (RFC 7748 X25519(k, 9)), base64url: the JWK check's known answer. */
const SEVENS_PUBLIC = "E75P6uryBMf9M1j8nAByGIHRdCeBKCJ-xnTzf3_pe20";

/**
 * Whether the JWK import (about 10× faster than PKCS#8 DER through OpenSSL's decoders) derives the
 * right public key on this Node: checked once, on a fixed scalar, against its known public key
 * (test/unit/age/primitives.test.ts checks the constant with @noble/curves and with the DER import).
 */
function jwkImportWorks(): boolean {
  try {
    return createPublicKey(fromJwk(Buffer.alloc(32, 7))).export({ format: "jwk" }).x === SEVENS_PUBLIC;
  } catch {
    return false;
  }
}

/** The JWK check's answer, once made (on the first import: it costs one JWK import, no DER decoder). */
let jwkImportSound: boolean | undefined;

/** Imports a raw 32-byte X25519 scalar as a private KeyObject (clamped by X25519 itself). */
export function x25519Private(scalar: Uint8Array): KeyObject {
  jwkImportSound ??= jwkImportWorks();
  return jwkImportSound ? fromJwk(scalar) : fromDer(scalar);
}

/** For tests: the known answer of the JWK check, and the DER import it stands in for. */
export const jwkCheckForTests = { SEVENS_PUBLIC, fromDer, fromJwk };

/** Imports a raw 32-byte X25519 public value (u-coordinate) as a public KeyObject. */
export function x25519Public(u: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: Buffer.from(u).toString("base64url") },
    format: "jwk",
  });
}

/** The raw 32-byte public value of an X25519 key. */
export function x25519Raw(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: "jwk" });
  return Buffer.from(jwk.x as string, "base64url");
}

/**
 * X25519(priv, pub). OpenSSL refuses an all-zero result (a low-order `pub`); that becomes a typed
 * error here, as age's `curve25519.X25519` error does.
 * @throws AgeFormatError for a low-order point
 */
export function x25519(priv: KeyObject, pub: KeyObject): Buffer {
  try {
    return diffieHellman({ privateKey: priv, publicKey: pub });
  } catch (e) {
    throw new AgeFormatError("x25519 produced an all-zero shared secret (low-order point)", { cause: e });
  }
}

/**
 * A fresh X25519 private key from 32 random bytes, as age makes its keys. Not generateKeyPairSync:
 * on Node 20 exporting a key it generated can deadlock the thread when garbage collection frees the
 * key-generation job during the export (seen as a test worker frozen in ExportJWK → ~KeyGenJob).
 */
export function randomX25519(): { scalar: Buffer; priv: KeyObject } {
  const scalar = randomBytes(32);
  return { scalar, priv: x25519Private(scalar) };
}

/**
 * A fresh ephemeral X25519 key pair: the private KeyObject and the raw 32-byte share.
 * @param scalar - 32 bytes from the CSPRNG to use as the secret (a batch draws them in one call,
 *   see encryptDataKeysSync); fresh random bytes when absent. Zeroed here either way.
 */
export function ephemeral(scalar?: Uint8Array): { priv: KeyObject; share: Uint8Array } {
  const secret = scalar ?? randomBytes(32);
  const priv = x25519Private(secret);
  secret.fill(0);
  return { priv, share: x25519Raw(createPublicKey(priv)) };
}

const ZERO_SALT = Buffer.alloc(32);
/** `info ‖ 0x01` for each constant info string (the age labels), built once. */
const expandInputs = new Map<string, Buffer>();

function expandInput(info: Uint8Array | string): Buffer {
  if (typeof info !== "string") return Buffer.concat([info, Buffer.from([1])]);
  let b = expandInputs.get(info);
  if (!b) {
    b = Buffer.concat([Buffer.from(info, "latin1"), Buffer.from([1])]);
    if (expandInputs.size < 16) expandInputs.set(info, b);
  }
  return b;
}

/** HKDF-SHA256 with a 32-byte output (one HMAC block), as two HMACs: faster than hkdfSync. */
export function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string): Buffer {
  const prk = createHmac("sha256", salt.length ? salt : ZERO_SALT)
    .update(ikm)
    .digest();
  const okm = createHmac("sha256", prk).update(expandInput(info)).digest();
  prk.fill(0);
  return okm;
}

const ZERO_NONCE = Buffer.alloc(12);

/** ChaCha20-Poly1305 seal with `nonce` (default all-zero, as stanza bodies use). */
export function seal(key: Uint8Array, plain: Uint8Array, nonce: Uint8Array = ZERO_NONCE): Buffer {
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  const a = c.update(plain);
  c.final();
  return Buffer.concat([a, c.getAuthTag()]);
}

/** ChaCha20-Poly1305 open; null when authentication fails. */
export function open(key: Uint8Array, sealed: Uint8Array, nonce: Uint8Array = ZERO_NONCE): Buffer | null {
  if (sealed.length < 16) return null;
  const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  const out = d.update(sealed.subarray(0, sealed.length - 16));
  try {
    d.final();
  } catch {
    return null;
  }
  return out;
}

/** Unpadded standard base64, as age writes stanza arguments and bodies. */
export function b64raw(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("base64").replace(/=+$/, "");
}

/** Decodes unpadded base64 strictly: canonical only (re-encoding gives the same text); null otherwise. */
export function unb64raw(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) return null;
  const b = Buffer.from(s, "base64");
  return b64raw(b) === s ? b : null;
}
