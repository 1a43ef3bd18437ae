/**
 * Pinned ssh-ed25519 host keys: parse the pinned line into its wire blob, compare blobs exactly and
 * print fingerprints as `ssh-keygen -lf` does ("SHA256:" + unpadded base64 of sha256(blob)).
 * Line parsing and fingerprints come from provider/age's OpenSSH key code (one parser for the repo);
 * this file adds the host-key policy: ed25519 only, exact blob comparison.
 */
import { parseSshPublicKey, sshFingerprint } from "../age/ssh";
import { HostKeyParseError } from "./errors";

/** A parsed, validated ssh-ed25519 public host key. */
export interface PinnedHostKey {
  /** Always "ssh-ed25519" (the only host key type keyfleet accepts). */
  readonly type: "ssh-ed25519";
  /** SSH wire blob: string "ssh-ed25519" + string(32-byte key). */
  readonly blob: Buffer;
  /** Canonical line "ssh-ed25519 AAAA…" (no comment). */
  readonly line: string;
  /** "SHA256:…" as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

const MAX_LINE = 4096;

/** "SHA256:" + unpadded base64 of sha256(blob). */
export function fingerprintBlob(blob: Uint8Array): string {
  return sshFingerprint({ type: "ssh-ed25519", blob, comment: "" });
}

/**
 * Parse an ssh-ed25519 wire blob (as ssh2's hostVerifier presents it).
 * @throws HostKeyParseError when the blob is not a well-formed ssh-ed25519 key
 */
export function hostKeyFromBlob(blob: Uint8Array, where = "host key"): PinnedHostKey {
  const b = Buffer.from(blob);
  const fail = (why: string) => new HostKeyParseError(`${where} is not an ssh-ed25519 key: ${why}`);
  if (b.length < 4) throw fail("blob too short");
  const tlen = b.readUInt32BE(0);
  if (tlen > 64 || 4 + tlen + 4 > b.length) throw fail("bad key type length");
  const type = b.subarray(4, 4 + tlen).toString("latin1");
  if (type !== "ssh-ed25519") throw fail(`key type is ${JSON.stringify(type.slice(0, 32))}`);
  const klen = b.readUInt32BE(4 + tlen);
  if (klen !== 32 || 4 + tlen + 4 + klen !== b.length) throw fail("public key must be exactly 32 bytes");
  return { type: "ssh-ed25519", blob: b, line: `ssh-ed25519 ${b.toString("base64")}`, fingerprint: fingerprintBlob(b) };
}

/**
 * Parse a pinned host key line: "ssh-ed25519 AAAA… [comment]", or a known_hosts line whose
 * second field is the key type ("host ssh-ed25519 AAAA…").
 * @throws HostKeyParseError on anything else (other key types, bad base64, wrong length, type mismatch)
 */
export function parsePinnedHostKey(line: string, where = "hostKey"): PinnedHostKey {
  if (typeof line !== "string") throw new HostKeyParseError(`${where} must be a string`);
  if (line.length > MAX_LINE) throw new HostKeyParseError(`${where} is longer than ${MAX_LINE} characters`);
  let k: ReturnType<typeof parseSshPublicKey>;
  try {
    k = parseSshPublicKey(line, where);
  } catch (e) {
    throw new HostKeyParseError(`${where} is not a valid ssh public key: ${(e as Error).message}`, { cause: e });
  }
  if (k.type !== "ssh-ed25519")
    throw new HostKeyParseError(`${where} must be an ssh-ed25519 key, got ${JSON.stringify(k.type.slice(0, 40))}`);
  return hostKeyFromBlob(k.blob, where);
}

/** True when both blobs are byte-identical. */
export function sameHostKey(a: PinnedHostKey, presented: Uint8Array): boolean {
  return a.blob.length === presented.length && a.blob.equals(Buffer.from(presented));
}
