/** Validation shared by every format: key names, duplicates, and values every format refuses. */
import { RenderError } from "./errors";

/** Portable environment variable name. */
export const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Longest key name accepted. */
export const MAX_KEY = 256;

/**
 * Names bash treats specially: assigning them in a sourced file fails (readonly) or reads back a
 * different value (RANDOM, SECONDS, LINENO…), or changes how bash behaves (POSIXLY_CORRECT).
 */
export const BASH_SPECIAL = new Set([
  "_",
  "BASHOPTS",
  "BASHPID",
  "BASH_ALIASES",
  "BASH_ARGC",
  "BASH_ARGV",
  "BASH_ARGV0",
  "BASH_CMDS",
  "BASH_COMMAND",
  "BASH_LINENO",
  "BASH_REMATCH",
  "BASH_SOURCE",
  "BASH_SUBSHELL",
  "BASH_VERSINFO",
  "BASH_VERSION",
  "BASH_ENV",
  "BASH_XTRACEFD",
  "COMP_WORDBREAKS",
  "DIRSTACK",
  "EPOCHREALTIME",
  "EPOCHSECONDS",
  "EUID",
  "FUNCNAME",
  "GROUPS",
  "HISTCMD",
  "LINENO",
  "OPTIND",
  "PIPESTATUS",
  "POSIXLY_CORRECT",
  "PPID",
  "RANDOM",
  "SECONDS",
  "SHELLOPTS",
  "SRANDOM",
  "UID",
]);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A key read from an env file, for a parse error: the name when it is a valid one, else a
 * placeholder. Text that is not a key name may be part of a value (a stray line of a multi-line
 * value), so it is never echoed; the error's line number points at it.
 */
export function keyLabel(k: string): string {
  return KEY_RE.test(k) && k.length <= MAX_KEY ? k : "(not a valid key name)";
}

function describe(k: unknown): string {
  return typeof k === "string" ? JSON.stringify(k.length > 64 ? k.slice(0, 64) + "…" : k) : typeof k;
}

/**
 * Check entries: string pairs, valid unique key names, values that are well-formed Unicode without
 * NUL (no environment can hold a NUL; lone surrogates cannot be written as UTF-8).
 * @throws RenderError naming the key and the reason (never the value)
 */
export function checkEntries(entries: readonly (readonly [string, string])[]): void {
  if (!Array.isArray(entries)) throw new RenderError("entries must be an array of [key, value] pairs");
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    if (!Array.isArray(e) || e.length !== 2) throw new RenderError(`entry ${i} must be a [key, value] pair`);
    const [k, v] = e as unknown[];
    if (typeof k !== "string" || k.length > MAX_KEY || !KEY_RE.test(k)) {
      throw new RenderError(`invalid env key ${describe(k)} at entry ${i}`, {
        hint: "key names must match ^[A-Za-z_][A-Za-z0-9_]*$ (rename it with sources[].rename or prefix)",
      });
    }
    if (seen.has(k))
      throw new RenderError(`duplicate env key ${k}`, {
        key: k,
        hint: "each key may appear once; use rename or prefix to separate sources",
      });
    seen.add(k);
    if (typeof v !== "string")
      throw new RenderError(`value of ${k} must be a string, got ${v === null ? "null" : typeof v}`, { key: k });
    if (v.includes("\0"))
      throw new RenderError(`value of ${k} contains a NUL character, which no environment variable can hold`, {
        key: k,
      });
    if (LONE_SURROGATE.test(v))
      throw new RenderError(`value of ${k} contains a lone UTF-16 surrogate, which cannot be written as UTF-8`, {
        key: k,
      });
  });
}
