/**
 * Scalar text for the YAML emitter, as sops builds each value node with go-yaml v3's `Node.Encode`
 * (encode.go `stringv`, resolve.go `resolve`, emitterc.go `yaml_emitter_analyze_scalar`,
 * `yaml_emitter_select_scalar_style`, `yaml_emitter_write_double_quoted_scalar`, ...): the encoder asks
 * for plain style unless the text would read back as another type (or as a YAML 1.1 bool / base-60
 * number), the emitter falls back to single, then double quotes when plain is not allowed, and strings
 * with a line break become literal blocks when the text allows it.
 */
import { goTimeText, goYamlFloat, parseGoTime } from "../goformat.js";

/** The style go-yaml ends up writing a scalar in. */
export type ScalarStyle = "plain" | "single" | "double" | "literal";

/** resolve.go `isOldBool`: YAML 1.1 booleans, which go-yaml v3 double-quotes in strings. */
export function isOldBool(s: string): boolean {
  switch (s) {
    case "y":
    case "Y":
    case "yes":
    case "Yes":
    case "YES":
    case "on":
    case "On":
    case "ON":
    case "n":
    case "N":
    case "no":
    case "No":
    case "NO":
    case "off":
    case "Off":
    case "OFF":
      return true;
    default:
      return false;
  }
}

const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
/** resolve.go `isBase60Float`: YAML 1.1 sexagesimal numbers such as `1:20`. */
export function isBase60Float(s: string): boolean {
  if (s === "") return false;
  const c = s[0] as string;
  if (!(c === "+" || c === "-" || (c >= "0" && c <= "9")) || !s.includes(":")) return false;
  return BASE60.test(s);
}

const RESOLVE_MAP = new Set([
  "true",
  "True",
  "TRUE",
  "false",
  "False",
  "FALSE",
  "",
  "~",
  "null",
  "Null",
  "NULL",
  ".nan",
  ".NaN",
  ".NAN",
  ".inf",
  ".Inf",
  ".INF",
  "+.inf",
  "+.Inf",
  "+.INF",
  "-.inf",
  "-.Inf",
  "-.INF",
  "<<",
]);
const PLAIN_FAST = /^[A-Za-z][A-Za-z0-9_./+=,[\]:@-]*$/;
const BLOCK_FAST = /^[\x20-\x7e\n]*$/;
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** Go `strconv.ParseInt/ParseUint(s, 0, 64)` acceptance (prefixes 0x, 0o, 0b, leading-0 octal; int64/uint64 range). */
function goParsesInt(s: string): boolean {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return false;
  const body = m[2] as string;
  let v: bigint;
  if (/^0[oO]/.test(body)) v = BigInt("0o" + body.slice(2));
  else if (/^0[0-7]+$/.test(body)) v = BigInt("0o" + body.slice(1));
  else v = BigInt(body);
  if (m[1] === "-") return v <= 9223372036854775808n;
  return v <= 18446744073709551615n;
}
/** Go `strconv.ParseFloat(s, 64)` succeeding for a decimal literal (the range check: no overflow to ±Inf). */
function goParsesFiniteFloat(s: string): boolean {
  return Number.isFinite(Number(s));
}

/**
 * resolve.go `resolve("", s)` returns `!!str`: a plain `s` would read back as the same string (not a
 * bool, null, int, float, timestamp or merge key).
 */
export function resolvesToStr(s: string): boolean {
  if (RESOLVE_MAP.has(s)) return false;
  const c = s[0] as string;
  if (c === ".") return !(/^\.[0-9]/.test(s) && /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s) && goParsesFiniteFloat(s));
  const digit = c >= "0" && c <= "9";
  if (!(digit || c === "+" || c === "-")) return true;
  if (digit && parseGoTime(s) !== undefined) return false;
  const plain = s.replace(/_/g, "");
  if (goParsesInt(plain)) return false;
  if (YAML_STYLE_FLOAT.test(plain) && goParsesFiniteFloat(plain)) return false;
  return true;
}

function isPrintable(cp: number): boolean {
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
  );
}
const isBreak = (cp: number): boolean => cp === 0x0a || cp === 0x0d || cp === 0x85 || cp === 0x2028 || cp === 0x2029;
const isBlankz = (cp: number | undefined): boolean =>
  cp === undefined || cp === 0x20 || cp === 0x09 || cp === 0 || isBreak(cp);

/** emitterc.go `yaml_emitter_analyze_scalar` (unicode output on, as the encoder sets it). */
export interface ScalarAnalysis {
  blockPlain: boolean;
  single: boolean;
  block: boolean;
}

/** Analyses `s` as go-yaml does before choosing a style. */
export function analyzeScalar(s: string): ScalarAnalysis {
  if (s.length === 0) return { blockPlain: true, single: true, block: false };
  const cps = Array.from(s, (ch) => ch.codePointAt(0) as number);
  let blockInd = false;
  let lineBreaks = false;
  let special = false;
  let tabs = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let prevSpace = false;
  let prevBreak = false;
  let precededByWs = true;
  if (s.startsWith("---") || s.startsWith("...")) blockInd = true;
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i] as number;
    const ch = String.fromCodePoint(cp);
    const followedByWs = i + 1 >= cps.length || cps[i + 1] === 0x20 || cps[i + 1] === 0x09;
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(ch)) blockInd = true;
      else if ((ch === "?" || ch === ":" || ch === "-") && followedByWs) blockInd = true;
    } else if (ch === ":" && followedByWs) blockInd = true;
    else if (ch === "#" && precededByWs) blockInd = true;
    if (cp === 0x09) tabs = true;
    else if (!isPrintable(cp)) special = true;
    if (cp === 0x20) {
      if (i === 0) leadingSpace = true;
      if (i === cps.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreak(cp)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === cps.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = isBlankz(cp);
  }
  let blockPlain = true;
  let single = true;
  let block = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
  if (trailingSpace) block = false;
  if (breakSpace) blockPlain = single = false;
  if (spaceBreak || tabs || special) blockPlain = single = false;
  if (spaceBreak || special) block = false;
  if (lineBreaks) blockPlain = false;
  if (blockInd) blockPlain = false;
  return { blockPlain, single, block };
}

/**
 * The style of a string scalar: encode.go `stringv` picks plain, double (text that resolves to
 * another tag, `isOldBool`, `isBase60Float`) or literal (contains "\n"); emitterc.go
 * `yaml_emitter_select_scalar_style` then degrades plain → single → double and literal → double.
 * `simpleKey`: the scalar is a mapping key (no block scalars there).
 */
export function stringStyle(s: string, simpleKey = false): ScalarStyle {
  // Fast paths with the same result as the full rules below, for the strings every sops file is made
  // of (ENC[...] values, recipients, armored age files): a letter first, then only characters that are
  // never indicators there, no ':' at the end, no whitespace (so no ': ' or ' #'); and multi-line
  // printable ASCII without a space before a line break and no trailing space.
  if (PLAIN_FAST.test(s) && !s.endsWith(":") && !isOldBool(s) && !RESOLVE_MAP.has(s)) return "plain";
  if (!simpleKey && s.includes("\n") && BLOCK_FAST.test(s) && !s.includes(" \n") && !s.endsWith(" ")) return "literal";
  let style: ScalarStyle;
  if (s.includes("\n")) style = "literal";
  else if (resolvesToStr(s) && !isBase60Float(s) && !isOldBool(s)) style = "plain";
  else style = "double";
  const a = analyzeScalar(s);
  if (style === "plain") {
    if (!a.blockPlain) style = "single";
    if (s.length === 0 && simpleKey) style = "single";
  }
  if (style === "single" && !a.single) style = "double";
  if (style === "literal" && (!a.block || simpleKey)) style = "double";
  return style;
}

const ESCAPES: Record<number, string> = {
  0x00: "0",
  0x07: "a",
  0x08: "b",
  0x09: "t",
  0x0a: "n",
  0x0b: "v",
  0x0c: "f",
  0x0d: "r",
  0x1b: "e",
  0x22: '"',
  0x5c: "\\",
  0x85: "N",
  0x2028: "L",
  0x2029: "P",
};

/** emitterc.go `yaml_emitter_write_double_quoted_scalar` without line folding (best_width is unlimited). */
export function doubleQuoted(s: string): string {
  let out = '"';
  // emitterc.go is_bom(value, i) looks at the start of the value, not at i: a leading BOM escapes every character
  const bom = s.startsWith("\ufeff");
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (bom || !isPrintable(cp) || isBreak(cp) || cp === 0x22 || cp === 0x5c) {
      const e = ESCAPES[cp];
      if (e !== undefined) out += "\\" + e;
      else if (cp <= 0xff) out += "\\x" + cp.toString(16).toUpperCase().padStart(2, "0");
      else if (cp <= 0xffff) out += "\\u" + cp.toString(16).toUpperCase().padStart(4, "0");
      else out += "\\U" + cp.toString(16).toUpperCase().padStart(8, "0");
    } else out += ch;
  }
  return out + '"';
}

/** emitterc.go `yaml_emitter_write_single_quoted_scalar` for text without line breaks. */
export function singleQuoted(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

/**
 * emitterc.go `yaml_emitter_write_literal_scalar` with `yaml_emitter_write_block_scalar_hints`: the
 * header (`|`, an indentation hint of best_indent when the text starts with a space or break, then
 * `-` or `+` chomping) and the lines, each indented by `indent` spaces (empty lines stay empty).
 */
export function literalBlock(s: string, indent: number, bestIndent: number): { header: string; lines: string[] } {
  let header = "|";
  const first = s.codePointAt(0);
  if (first === 0x20 || (first !== undefined && isBreak(first))) header += String(bestIndent);
  const last = s.codePointAt(s.length - 1);
  if (s.length === 0 || last === undefined || !isBreak(last)) header += "-";
  else if (s.length === 1) header += "+";
  else {
    const prev = s.codePointAt(s.length - 2);
    if (prev !== undefined && isBreak(prev)) header += "+";
  }
  const pad = " ".repeat(indent);
  const body = s.length && isBreak(s.codePointAt(s.length - 1) as number) ? s.slice(0, -1) : s;
  const lines = body.split("\n").map((l) => (l === "" ? "" : pad + l));
  return { header, lines };
}

/** Text of a non-string scalar as go-yaml encodes the Go value sops holds (int64, float64, bool, time, nil). */
export function nonStringText(v: bigint | number | boolean | Date | null): string {
  if (v === null) return "null";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return goYamlFloat(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  return goTimeText(v);
}
