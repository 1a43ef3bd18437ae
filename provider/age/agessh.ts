/**
 * age's `ssh-ed25519` recipient type (filippo.io/age/agessh): the Ed25519 key converted to X25519,
 * a 4-byte tag of the SSH key, and a tweak derived from the SSH wire key.
 * Edwards→Montgomery uses @noble/curves; X25519, HKDF and ChaCha20-Poly1305 use node:crypto.
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import type * as NobleEd25519 from "@noble/curves/ed25519.js";
import { AgeFormatError, KeyParseError } from "./errors";
import {
  b64raw,
  ephemeral,
  hkdf32,
  open,
  seal,
  Stanza,
  unb64raw,
  x25519,
  x25519Private,
  x25519Public,
  x25519Raw,
} from "./primitives";
import { ed25519Blob } from "./ssh";
import type { AgeIdentity, AgeRecipient } from "./types";

const LABEL = "age-encryption.org/v1/ssh-ed25519";
const EMPTY = new Uint8Array(0);

/** The Montgomery (X25519) form of an Ed25519 public key, as Go's `Point.BytesMontgomery`. @throws KeyParseError for a non-point */
export function edToMontgomery(pk: Uint8Array, where?: string): Uint8Array {
  try {
    // loaded on first use: building the curve costs ~10 ms, which every CLI start-up would pay
    const { ed25519 } = require("@noble/curves/ed25519.js") as typeof NobleEd25519;
    return ed25519.utils.toMontgomery(pk);
  } catch (e) {
    throw new KeyParseError("ssh-ed25519 public key is not a valid curve point", {
      ...(where === undefined ? {} : { where }),
      cause: e,
    });
  }
}

/** The 6-character stanza tag: unpadded base64 of SHA-256(ssh wire key)[:4]. */
export function sshTag(blob: Uint8Array): string {
  return b64raw(createHash("sha256").update(blob).digest().subarray(0, 4));
}

/** The tweak scalar: HKDF-SHA256(ikm = empty, salt = ssh wire key, info = label)[:32]. */
export function sshTweak(blob: Uint8Array): Buffer {
  return hkdf32(EMPTY, blob, LABEL);
}

/** An `ssh-ed25519 AAAA…` recipient. Construct through `parseRecipient`. */
export class SshEd25519Recipient implements AgeRecipient {
  /** Always `ssh-ed25519`. */
  readonly kind = "ssh-ed25519" as const;
  /** SSH wire encoding of the key. */
  readonly blob: Uint8Array;
  /** X25519 form of the key. */
  readonly montgomery: Uint8Array;
  /** The stanza tag of this key. */
  readonly tag: string;
  private readonly mkey: KeyObject;
  /** @internal the tweak scalar as an X25519 private key (shared with the identity) */
  readonly tweak: KeyObject;
  /** The trimmed line as given (`ssh-ed25519 AAAA… comment`) when it is not the canonical text. */
  readonly text?: string;
  /**
   * @param publicKey - 32-byte Ed25519 public key
   * @param where - where the key came from, for errors
   * @param text - the trimmed `ssh-ed25519 AAAA… comment` line it was parsed from, kept for sops metadata
   */
  constructor(
    readonly publicKey: Uint8Array,
    where?: string,
    text?: string,
  ) {
    this.blob = ed25519Blob(publicKey);
    this.montgomery = edToMontgomery(publicKey, where);
    this.mkey = x25519Public(this.montgomery);
    this.tweak = x25519Private(sshTweak(this.blob));
    this.tag = sshTag(this.blob);
    if (text !== undefined && text !== this.toString()) this.text = text;
  }
  /** `ssh-ed25519 AAAA…` without comment. */
  toString(): string {
    return `ssh-ed25519 ${Buffer.from(this.blob).toString("base64")}`;
  }
  /**
   * One `ssh-ed25519 <tag> <share>` stanza.
   * @param ephemeralSecret - 32 CSPRNG bytes for the ephemeral key (zeroed after use); fresh when absent
   * @throws AgeFormatError for a low-order key
   */
  wrapFileKey(fileKey: Uint8Array, ephemeralSecret?: Uint8Array): Stanza[] {
    const { priv, share } = ephemeral(ephemeralSecret);
    const ss = x25519(this.tweak, x25519Public(x25519(priv, this.mkey)));
    const key = hkdf32(ss, Buffer.concat([share, this.montgomery]), LABEL);
    return [new Stanza(["ssh-ed25519", this.tag, b64raw(share)], seal(key, fileKey))];
  }
}

/** An OpenSSH Ed25519 private key used as an age identity. */
export class SshEd25519Identity implements AgeIdentity {
  /** Always `ssh-ed25519`. */
  readonly kind = "ssh-ed25519" as const;
  private readonly priv: KeyObject;
  private readonly pub: Uint8Array;
  private readonly rcpt: SshEd25519Recipient;
  /**
   * @param seed - 32-byte Ed25519 seed
   * @param publicKey - 32-byte Ed25519 public key
   * @param source - where it came from, without key material
   */
  constructor(
    seed: Uint8Array,
    publicKey: Uint8Array,
    readonly source: string,
  ) {
    const scalar = createHash("sha512").update(seed).digest().subarray(0, 32);
    this.priv = x25519Private(scalar);
    this.pub = x25519Raw(createPublicKey(this.priv));
    this.rcpt = new SshEd25519Recipient(publicKey, source);
    if (!Buffer.from(this.pub).equals(Buffer.from(this.rcpt.montgomery))) {
      throw new KeyParseError("ssh-ed25519 private key does not match its public key (corrupt key)", { where: source });
    }
  }
  /** The matching `ssh-ed25519` recipient. */
  recipient(): SshEd25519Recipient {
    return this.rcpt;
  }
  /** Unwraps the first `ssh-ed25519` stanza tagged for this key; null when none is. */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== "ssh-ed25519") continue;
      if (s.args.length !== 3) throw new AgeFormatError("invalid ssh-ed25519 stanza: expected two arguments");
      const share = unb64raw(s.args[2] as string);
      if (!share || share.length !== 32)
        throw new AgeFormatError("invalid ssh-ed25519 stanza: ephemeral share must be 32 bytes of canonical base64");
      if (s.args[1] !== this.rcpt.tag) continue;
      const ss = x25519(this.rcpt.tweak, x25519Public(x25519(this.priv, x25519Public(share))));
      const key = hkdf32(ss, Buffer.concat([share, this.pub]), LABEL);
      const fileKey = s.body.length === 32 ? open(key, s.body) : null;
      if (!fileKey) throw new AgeFormatError("failed to decrypt the ssh-ed25519 stanza tagged for this key");
      return fileKey;
    }
    return null;
  }
  /** Never the key: `[age ssh-ed25519 identity from <source>]`. */
  toString(): string {
    return `[age ssh-ed25519 identity from ${this.source}]`;
  }
  /** Same as toString, so JSON.stringify cannot leak the key. */
  toJSON(): string {
    return this.toString();
  }
}
