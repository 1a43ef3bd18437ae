/**
 * Recipient identity at the string level, without parsing the key: what makes two recipient strings
 * the same recipient. Kept free of crypto imports so the SDK can use it during program evaluation.
 */

/**
 * Canonical text of a recipient string: trimmed, and for ssh keys only the type and base64 blob (the
 * comment is dropped, so `ssh-ed25519 AAAA… web-1` and `ssh-ed25519 AAAA…` are the same recipient).
 * Unknown shapes are returned trimmed.
 */
export function canonicalRecipientText(text: string): string {
  const t = text.trim();
  if (t.startsWith("ssh-")) {
    const parts = t.split(/\s+/);
    return parts.length >= 2 ? `${parts[0]} ${parts[1]}` : t;
  }
  return t;
}
