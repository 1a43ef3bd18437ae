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

/** What changes between the recipients a file has and the ones it should have. */
export interface RecipientDelta<T> {
  /** Desired recipients the file lacks, in desired order, each key once (its first occurrence). */
  readonly added: T[];
  /** Current recipients (as written, an ssh comment kept) that are not desired, each key once. */
  readonly removed: string[];
}

/**
 * The one recipient comparison: `current` (recipient strings as a file records them) against
 * `desired` (recipient strings, parsed recipients, or anything `text` maps to recipient text).
 * Two recipients are the same when their canonical text is ({@link canonicalRecipientText}), so an
 * ssh key with or without its comment is neither added nor removed.
 */
export function recipientDelta<T>(
  current: readonly string[],
  desired: readonly T[],
  text: (d: T) => string = String,
): RecipientDelta<T> {
  const have = new Set(current.map(canonicalRecipientText));
  const want = new Set<string>();
  const added: T[] = [];
  for (const d of desired) {
    const k = canonicalRecipientText(text(d));
    if (!want.has(k) && !have.has(k)) added.push(d);
    want.add(k);
  }
  const seen = new Set<string>();
  const removed: string[] = [];
  for (const c of current) {
    const k = canonicalRecipientText(c);
    if (!want.has(k) && !seen.has(k)) removed.push(c);
    seen.add(k);
  }
  return { added, removed };
}
