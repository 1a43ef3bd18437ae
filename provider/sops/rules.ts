/**
 * Encrypt rules (sops `shouldBeEncrypted`): which leaves are encrypted. At most one rule may be set;
 * reading a file with none defaults to `unencrypted_suffix: _unencrypted`, as sops does.
 */
import { SopsArgumentError } from "./errors.js";
import { compileLinear, type Re2 } from "./re2.js";
import { Re2Refusal } from "./re2-parse.js";

/** Which keys get encrypted; at most one field may be set (sops rule). */
export interface EncryptRules {
  /** Keys ending with this stay in clear (sops default `_unencrypted`). */
  unencryptedSuffix?: string;
  /** Only keys ending with this are encrypted. */
  encryptedSuffix?: string;
  /** Keys matching this (RE2 syntax, unanchored) stay in clear. */
  unencryptedRegex?: string;
  /** Only keys matching this are encrypted. */
  encryptedRegex?: string;
  /** Values preceded by a comment matching this stay in clear. */
  unencryptedCommentRegex?: string;
  /** Only values preceded by a comment matching this are encrypted. */
  encryptedCommentRegex?: string;
  /** MAC only the encrypted values (lets you edit clear values without the key). Default false. */
  macOnlyEncrypted?: boolean;
}

/** The sops metadata field name of each rule. */
export const RULE_FIELDS = {
  unencryptedSuffix: "unencrypted_suffix",
  encryptedSuffix: "encrypted_suffix",
  unencryptedRegex: "unencrypted_regex",
  encryptedRegex: "encrypted_regex",
  unencryptedCommentRegex: "unencrypted_comment_regex",
  encryptedCommentRegex: "encrypted_comment_regex",
} as const;

/** The default rule sops applies when a file names none. */
export const DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted";

export type { Re2 } from "./re2.js";

const compiled = new Map<string, Re2>();
const MAX_COMPILED = 16;

/**
 * Compiles a Go RE2 pattern to a linear-time matcher (re2.ts: a hostile file chooses these patterns,
 * so they must never backtrack), rejecting constructs whose meaning differs or that RE2 lacks
 * (lookaround, backreferences, POSIX classes, `\z`, non-leading flag groups) and sizes Go refuses
 * (repeat counts over 1000, programs over a few thousand instructions). The matcher gives the same
 * answers as `new RegExp(src, "u" + flags)`; compiled patterns are cached.
 * @throws SopsArgumentError naming the rule and pattern.
 */
export function compileRe2(pattern: string, field: string, file?: string): Re2 {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  let src = pattern;
  let flags = "u";
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    const f = lead[1] as string;
    if (f.includes("U")) throw bad("the (?U) flag");
    if (f.includes("i")) flags += "i";
    if (f.includes("s")) flags += "s";
    if (f.includes("m")) flags += "m";
    src = src.slice(lead[0].length);
  }
  src = src.replace(/\(\?P</g, "(?<");
  const unsupported: [RegExp, string][] = [
    [/\(\?<?[=!]/, "lookaround"],
    [/\\[1-9]/, "backreferences"],
    [/\[\[:/, "POSIX classes"],
    [/\\[zAQE]/, "\\z/\\A/\\Q…\\E"],
    [/\(\?[a-zA-Z-]+[:)]/, "inline flags other than a leading (?i)"],
    [/\\[pP][A-Z]/, "\\pN-style classes"],
  ];
  for (const [re, what] of unsupported) if (re.test(src)) throw bad(what);
  try {
    new RegExp(src, flags); // syntax check only: the RegExp is never run
  } catch (e) {
    throw new SopsArgumentError(
      `${field} ${JSON.stringify(pattern)} is not a valid regular expression: ${(e as Error).message}`,
      "use RE2 syntax that JavaScript also accepts",
      file,
    );
  }
  let re: Re2;
  try {
    re = compileLinear(src, { i: flags.includes("i"), s: flags.includes("s"), m: flags.includes("m") }, pattern);
  } catch (e) {
    if (!(e instanceof Re2Refusal)) throw e;
    throw new SopsArgumentError(`${field} ${JSON.stringify(pattern)} ${e.message}`, e.hint, file);
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(pattern, re);
  return re;
  function bad(what: string): SopsArgumentError {
    return new SopsArgumentError(
      `${field} ${JSON.stringify(pattern)} uses ${what}, which keyfleet cannot evaluate like Go RE2`,
      "rewrite the pattern without it (plain RE2 subset: classes, groups, alternation, anchors ^ $)",
      file,
    );
  }
}

/** Checks that at most one rule is set and regexes compile. @throws SopsArgumentError */
export function validateRules(r: EncryptRules, file?: string): void {
  const set = (Object.keys(RULE_FIELDS) as (keyof typeof RULE_FIELDS)[]).filter(
    (k) => r[k] !== undefined && r[k] !== "",
  );
  if (set.length > 1) {
    throw new SopsArgumentError(
      `only one encrypt rule may be set, got ${set.map((k) => RULE_FIELDS[k]).join(" and ")}`,
      "keep a single rule, as sops requires",
      file,
    );
  }
  for (const k of ["unencryptedRegex", "encryptedRegex", "unencryptedCommentRegex", "encryptedCommentRegex"] as const) {
    const p = r[k];
    if (p) compileRe2(p, RULE_FIELDS[k], file);
  }
}

/** A compiled predicate: should the leaf at `path` (mapping keys) preceded by `comments` be encrypted? */
export type ShouldEncrypt = (path: readonly string[], comments: readonly string[]) => boolean;

/** Compiles rules into a predicate (sops `Metadata.shouldBeEncrypted`). */
export function compileRules(r: EncryptRules, file?: string): ShouldEncrypt {
  validateRules(r, file);
  if (r.unencryptedSuffix) {
    const s = r.unencryptedSuffix;
    return (p) => !p.some((k) => k.endsWith(s));
  }
  if (r.encryptedSuffix) {
    const s = r.encryptedSuffix;
    return (p) => p.some((k) => k.endsWith(s));
  }
  if (r.unencryptedRegex) {
    const re = compileRe2(r.unencryptedRegex, "unencrypted_regex", file);
    return (p) => !p.some((k) => re.test(k));
  }
  if (r.encryptedRegex) {
    const re = compileRe2(r.encryptedRegex, "encrypted_regex", file);
    return (p) => p.some((k) => re.test(k));
  }
  if (r.unencryptedCommentRegex) {
    const re = compileRe2(r.unencryptedCommentRegex, "unencrypted_comment_regex", file);
    return (_p, c) => !c.some((k) => re.test(k));
  }
  if (r.encryptedCommentRegex) {
    const re = compileRe2(r.encryptedCommentRegex, "encrypted_comment_regex", file);
    return (_p, c) => c.some((k) => re.test(k));
  }
  return () => true;
}

/** True when a comment rule is in force (then comments themselves stay in clear: they are the markers). */
export function hasCommentRule(r: EncryptRules): boolean {
  return Boolean(r.unencryptedCommentRegex || r.encryptedCommentRegex);
}

/** Rules for reading: the file's, or sops' default `unencrypted_suffix: _unencrypted` when none is set. */
export function effectiveRules(r: EncryptRules): EncryptRules {
  const any = (Object.keys(RULE_FIELDS) as (keyof typeof RULE_FIELDS)[]).some((k) => r[k]);
  return any ? r : { ...r, unencryptedSuffix: DEFAULT_UNENCRYPTED_SUFFIX };
}
