/**
 * Parsing of recipients and identities from text, ssh-to-age conversion and key generation.
 * Every parser bounds its input, reports where (line numbers for key files) and never quotes a
 * secret in an error.
 */
import { createHash, createPublicKey } from "node:crypto";
import { SshEd25519Identity, SshEd25519Recipient, edToMontgomery } from "./agessh";
import { bech32Decode, bech32Encode } from "./bech32";
import { KeyParseError, UnsupportedKeyError } from "./errors";
import { randomX25519, x25519, x25519Private, x25519Public, x25519Raw } from "./primitives";
import { MAX_SSH_KEY_BYTES, isOpenSshPrivateKey, parseOpenSshPrivateKey, parseSshPublicKey } from "./ssh";
import type { AgeIdentity, AgeRecipient } from "./types";
import { X25519Identity, X25519Recipient } from "./x25519";

/** Largest identity file accepted (age's own limit for key files). */
export const MAX_IDENTITY_FILE_BYTES = 1 << 24;

const SECRET_PREFIX = "AGE-SECRET-KEY-1";
const SECRET_HRP = "age-secret-key-";
let probe: ReturnType<typeof x25519Private> | undefined;

function w(where?: string): { where?: string } {
  return where === undefined ? {} : { where };
}

/** Parses `age1…` (X25519) and checks HRP, checksum, length and that it is not a low-order point. */
export function parseX25519Recipient(s: string, where?: string): X25519Recipient {
  if (s.startsWith("age1pq1") || s.startsWith("age1tag")) {
    throw new KeyParseError("post-quantum and tag age recipients are not supported", {
      ...w(where),
      code: "KEY_UNSUPPORTED",
      hint: "use an X25519 (age1…) or ssh-ed25519 recipient",
    });
  }
  const { hrp, data } = bech32Decode(s, where);
  if (hrp !== "age") throw new KeyParseError(`recipient has type "${hrp}", expected "age"`, w(where));
  if (s !== s.toLowerCase()) throw new KeyParseError("age recipient must be lowercase", w(where));
  if (data.length !== 32) throw new KeyParseError(`age recipient must hold 32 bytes, got ${data.length}`, w(where));
  probe ??= x25519Private(createHash("sha256").update("keyfleet low-order probe").digest());
  try {
    x25519(probe, x25519Public(data));
  } catch (e) {
    throw new KeyParseError("age recipient is a low-order point", { ...w(where), cause: e });
  }
  return new X25519Recipient(data);
}

/**
 * Parses a recipient: `age1…` or an `ssh-ed25519 AAAA… [comment]` line (authorized_keys or
 * known_hosts form). The result's `toString()` is canonical; a plain `ssh-ed25519 AAAA… comment`
 * line (no host or options prefix, as sops accepts it) is also kept trimmed in `text`.
 * @throws KeyParseError (UnsupportedKeyError for ssh-rsa and other types)
 */
export function parseRecipient(text: string, where?: string): AgeRecipient {
  if (typeof text !== "string") throw new KeyParseError("recipient must be a string", w(where));
  if (text.length > MAX_SSH_KEY_BYTES)
    throw new KeyParseError(`recipient longer than ${MAX_SSH_KEY_BYTES} bytes`, w(where));
  const s = text.trim();
  if (s === "")
    throw new KeyParseError("empty recipient", { ...w(where), hint: "give an age1… or ssh-ed25519 AAAA… public key" });
  if (s.startsWith("AGE-SECRET-KEY-"))
    throw new KeyParseError("expected a recipient (public key) but got an age identity (secret key)", {
      ...w(where),
      hint: "use the public key printed by age-keygen -y",
    });
  if (/^age[a-z0-9-]*1\S+$/i.test(s)) return parseX25519Recipient(s, where);
  if (s.includes("PRIVATE KEY-----"))
    throw new KeyParseError("expected a recipient (public key) but got an ssh private key", {
      ...w(where),
      hint: "use the .pub file",
    });
  const key = parseSshPublicKey(s, where);
  if (key.type !== "ssh-ed25519" || !key.ed25519) throw new UnsupportedKeyError(key.type, where);
  const plain = key.hosts === undefined && key.options === undefined && s.startsWith("ssh-ed25519");
  return new SshEd25519Recipient(key.ed25519, where, plain ? s : undefined);
}

/**
 * The recipient string sops records for `r` in an `age` entry: the trimmed text as given (an ssh
 * key's comment included), else the canonical `toString()`.
 */
export function recipientText(r: AgeRecipient): string {
  return r.text ?? r.toString();
}

/** Parses one `AGE-SECRET-KEY-1…` string. @throws KeyParseError */
export function parseX25519Identity(s: string, source: string): X25519Identity {
  if (s.startsWith("AGE-SECRET-KEY-PQ-1")) {
    throw new KeyParseError("post-quantum hybrid age identities are not supported", {
      where: source,
      code: "KEY_UNSUPPORTED",
      hint: "use an X25519 identity (age-keygen without -pq)",
    });
  }
  if (!s.startsWith(SECRET_PREFIX))
    throw new KeyParseError("expected an AGE-SECRET-KEY-1… identity", { where: source });
  const { hrp, data } = bech32Decode(s, source);
  if (hrp !== SECRET_HRP) throw new KeyParseError("identity has an unknown type", { where: source });
  if (data.length !== 32)
    throw new KeyParseError(`age identity must hold 32 bytes, got ${data.length}`, { where: source });
  return new X25519Identity(data, source);
}

/**
 * Parses identities from a key file or string: an age-keygen file (comments, `# public key:` lines
 * and blank lines allowed; errors give the line number), bare `AGE-SECRET-KEY-1…` strings, or an
 * unencrypted OpenSSH Ed25519 private key.
 * @param source - where the text came from, e.g. `SOPS_AGE_KEY_FILE=/x/keys.txt`; identities get
 *   `source line N`
 * @throws KeyParseError, EncryptedKeyError, UnsupportedKeyError; also when no identity is found
 */
export function parseIdentities(text: string, source: string): AgeIdentity[] {
  if (typeof text !== "string") throw new KeyParseError("identity text must be a string", { where: source });
  if (text.length > MAX_IDENTITY_FILE_BYTES)
    throw new KeyParseError(`identity file larger than ${MAX_IDENTITY_FILE_BYTES} bytes`, { where: source });
  if (isOpenSshPrivateKey(text)) {
    const k = parseOpenSshPrivateKey(text, source);
    return [new SshEd25519Identity(k.seed, k.publicKey, source)];
  }
  if (text.includes("\uFFFD")) throw new KeyParseError("identity file is not valid utf-8", { where: source });
  const out: AgeIdentity[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${source} line ${n + 1}`;
    if (line.startsWith("-----BEGIN ")) {
      throw new KeyParseError(
        "expected age identities or an openssh ed25519 private key, got another pem private key format",
        {
          where,
          code: "KEY_UNSUPPORTED",
          hint: "use an ssh-ed25519 key in openssh format (ssh-keygen -t ed25519) or an AGE-SECRET-KEY-1… identity",
        },
      );
    }
    if (/^(ssh-|ecdsa-|sk-|age1)/.test(line)) {
      throw new KeyParseError("expected an identity (private key) but got a public key", {
        where,
        hint: "point it at the private key file, not the .pub or recipient",
      });
    }
    out.push(parseX25519Identity(line, where));
  }
  if (out.length === 0)
    throw new KeyParseError("no age identities found", {
      where: source,
      hint: "generate one with keyfleet keygen or age-keygen",
    });
  return out;
}

/** The `AGE-SECRET-KEY-1…` text of a 32-byte scalar (uppercase bech32). */
export function encodeX25519Identity(scalar: Uint8Array): string {
  return bech32Encode(SECRET_HRP, scalar).toUpperCase();
}

/** A fresh X25519 identity and its recipient, as age-keygen makes them. */
export function generateX25519(): { identity: string; recipient: string } {
  const { scalar, priv } = randomX25519();
  const out = {
    identity: encodeX25519Identity(scalar),
    recipient: bech32Encode("age", x25519Raw(createPublicKey(priv))),
  };
  scalar.fill(0);
  return out;
}

/**
 * ssh-to-age public conversion: an `ssh-ed25519` public key line (authorized_keys or known_hosts
 * form) to `age1…`, byte-identical to Mic92/ssh-to-age.
 * @throws UnsupportedKeyError for other key types; KeyParseError when malformed
 */
export function sshToAgeRecipient(line: string): string {
  const key = parseSshPublicKey(line);
  if (key.type !== "ssh-ed25519" || !key.ed25519) throw new UnsupportedKeyError(key.type);
  return bech32Encode("age", edToMontgomery(key.ed25519));
}

/**
 * ssh-to-age private conversion: an unencrypted OpenSSH Ed25519 private key to
 * `AGE-SECRET-KEY-1…` with the *unclamped* scalar SHA-512(seed)[:32], as Mic92/ssh-to-age prints it.
 * @throws EncryptedKeyError, UnsupportedKeyError, KeyParseError
 */
export function sshToAgeIdentity(pem: string): string {
  const k = parseOpenSshPrivateKey(pem);
  const scalar = createHash("sha512").update(k.seed).digest().subarray(0, 32);
  const out = encodeX25519Identity(scalar);
  scalar.fill(0);
  return out;
}
