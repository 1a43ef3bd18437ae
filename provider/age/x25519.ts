/**
 * age's native X25519 recipient type (`-> X25519 <share>`), on node:crypto's X25519.
 * Mirrors filippo.io/age x25519.go: the same stanza bytes, the same errors-versus-"not mine" split.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { bech32Encode } from "./bech32";
import { AgeFormatError } from "./errors";
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
import type { AgeIdentity, AgeRecipient } from "./types";

const LABEL = "age-encryption.org/v1/X25519";

/** An `age1…` recipient. Construct through `parseRecipient`, which validates it. */
export class X25519Recipient implements AgeRecipient {
  /** Always `x25519`. */
  readonly kind = "x25519" as const;
  private readonly key: KeyObject;
  /** @param publicKey - the 32-byte X25519 public value, already validated */
  constructor(readonly publicKey: Uint8Array) {
    this.key = x25519Public(publicKey);
  }
  /** `age1…`. */
  toString(): string {
    return bech32Encode("age", this.publicKey);
  }
  /**
   * One `X25519` stanza wrapping `fileKey`.
   * @param ephemeralSecret - 32 CSPRNG bytes for the ephemeral key (zeroed after use); fresh when absent
   * @throws AgeFormatError for a low-order recipient
   */
  wrapFileKey(fileKey: Uint8Array, ephemeralSecret?: Uint8Array): Stanza[] {
    const { priv, share } = ephemeral(ephemeralSecret);
    const ss = x25519(priv, this.key);
    const salt = Buffer.concat([share, this.publicKey]);
    const body = seal(hkdf32(ss, salt, LABEL), fileKey);
    return [new Stanza(["X25519", b64raw(share)], body)];
  }
}

/** An `AGE-SECRET-KEY-1…` identity. */
export class X25519Identity implements AgeIdentity {
  /** Always `x25519`. */
  readonly kind = "x25519" as const;
  private readonly priv: KeyObject;
  private readonly pub: Uint8Array;
  /**
   * @param scalar - the 32-byte X25519 secret scalar (used as-is; X25519 clamps)
   * @param source - where it came from, without key material
   */
  constructor(
    scalar: Uint8Array,
    readonly source: string,
  ) {
    this.priv = x25519Private(scalar);
    this.pub = x25519Raw(createPublicKey(this.priv));
  }
  /** The matching `age1…` recipient. */
  recipient(): X25519Recipient {
    return new X25519Recipient(this.pub);
  }
  /** Unwraps the first `X25519` stanza that opens with this key; null when none does. */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      const k = this.unwrapOne(s);
      if (k) return k;
    }
    return null;
  }
  private unwrapOne(s: Stanza): Uint8Array | null {
    if (s.args[0] !== "X25519") return null;
    if (s.args.length !== 2) throw new AgeFormatError("invalid X25519 stanza: expected exactly one argument");
    const share = unb64raw(s.args[1] as string);
    if (!share || share.length !== 32)
      throw new AgeFormatError("invalid X25519 stanza: ephemeral share must be 32 bytes of canonical base64");
    if (s.body.length !== 32) throw new AgeFormatError("invalid X25519 stanza: incorrect file key size");
    const ss = x25519(this.priv, x25519Public(share));
    const key = hkdf32(ss, Buffer.concat([share, this.pub]), LABEL);
    return open(key, s.body); // authentication failure: another recipient's stanza
  }
  /** Never the key: `[age x25519 identity from <source>]`. */
  toString(): string {
    return `[age x25519 identity from ${this.source}]`;
  }
  /** Same as toString, so JSON.stringify cannot leak the key. */
  toJSON(): string {
    return this.toString();
  }
}
