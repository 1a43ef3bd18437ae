/**
 * OpenSSH key parsing: public key lines (authorized_keys and known_hosts form), the wire blob,
 * `SHA256:` fingerprints as `ssh-keygen -lf` prints them, and unencrypted `openssh-key-v1` private
 * keys (ed25519 only). Nothing here ever puts key material into an error message.
 */
import { createHash } from "node:crypto";
import { EncryptedKeyError, KeyParseError, UnsupportedKeyError } from "./errors";

/** Largest public key line or private key file we accept (bounds untrusted input). */
export const MAX_SSH_KEY_BYTES = 64 * 1024;

/** A parsed SSH public key line. */
export interface SshPublicKey {
  /** Key type from the blob, e.g. `ssh-ed25519`, `ssh-rsa`. */
  readonly type: string;
  /** The SSH wire encoding (what the base64 field decodes to). */
  readonly blob: Uint8Array;
  /** The 32-byte Ed25519 public key when `type` is `ssh-ed25519`. */
  readonly ed25519?: Uint8Array;
  /** Trailing comment, "" when none. */
  readonly comment: string;
  /** known_hosts host patterns, when the line had a host field. */
  readonly hosts?: readonly string[];
  /** authorized_keys options prefix, when the line had one. */
  readonly options?: string;
}

/** An unencrypted OpenSSH Ed25519 private key. */
export interface SshEd25519PrivateKey {
  /** The 32-byte seed (RFC 8032 private key). Secret. */
  readonly seed: Uint8Array;
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** The key's comment. */
  readonly comment: string;
}

const KEY_TYPE =
  /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;

/** Reads SSH wire strings from a buffer, failing with a typed error when truncated. */
export class WireReader {
  private off = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly where?: string,
  ) {}
  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.off;
  }
  /** Everything not read yet. */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.off);
    this.off = this.buf.length;
    return out;
  }
  /** A big-endian uint32. */
  u32(): number {
    if (this.remaining < 4) this.fail();
    const b = this.buf;
    const v = ((b[this.off]! << 24) | (b[this.off + 1]! << 16) | (b[this.off + 2]! << 8) | b[this.off + 3]!) >>> 0;
    this.off += 4;
    return v;
  }
  /** A length-prefixed byte string. */
  bytes(): Uint8Array {
    const n = this.u32();
    if (n > this.remaining) this.fail();
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  /** A length-prefixed string decoded as latin1 (types and names are ASCII). */
  string(): string {
    return Buffer.from(this.bytes()).toString("latin1");
  }
  private fail(): never {
    throw new KeyParseError("truncated ssh key data", this.where === undefined ? {} : { where: this.where });
  }
}

/** Encodes SSH wire strings. */
export function wireString(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    dv.setUint32(off, p.length);
    out.set(p, off + 4);
    off += 4 + p.length;
  }
  return out;
}

const ED_TYPE = new TextEncoder().encode("ssh-ed25519");

/** The wire blob of an Ed25519 public key: string("ssh-ed25519") ‖ string(pk). */
export function ed25519Blob(pk: Uint8Array): Uint8Array {
  return wireString(ED_TYPE, pk);
}

function decodeB64Strict(s: string, where?: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new KeyParseError("ssh key base64 is invalid", where === undefined ? {} : { where });
  }
  return Buffer.from(s, "base64");
}

function parseBlob(blob: Uint8Array, textType: string, where?: string): { type: string; ed25519?: Uint8Array } {
  const r = new WireReader(blob, where);
  const type = r.string();
  if (type !== textType) {
    throw new KeyParseError(
      `ssh key type ${textType} does not match its encoded type`,
      where === undefined ? {} : { where },
    );
  }
  if (type !== "ssh-ed25519") return { type };
  const pk = r.bytes();
  if (pk.length !== 32 || r.remaining !== 0) {
    throw new KeyParseError("ssh-ed25519 public key must be 32 bytes", where === undefined ? {} : { where });
  }
  return { type, ed25519: Uint8Array.from(pk) };
}

/**
 * Parses one public key line: `ssh-ed25519 AAAA… comment`, an authorized_keys line with an options
 * prefix (`from="…",no-pty ssh-ed25519 AAAA…`), or a known_hosts line (`host1,host2 ssh-ed25519 AAAA…`,
 * optionally after `@cert-authority`/`@revoked`). Any key type is accepted here; callers that need
 * Ed25519 check `type`.
 * @throws KeyParseError on empty, oversized, malformed or truncated input
 */
export function parseSshPublicKey(line: string, where?: string): SshPublicKey {
  const w = where === undefined ? {} : { where };
  if (typeof line !== "string") throw new KeyParseError("ssh public key must be a string", w);
  if (line.length > MAX_SSH_KEY_BYTES)
    throw new KeyParseError(`ssh public key longer than ${MAX_SSH_KEY_BYTES} bytes`, w);
  const text = line.trim();
  if (text === "") throw new KeyParseError("empty ssh public key", w);
  if (/[\r\n]/.test(text)) throw new KeyParseError("ssh public key must be a single line", w);
  const tokens = text.split(/[ \t]+/);
  const i = tokens.findIndex((t, k) => KEY_TYPE.test(t) && k + 1 < tokens.length);
  if (i < 0) {
    const first = tokens[0] ?? "";
    if (tokens.length === 1 && KEY_TYPE.test(first)) throw new KeyParseError("ssh public key has no key data", w);
    throw new KeyParseError("not an ssh public key line (expected e.g. ssh-ed25519 AAAA…)", w);
  }
  const type = tokens[i] as string;
  const blob = decodeB64Strict(tokens[i + 1] as string, where);
  const parsed = parseBlob(blob, type, where);
  const prefix = tokens.slice(0, i);
  const comment = tokens.slice(i + 2).join(" ");
  const key: { -readonly [K in keyof SshPublicKey]: SshPublicKey[K] } = { type: parsed.type, blob, comment };
  if (parsed.ed25519) key.ed25519 = parsed.ed25519;
  if (prefix[0]?.startsWith("@")) prefix.shift();
  if (prefix.length === 1 && !/[="]/.test(prefix[0] as string)) key.hosts = (prefix[0] as string).split(",");
  else if (prefix.length) key.options = prefix.join(" ");
  return key;
}

/**
 * The SHA-256 fingerprint exactly as `ssh-keygen -lf` prints it: `SHA256:` and the unpadded
 * standard base64 of SHA-256(blob).
 * @throws KeyParseError when `key` is a string that does not parse
 */
export function sshFingerprint(key: SshPublicKey | string): string {
  const k = typeof key === "string" ? parseSshPublicKey(key) : key;
  return "SHA256:" + createHash("sha256").update(k.blob).digest("base64").replace(/=+$/, "");
}

/** The canonical `ssh-ed25519 AAAA…` text of a key (comment dropped). */
export function sshPublicKeyText(key: SshPublicKey): string {
  return `${key.type} ${Buffer.from(key.blob).toString("base64")}`;
}

const PEM_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const PEM_END = "-----END OPENSSH PRIVATE KEY-----";
const MAGIC = "openssh-key-v1\0";

/** True when `text` looks like an OpenSSH private key PEM. */
export function isOpenSshPrivateKey(text: string): boolean {
  return text.trimStart().startsWith(PEM_BEGIN);
}

/**
 * Parses an unencrypted OpenSSH (`openssh-key-v1`) Ed25519 private key, checking the check-ints,
 * that the public halves agree and the padding.
 * @throws EncryptedKeyError when passphrase-protected; UnsupportedKeyError for other key types;
 * KeyParseError when malformed
 */
export function parseOpenSshPrivateKey(pem: string, where?: string): SshEd25519PrivateKey {
  const w = where === undefined ? {} : { where };
  if (pem.length > MAX_SSH_KEY_BYTES)
    throw new KeyParseError(`private key file larger than ${MAX_SSH_KEY_BYTES} bytes`, w);
  const text = pem.trim().replace(/\r\n/g, "\n");
  if (!text.startsWith(PEM_BEGIN)) {
    if (/^-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----/.test(text))
      throw new UnsupportedKeyError("pem " + (/BEGIN (\w+)/.exec(text)?.[1] ?? "").toLowerCase(), where);
    throw new KeyParseError("not an openssh private key (expected -----BEGIN OPENSSH PRIVATE KEY-----)", w);
  }
  if (!text.endsWith(PEM_END)) throw new KeyParseError("openssh private key has no END line", w);
  const body = text.slice(PEM_BEGIN.length, text.length - PEM_END.length).replace(/\s+/g, "");
  const raw = decodeB64Strict(body, where);
  if (Buffer.from(raw.subarray(0, MAGIC.length)).toString("latin1") !== MAGIC)
    throw new KeyParseError("openssh private key has a bad magic", w);
  const r = new WireReader(raw.subarray(MAGIC.length), where);
  const cipher = r.string();
  const kdf = r.string();
  r.bytes(); // kdf options
  if (cipher !== "none" || kdf !== "none") throw new EncryptedKeyError(where);
  const n = r.u32();
  if (n !== 1) throw new KeyParseError(`openssh private key holds ${n} keys, expected 1`, w);
  const pubBlob = r.bytes();
  const priv = new WireReader(r.bytes(), where);
  const c1 = priv.u32();
  const c2 = priv.u32();
  if (c1 !== c2) throw new KeyParseError("openssh private key check-ints differ (corrupt key)", w);
  const type = priv.string();
  // a corrupt length makes `type` span the key bytes that follow: quote only a real key type name
  if (type !== "ssh-ed25519") throw new UnsupportedKeyError(KEY_TYPE.test(type) ? type : "an unrecognised", where);
  const pub = priv.bytes();
  const sk = priv.bytes();
  const comment = Buffer.from(priv.bytes()).toString("utf8");
  if (pub.length !== 32 || sk.length !== 64) throw new KeyParseError("openssh ed25519 key has wrong lengths", w);
  const outer = parseBlob(pubBlob, "ssh-ed25519", where);
  if (
    !Buffer.from(sk.subarray(32)).equals(Buffer.from(pub)) ||
    !Buffer.from(outer.ed25519 as Uint8Array).equals(Buffer.from(pub))
  ) {
    throw new KeyParseError("openssh private key public halves disagree (corrupt key)", w);
  }
  const rest = priv.rest();
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== i + 1) throw new KeyParseError("openssh private key has bad padding (corrupt key)", w);
  }
  return { seed: Uint8Array.from(sk.subarray(0, 32)), publicKey: Uint8Array.from(pub), comment };
}
