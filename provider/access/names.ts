/**
 * Recipient naming at the string level: canonical text, short forms, fingerprints and derived names.
 *
 * These helpers need no key parsing (the full parse happens in each resource's check through
 * provider/age), so the SDK can use them during program evaluation at negligible cost.
 */
import { createHash } from "node:crypto";
import { canonicalRecipientText } from "../age/text";

/** A recipient as it travels through inputs and outputs: a display name and the canonical key text. */
export interface NamedRecipient {
  /** Display name: a Recipient's name, a HostKey's name, or one derived from the key. */
  readonly name: string;
  /** Canonical recipient: `age1…` or `ssh-ed25519 AAAA…` (comment dropped). */
  readonly recipient: string;
}

/** A named recipient with its fingerprint, as recorded in outputs, exposure and the audit log. */
export interface FingerprintedRecipient extends NamedRecipient {
  /** `SHA256:…` (ssh-keygen -lf form for ssh keys, sha256 of the text for age keys). */
  readonly fingerprint: string;
}

export { canonicalRecipientText };

/** The comment of an `ssh-… AAAA… comment` line, or undefined. */
export function sshComment(text: string): string | undefined {
  const t = text.trim();
  if (!t.startsWith("ssh-")) return undefined;
  const parts = t.split(/\s+/);
  const comment = parts.slice(2).join(" ").trim();
  return comment === "" ? undefined : comment;
}

/** Short display form: `age1abcd…wxyz` or `ssh-ed25519 AAAA…wxyz`. */
export function shortRecipient(text: string): string {
  const c = canonicalRecipientText(text);
  if (c.startsWith("ssh-")) {
    const [type, blob = ""] = c.split(" ");
    return blob.length > 16 ? `${type} ${blob.slice(0, 4)}…${blob.slice(-8)}` : c;
  }
  return c.length > 16 ? `${c.slice(0, 8)}…${c.slice(-6)}` : c;
}

/**
 * Fingerprint of a recipient: for ssh keys `SHA256:` + unpadded base64 of sha256 over the key blob,
 * exactly as `ssh-keygen -lf` prints it; for age keys the same over the canonical text.
 */
export function recipientFingerprint(text: string): string {
  const c = canonicalRecipientText(text);
  const data = c.startsWith("ssh-") ? Buffer.from(c.split(" ")[1] ?? "", "base64") : Buffer.from(c, "utf8");
  return "SHA256:" + createHash("sha256").update(data).digest("base64").replace(/=+$/, "");
}

/** Name for a plain-string recipient: the ssh key's comment, or its short form. */
export function deriveRecipientName(text: string): string {
  return sshComment(text) ?? shortRecipient(text);
}

/** Label shown in inputs and logs: `alice (age1abcd…wxyz)`. */
export function recipientLabel(r: NamedRecipient): string {
  return `${r.name} (${shortRecipient(r.recipient)})`;
}

/** Adds the fingerprint to a named recipient. */
export function fingerprinted(r: NamedRecipient): FingerprintedRecipient {
  return {
    name: r.name,
    recipient: canonicalRecipientText(r.recipient),
    fingerprint: recipientFingerprint(r.recipient),
  };
}
