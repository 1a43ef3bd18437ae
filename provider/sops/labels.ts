/**
 * Recipient labels are not authenticated: a sops `age` entry's `recipient` is plain text next to the
 * armored stanza, and anyone who can write the file can relabel an entry. keyfleet cannot fix the
 * format, but it can notice when the caller's own identities contradict a label:
 * - one of your identities opens an entry labelled with another recipient (a stranger is listed,
 *   while you, or whoever really holds that entry, can still decrypt);
 * - an entry labelled with your recipient does not open with your key (someone else holds it).
 */
import { decryptDataKeySync, recipientText, sshToAgeRecipient, type AgeIdentity } from "../age/index.js";
import { canonicalRecipientText } from "../age/text.js";
import type { AgeEntry } from "./metadata.js";

/** One contradiction between an entry's label and what the caller's identities show. */
export interface LabelMismatch {
  /** Index of the entry in `sops.age`. */
  index: number;
  /** The recipient the entry claims (public). */
  label: string;
  /** `opened-by-other`: one of your identities opens it but the label names someone else;
   * `not-opened-by-label`: the label is one of your recipients, but your key does not open it. */
  kind: "opened-by-other" | "not-opened-by-label";
  /** Your recipient involved (public) and where its identity came from (no key material). */
  yours: string;
  source: string;
}

/** Most entries × identities tried (each an X25519 operation). */
const MAX_TRIES = 20_000;

/** The recipient strings one identity answers to (an ssh key also as its ssh-to-age form). */
function namesOf(id: AgeIdentity): Set<string> {
  const r = recipientText(id.recipient());
  const names = new Set([canonicalRecipientText(r)]);
  if (id.kind === "ssh-ed25519") {
    try {
      names.add(sshToAgeRecipient(r));
    } catch {
      /* not convertible: only the ssh form */
    }
  }
  return names;
}

/**
 * Tries every identity on every entry and reports labels that contradict them. Malformed entries
 * are skipped here (unwrapDataKey reports them). Bounded to MAX_TRIES unwraps; beyond that, no check.
 */
export function labelMismatches(entries: readonly AgeEntry[], identities: readonly AgeIdentity[]): LabelMismatch[] {
  const out: LabelMismatch[] = [];
  if (entries.length * identities.length > MAX_TRIES) return out;
  const ids = identities.map((id) => ({
    id,
    exact: canonicalRecipientText(recipientText(id.recipient())),
    shown: recipientText(id.recipient()),
  }));
  // every name the caller answers to: an entry of yours labelled with another of yours is no alarm
  const mine = new Set(identities.flatMap((id) => [...namesOf(id)]));
  entries.forEach((e, index) => {
    const label = canonicalRecipientText(e.recipient);
    for (const { id, exact, shown } of ids) {
      let opens = false;
      try {
        opens = decryptDataKeySync(e.enc, [id]) !== null;
      } catch {
        opens = false;
      }
      if (opens && !mine.has(label))
        out.push({ index, label: e.recipient, kind: "opened-by-other", yours: shown, source: id.source });
      if (!opens && exact === label)
        out.push({ index, label: e.recipient, kind: "not-opened-by-label", yours: shown, source: id.source });
    }
  });
  return out;
}

/** A loud one-line description of a mismatch for `file` (public keys only). */
export function describeMismatch(file: string, m: LabelMismatch): string {
  const short = (s: string) => (s.length > 40 ? `${s.slice(0, 24)}…${s.slice(-8)}` : s);
  return m.kind === "opened-by-other"
    ? `WARNING: ${file}: age entry ${m.index + 1} is labelled ${short(m.label)} but opens with YOUR key ${short(m.yours)} (${m.source}); labels are not authenticated: the file was relabelled, and the listed recipient may not be who can decrypt it`
    : `WARNING: ${file}: age entry ${m.index + 1} is labelled with YOUR recipient ${short(m.yours)} but does not open with your key (${m.source}); someone else holds that entry: the file was tampered with`;
}
