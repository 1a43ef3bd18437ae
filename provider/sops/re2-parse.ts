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
  const p = new Parser(src, flags);
  const node = p.alt(0);
  if (p.i < src.length) throw refuse("an unbalanced group");
  return { node, classes: p.classes, word: new CharClass(-1, "\\w", p.reFlags) };
}

function refuse(what: string): Re2Refusal {
  return new Re2Refusal(`uses ${what}, which keyfleet cannot evaluate like Go RE2`, REFUSE_HINT);
}

/** Recursive descent over the pattern; `i` is the UTF-16 index of the next unread character. */
class Parser {
  i = 0;
  readonly classes: CharClass[] = [];
  readonly reFlags: string;
  private readonly bySrc = new Map<string, number>();

  constructor(
    private readonly src: string,
    private readonly flags: Re2Flags,
  ) {
    this.reFlags = "u" + (flags.i ? "i" : "") + (flags.s ? "s" : "");
  }

  alt(depth: number): Node {
    const items = [this.cat(depth)];
    while (this.src[this.i] === "|") {
      this.i++;
      items.push(this.cat(depth));
    }
    return items.length === 1 ? (items[0] as Node) : { k: "alt", items };
  }

  private cat(depth: number): Node {
    const items: Node[] = [];
    const src = this.src;
    while (this.i < src.length && src[this.i] !== "|" && src[this.i] !== ")") items.push(this.repeat(this.atom(depth)));
    return items.length === 1 ? (items[0] as Node) : { k: "cat", items };
  }

  private repeat(a: Node): Node {
    const src = this.src;
    let min: number, max: number;
    const c = src[this.i];
    if (c === "*") [min, max] = [0, -1];
    else if (c === "+") [min, max] = [1, -1];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      const q = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(this.i, this.i + 64));
      if (!q) throw refuse("a malformed repeat count");
      min = Number(q[1]);
      max = q[2] === undefined ? min : q[3] === "" ? -1 : Number(q[3]);
      if (min > MAX_REPEAT || max > MAX_REPEAT)
        throw new Re2Refusal(
          `has a repeat count over ${MAX_REPEAT}, which Go RE2 refuses too (invalid repeat count)`,
          `use counts of at most ${MAX_REPEAT}, or * / + for an unbounded repeat`,
        );
      this.i += q[0].length - 1;
    } else return a;
    this.i++;
    if (src[this.i] === "?") this.i++; // lazy: same boolean result
    return { k: "rep", node: a, min, max };
  }

  private atom(depth: number): Node {
    const src = this.src;
    const c = src[this.i] as string;
    if (c === "(") return this.group(depth);
    if (c === "^" || c === "$") {
      this.i++;
      return { k: "assert", a: c === "^" ? BOL : EOL };
    }
    if (c === ".") {
      this.i++;
      return this.cls(-1, ".");
    }
    if (c === "[") {
      const start = this.i++;
      if (src[this.i] === "^") this.i++;
      while (this.i < src.length && src[this.i] !== "]") this.i += src[this.i] === "\\" ? 2 : 1;
      this.i++;
      return this.cls(-1, src.slice(start, this.i));
    }
    if (c === "\\") return this.escape();
    const cp = src.codePointAt(this.i) as number;
    this.i += cp > 0xffff ? 2 : 1;
    return this.literal(cp);
  }

  private group(depth: number): Node {
    const src = this.src;
    if (depth >= MAX_NESTING)
      throw new Re2Refusal(
        `nests groups more than ${MAX_NESTING} deep, which Go RE2 refuses too (expression nests too deeply)`,
        "flatten the pattern: fewer nested groups",
      );
    this.i++;
    if (src.startsWith("?:", this.i)) this.i += 2;
    else if (src.startsWith("?<", this.i) && src[this.i + 2] !== "=" && src[this.i + 2] !== "!")
      this.i = src.indexOf(">", this.i) + 1;
    else if (src[this.i] === "?") throw refuse("lookaround");
    const inner = this.alt(depth + 1);
    if (src[this.i] !== ")") throw refuse("an unbalanced group");
    this.i++;
    return inner;
  }

  private escape(): Node {
    const src = this.src;
    const e = src[this.i + 1] as string;
    if (e === "b" || e === "B") {
      this.i += 2;
      return { k: "assert", a: e === "b" ? WORD_B : NOT_WORD_B };
    }
    if ("dDsSwW".includes(e)) {
      this.i += 2;
      return this.cls(-1, `\\${e}`);
    }
    if (e === "p" || e === "P") {
      const end = src.indexOf("}", this.i);
      const text = src.slice(this.i, end + 1);
      this.i = end + 1;
      return this.cls(-1, text);
    }
    if (e === "k" || (e >= "1" && e <= "9")) throw refuse("backreferences");
    return this.literal(this.escapedCodePoint(e));
  }

  /** The code point of a character escape (`\n`, `\cJ`, `\x41`, `\u0041`, `\u{1F600}`, `\.`); moves past it. */
  private escapedCodePoint(e: string): number {
    const src = this.src;
    const hex = (from: number, len: number): number => parseInt(src.slice(from, from + len), 16);
    const simple = ({ f: 12, n: 10, r: 13, t: 9, v: 11, "0": 0 } as Record<string, number>)[e];
    let cp: number;
    if (simple !== undefined) {
      cp = simple;
      this.i += 2;
    } else if (e === "c") {
      cp = src.charCodeAt(this.i + 2) % 32;
      this.i += 3;
    } else if (e === "x") {
      cp = hex(this.i + 2, 2);
      this.i += 4;
    } else if (e === "u" && src[this.i + 2] === "{") {
      const end = src.indexOf("}", this.i);
      cp = parseInt(src.slice(this.i + 3, end), 16);
      this.i = end + 1;
    } else if (e === "u") {
      cp = hex(this.i + 2, 4);
      this.i += 6;
      // u mode: an escaped surrogate pair is one code point
      if (cp >= 0xd800 && cp <= 0xdbff && /^\\u[dD][c-fC-F][0-9a-fA-F]{2}/.test(src.slice(this.i, this.i + 6))) {
        cp = (cp - 0xd800) * 0x400 + (hex(this.i + 2, 4) - 0xdc00) + 0x10000;
        this.i += 6;
      }
    } else {
      cp = src.codePointAt(this.i + 1) as number;
      this.i += cp > 0xffff ? 3 : 2;
    }
    return cp;
  }

  private cls(lit: number, text: string): Node {
    const key = lit >= 0 ? `#${lit}` : text;
    let m = this.bySrc.get(key);
    if (m === undefined) {
      m = this.classes.length;
      this.classes.push(new CharClass(lit, text, this.reFlags));
      this.bySrc.set(key, m);
    }
    return { k: "char", m };
  }

  private literal(cp: number): Node {
    return this.flags.i ? this.cls(-1, `\\u{${cp.toString(16)}}`) : this.cls(cp, "");
  }
}
