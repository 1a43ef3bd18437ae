/**
 * The preview audit: who gains and who loses access to a file, computed from the sops metadata on
 * disk (no decryption) and the new recipient list.
 */
import { recipientDelta } from "../age/text";
import {
  canonicalRecipientText,
  fingerprinted,
  recipientLabel,
  shortRecipient,
  type FingerprintedRecipient,
  type NamedRecipient,
} from "./names";
import { computeExposure, type Exposure, type ListedKey } from "./exposure";

/** The result of comparing the recipients in a file with the desired ones. */
export interface AccessChange {
  /** The file. */
  readonly file: string;
  /** True when the file does not exist yet. */
  readonly newFile: boolean;
  /** Recipients that gain access. */
  readonly gains: FingerprintedRecipient[];
  /** Recipients that lose access. */
  readonly loses: FingerprintedRecipient[];
  /** Per losing recipient, the key names it could read. */
  readonly exposure: Exposure[];
}

/**
 * Compares the recipients currently in a file (`current`, from readMetadata; undefined when the
 * file does not exist) with the desired named recipients. `knownNames` names recipients that
 * leave (e.g. from the audit log); otherwise their short form is used.
 */
export function computeAccessChange(o: {
  file: string;
  current: readonly string[] | undefined;
  desired: readonly NamedRecipient[];
  keys: readonly ListedKey[];
  knownNames?: ReadonlyMap<string, string>;
}): AccessChange {
  const delta = recipientDelta(o.current ?? [], o.desired, (r) => r.recipient);
  const gains = delta.added.map(fingerprinted);
  const loses = delta.removed
    .map(canonicalRecipientText)
    .map((k) => fingerprinted({ name: o.knownNames?.get(k) ?? shortRecipient(k), recipient: k }));
  return { file: o.file, newFile: o.current === undefined, gains, loses, exposure: computeExposure(loses, o.keys) };
}

/** True when the access change has anything to report. */
export function hasAccessChange(c: AccessChange): boolean {
  return c.gains.length > 0 || c.loses.length > 0;
}

/**
 * Human summary, one line per fact, e.g.
 * `secrets/app.yaml: + vps-3 (age1…) gains access` /
 * `secrets/app.yaml: - bob (age1…) loses access; could read db.password, api.token: rotate these values`.
 */
export function formatAccessChange(c: AccessChange): string {
  const lines: string[] = [];
  if (c.newFile) lines.push(`${c.file}: new file, readable by ${c.gains.map(recipientLabel).join(", ") || "nobody"}`);
  else for (const g of c.gains) lines.push(`${c.file}: + ${recipientLabel(g)} gains access`);
  for (const l of c.loses) {
    const ex = c.exposure.find((e) => e.fingerprint === l.fingerprint);
    const keys = ex && ex.keys.length > 0 ? `; could read ${ex.keys.join(", ")}: rotate these values` : "";
    lines.push(`${c.file}: - ${recipientLabel(l)} loses access${keys}`);
  }
  return lines.join("\n");
}
