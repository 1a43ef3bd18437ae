/**
 * Parser for the RE2 subset keyfleet evaluates itself (see re2.ts): a pattern that `new RegExp(src, "u…")`
 * already accepted is turned into a small syntax tree. Single-character atoms (literals, `.`, classes,
 * `\d \w \s \p{…}` and negations) become {@link CharClass} predicates; everything else (groups,
 * alternation, repeats, `^ $ \b \B`) is structure that re2-prog.ts compiles to a linear-time program.
 */

/** Largest repeat count Go RE2 accepts (`invalid repeat count` above it). */
export const MAX_REPEAT = 1000;
/** Deepest group nesting accepted (Go RE2: `expression nests too deeply` above 1000). */
export const MAX_NESTING = 1000;

/** `^`: start of input, or after a line terminator with the m flag. */
export const BOL = 0;
/** `$`: end of input, or before a line terminator with the m flag. */
export const EOL = 1;
/** `\b` */
export const WORD_B = 2;
/** `\B` */
export const NOT_WORD_B = 3;
/** A zero-width assertion. */
export type Assert = typeof BOL | typeof EOL | typeof WORD_B | typeof NOT_WORD_B;

/** A node of the syntax tree; `max` -1 means unbounded. */
export type Node =
  | { k: "char"; m: number }
  | { k: "assert"; a: Assert }
  | { k: "cat"; items: Node[] }
  | { k: "alt"; items: Node[] }
  | { k: "rep"; node: Node; min: number; max: number };

/** The flags a pattern was compiled with (from its leading `(?ims)` group). */
export interface Re2Flags {
  i: boolean;
  s: boolean;
  m: boolean;
}

/**
 * Raised for a construct or size the matcher refuses; the caller turns it into a typed error naming the
 * field. `message` continues "<field> <pattern> …" (lowercase, no period).
 */
export class Re2Refusal extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const TABLE_UNKNOWN = 0;
const TABLE_NO = 1;
const TABLE_YES = 2;
const MAX_OTHER_CACHE = 4096;

/**
 * A set of code points: one literal, or a single-character atom (`.`, `[…]`, `\w`, `\p{L}`, a literal
 * under the i flag) whose membership is asked of a one-character RegExp `^(?:atom)$` with the same u/i/s
 * flags. That RegExp has no repeat and reads one code point, so it runs in constant time, and it gives
 * JavaScript's own case folding and Unicode property tables. Answers are cached (ASCII in a table).
 */
export class CharClass {
  private readonly table = new Uint8Array(128);
  private readonly other = new Map<number, boolean>();
  private re: RegExp | undefined;
  /**
   * @param lit the code point for a case-sensitive literal, else -1
   * @param src the atom's source text (a valid u-mode atom)
   * @param flags RegExp flags among "uis"
   */
  constructor(
    readonly lit: number,
    readonly src: string,
    readonly flags: string,
  ) {}

  /** True when code point `cp` is in the set. */
  has(cp: number): boolean {
    if (this.lit >= 0) return cp === this.lit;
    if (cp < 128) {
      const t = this.table[cp];
      if (t !== TABLE_UNKNOWN) return t === TABLE_YES;
      const v = this.ask(cp);
      this.table[cp] = v ? TABLE_YES : TABLE_NO;
      return v;
    }
    const c = this.other.get(cp);
    if (c !== undefined) return c;
    const v = this.ask(cp);
    if (this.other.size < MAX_OTHER_CACHE) this.other.set(cp, v);
    return v;
  }

  private ask(cp: number): boolean {
    this.re ??= new RegExp(`^(?:${this.src})$`, this.flags);
    return this.re.test(String.fromCodePoint(cp));
  }
}

/** A parsed pattern: its tree and the character classes its `char` nodes index. */
export interface Parsed {
  node: Node;
  classes: CharClass[];
  /** The word-character set `\b`/`\B` use (JavaScript's `\w` under the same flags). */
  word: CharClass;
}

const REFUSE_HINT = "rewrite the pattern without it (plain RE2 subset: classes, groups, alternation, anchors ^ $)";

/**
 * Parses `src` (leading flag group already removed, `(?P<` already `(?<`), which `new RegExp(src, "u…")`
 * accepted. @throws Re2Refusal for backreferences, lookaround, repeat counts over 1000, deep nesting
 */
export function parseRe2(src: string, flags: Re2Flags): Parsed {
  const reFlags = "u" + (flags.i ? "i" : "") + (flags.s ? "s" : "");
  const classes: CharClass[] = [];
  const bySrc = new Map<string, number>();
  let i = 0;

  function cls(lit: number, text: string): Node {
    const key = lit >= 0 ? `#${lit}` : text;
    let m = bySrc.get(key);
    if (m === undefined) {
      m = classes.length;
      classes.push(new CharClass(lit, text, reFlags));
      bySrc.set(key, m);
    }
    return { k: "char", m };
  }
  function literal(cp: number): Node {
    return flags.i ? cls(-1, `\\u{${cp.toString(16)}}`) : cls(cp, "");
  }
  function refuse(what: string): Re2Refusal {
    return new Re2Refusal(`uses ${what}, which keyfleet cannot evaluate like Go RE2`, REFUSE_HINT);
  }
  function hex(from: number, len: number): number {
    return parseInt(src.slice(from, from + len), 16);
  }

  function alt(depth: number): Node {
    const items = [cat(depth)];
    while (src[i] === "|") {
      i++;
      items.push(cat(depth));
    }
    return items.length === 1 ? (items[0] as Node) : { k: "alt", items };
  }

  function cat(depth: number): Node {
    const items: Node[] = [];
    while (i < src.length && src[i] !== "|" && src[i] !== ")") {
      const a = atom(depth);
      items.push(repeat(a));
    }
    return items.length === 1 ? (items[0] as Node) : { k: "cat", items };
  }

  function repeat(a: Node): Node {
    let min: number, max: number;
    const c = src[i];
    if (c === "*") [min, max] = [0, -1];
    else if (c === "+") [min, max] = [1, -1];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      const q = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i, i + 64));
      if (!q) throw refuse("a malformed repeat count");
      min = Number(q[1]);
      max = q[2] === undefined ? min : q[3] === "" ? -1 : Number(q[3]);
      if (min > MAX_REPEAT || max > MAX_REPEAT)
        throw new Re2Refusal(
          `has a repeat count over ${MAX_REPEAT}, which Go RE2 refuses too (invalid repeat count)`,
          `use counts of at most ${MAX_REPEAT}, or * / + for an unbounded repeat`,
        );
      i += q[0].length - 1;
    } else return a;
    i++;
    if (src[i] === "?") i++; // lazy: same boolean result
    return { k: "rep", node: a, min, max };
  }

  function atom(depth: number): Node {
    const c = src[i] as string;
    if (c === "(") {
      if (depth >= MAX_NESTING)
        throw new Re2Refusal(
          `nests groups more than ${MAX_NESTING} deep, which Go RE2 refuses too (expression nests too deeply)`,
          "flatten the pattern: fewer nested groups",
        );
      i++;
      if (src.startsWith("?:", i)) i += 2;
      else if (src.startsWith("?<", i) && src[i + 2] !== "=" && src[i + 2] !== "!") i = src.indexOf(">", i) + 1;
      else if (src[i] === "?") throw refuse("lookaround");
      const inner = alt(depth + 1);
      if (src[i] !== ")") throw refuse("an unbalanced group");
      i++;
      return inner;
    }
    if (c === "^" || c === "$") {
      i++;
      return { k: "assert", a: c === "^" ? BOL : EOL };
    }
    if (c === ".") {
      i++;
      return cls(-1, ".");
    }
    if (c === "[") {
      const start = i;
      i++;
      if (src[i] === "^") i++;
      while (i < src.length && src[i] !== "]") i += src[i] === "\\" ? 2 : 1;
      i++;
      return cls(-1, src.slice(start, i));
    }
    if (c === "\\") return escape();
    const cp = src.codePointAt(i) as number;
    i += cp > 0xffff ? 2 : 1;
    return literal(cp);
  }

  function escape(): Node {
    const e = src[i + 1] as string;
    if (e === "b" || e === "B") {
      i += 2;
      return { k: "assert", a: e === "b" ? WORD_B : NOT_WORD_B };
    }
    if ("dDsSwW".includes(e)) {
      i += 2;
      return cls(-1, `\\${e}`);
    }
    if (e === "p" || e === "P") {
      const end = src.indexOf("}", i);
      const text = src.slice(i, end + 1);
      i = end + 1;
      return cls(-1, text);
    }
    if (e === "k" || (e >= "1" && e <= "9")) throw refuse("backreferences");
    const simple = { f: 12, n: 10, r: 13, t: 9, v: 11, "0": 0 }[e];
    let cp: number;
    if (simple !== undefined) {
      cp = simple;
      i += 2;
    } else if (e === "c") {
      cp = src.charCodeAt(i + 2) % 32;
      i += 3;
    } else if (e === "x") {
      cp = hex(i + 2, 2);
      i += 4;
    } else if (e === "u" && src[i + 2] === "{") {
      const end = src.indexOf("}", i);
      cp = parseInt(src.slice(i + 3, end), 16);
      i = end + 1;
    } else if (e === "u") {
      cp = hex(i + 2, 4);
      i += 6;
      // u mode: an escaped surrogate pair is one code point
      if (cp >= 0xd800 && cp <= 0xdbff && /^\\u[dD][c-fC-F][0-9a-fA-F]{2}/.test(src.slice(i, i + 6))) {
        cp = (cp - 0xd800) * 0x400 + (hex(i + 2, 4) - 0xdc00) + 0x10000;
        i += 6;
      }
    } else {
      cp = src.codePointAt(i + 1) as number;
      i += cp > 0xffff ? 3 : 2;
    }
    return literal(cp);
  }

  const node = alt(0);
  if (i < src.length) throw refuse("an unbalanced group");
  return { node, classes, word: new CharClass(-1, "\\w", reFlags) };
}
