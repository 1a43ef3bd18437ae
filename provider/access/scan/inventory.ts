/**
 * The secret inventory a scan searches for: the sops files found, their recipients and key names
 * (no key needed), and the values of the encrypted keys of each file the user's identities open,
 * decrypted in memory only. Also builds the one matcher over every searched form.
 */
import type { AgeIdentity } from "../../age";
import {
  decrypt,
  formatFromPath,
  leafText,
  listKeys,
  readMetadata,
  NoIdentityError,
  UnsupportedError,
} from "../../sops";
import { isKeyfleetError } from "../../errors";
import { canonicalRecipientText, recipientFingerprint } from "../names";
import { DEFAULT_SKIP, encodedForms, skipValue, type SkipRules, type ValueEncoding } from "./encodings";
import { MultiMatcher } from "./matcher";

/** A candidate sops file: a path (as shown) and its text. */
export interface SopsCandidate {
  readonly path: string;
  readonly text: string;
}

/** One secret value: held in memory for the scan, never written or printed. */
export interface SecretValue {
  readonly file: string;
  readonly key: string;
  readonly text: string;
}

/** What a scan knows about the secrets. */
export interface Inventory {
  /** Paths of the sops files found. */
  readonly sopsFiles: string[];
  /** Canonical recipients of those files. */
  readonly recipients: string[];
  /** Dotted names of their encrypted keys. */
  readonly keyNames: string[];
  /** Values of the files the identities opened. */
  readonly values: SecretValue[];
  /** Sops files no identity opened (their values are not searched). */
  readonly undecrypted: string[];
  /** Sops files that could not be read or verified, with the reason (never a value). */
  readonly broken: { path: string; reason: string }[];
}

/** True when `text` looks like a sops file of the format its path implies. */
export function isSopsText(text: string, path: string): boolean {
  if (!text.includes("sops")) return false;
  try {
    readMetadata(text, formatFromPath(path), path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads every candidate that is a sops file; decrypts it in memory when `identities` is given
 * (no-key mode: undefined). Values of unencrypted keys are public and not collected.
 */
export async function loadInventory(
  candidates: readonly SopsCandidate[],
  identities: AgeIdentity[] | undefined,
): Promise<Inventory> {
  const inv: Inventory = { sopsFiles: [], recipients: [], keyNames: [], values: [], undecrypted: [], broken: [] };
  const recipients = new Set<string>();
  const keyNames = new Set<string>();
  const seenText = new Set<string>();
  for (const c of candidates) {
    if (!isSopsText(c.text, c.path) || seenText.has(c.text)) continue;
    seenText.add(c.text);
    const format = formatFromPath(c.path);
    inv.sopsFiles.push(c.path);
    const meta = readMetadata(c.text, format, c.path);
    for (const r of [...meta.recipients, ...(meta.groupRecipients ?? []).flat()])
      recipients.add(canonicalRecipientText(r));
    const encrypted = new Set(
      listKeys(c.text, format, c.path)
        .filter((k) => k.encrypted)
        .map((k) => k.path.join(".")),
    );
    for (const k of encrypted) keyNames.add(k);
    if (!identities) {
      inv.undecrypted.push(c.path);
      continue;
    }
    try {
      const d = await decrypt(c.text, { format, identities, file: c.path });
      for (const l of d.leaves) {
        const key = l.path.join(".");
        if (encrypted.has(key)) inv.values.push({ file: c.path, key, text: leafText(l.value) });
      }
    } catch (e) {
      if (e instanceof NoIdentityError || e instanceof UnsupportedError) inv.undecrypted.push(c.path);
      else inv.broken.push({ path: c.path, reason: isKeyfleetError(e) ? e.message : "cannot decrypt" });
    }
  }
  inv.recipients.push(...[...recipients].sort());
  inv.keyNames.push(...[...keyNames].sort());
  return inv;
}

/** What a pattern of the matcher stands for. */
export type PatternInfo =
  | { readonly kind: "value"; readonly value: number; readonly encoding: ValueEncoding }
  | { readonly kind: "recipient" | "fingerprint" | "key-name"; readonly label: string };

/** The matcher over every searched form, and what each pattern stands for. */
export interface InventoryMatcher {
  readonly matcher: MultiMatcher;
  readonly info: PatternInfo[];
  /** Values searched (after the skip rules). */
  readonly valuesSearched: number;
  /** Values skipped by the skip rules. */
  readonly valuesSkipped: number;
}

/** Options of {@link buildMatcher}. */
export interface MatcherOptions {
  readonly skip?: SkipRules;
  /** Also search recipients, fingerprints and key names (`--public`). */
  readonly public?: boolean;
}

const enc = new TextEncoder();

/** Builds one matcher over every form of every searched value (and, for `--public`, the inventory). */
export function buildMatcher(inv: Inventory, o: MatcherOptions = {}): InventoryMatcher {
  const skip = o.skip ?? DEFAULT_SKIP;
  const patterns: Uint8Array[] = [];
  const info: PatternInfo[] = [];
  let searched = 0;
  let skipped = 0;
  inv.values.forEach((v, i) => {
    if (skipValue(v.text, skip)) {
      skipped++;
      return;
    }
    searched++;
    for (const f of encodedForms(v.text, skip.minLength)) {
      patterns.push(f.bytes);
      info.push({ kind: "value", value: i, encoding: f.encoding });
    }
  });
  if (o.public) {
    for (const r of inv.recipients) {
      // an ssh key is found by its base64 blob alone (it may be quoted without its type)
      const text = r.startsWith("ssh-") ? (r.split(" ")[1] ?? r) : r;
      patterns.push(enc.encode(text));
      info.push({ kind: "recipient", label: r.length > 24 ? `${r.slice(0, 20)}…` : r });
      const fp = recipientFingerprint(r);
      patterns.push(enc.encode(fp.slice("SHA256:".length)));
      info.push({ kind: "fingerprint", label: fp });
    }
    const names = new Set<string>();
    for (const k of inv.keyNames) {
      names.add(k);
      names.add(k.split(".").pop() as string);
    }
    for (const n of names) {
      if (n.length < 6 || /^\d+$/.test(n)) continue;
      patterns.push(enc.encode(n));
      info.push({ kind: "key-name", label: n });
    }
  }
  return { matcher: new MultiMatcher(patterns), info, valuesSearched: searched, valuesSkipped: skipped };
}
