/**
 * Linear-time evaluation of the RE2 subset sops rules use (encrypted_regex and friends, .sops.yaml
 * path_regex). A hostile file chooses these patterns, so they must never backtrack: the program
 * (re2-prog.ts) is simulated as a set of NFA states, and each set met is cached as a DFA state with its
 * transitions (a lazy DFA). Work per call is at most input length × program size, and usually one table
 * look-up per character. The cache is bounded and simply dropped when full.
 */
import { BOL, EOL, WORD_B, parseRe2, type CharClass, type Re2Flags } from "./re2-parse.js";
import { OP_ASSERT, OP_CHAR, OP_JMP, OP_MATCH, OP_SPLIT, compileProgram, type Program } from "./re2-prog.js";

/** A compiled pattern: `test(s)` is true when it matches anywhere in `s` (like RegExp#test without g). */
export interface Re2 {
  /** The pattern as written. */
  readonly source: string;
  /** Unanchored search; never backtracks. */
  test(s: string): boolean;
}

/** Position flag: `^` holds after this character (start of input, or a line terminator with m)… */
const AT_LINE = 1;
/** …and this character is a word character (for `\b`). On the "next" side AT_LINE means `$` holds. */
const WORD = 2;

const MAX_MORE = 64;

/** Bounds of the DFA cache of one compiled pattern. */
export interface CacheLimits {
  /** DFA states kept before the cache is dropped. */
  states: number;
  /** NFA entries of all kept states plus their 128 ASCII transitions (bounds memory, ~4–8 bytes each). */
  cells: number;
  /**
   * Cache drops in one call after which the call finishes as an NFA. A pattern whose states settle (such
   * as `(a{1,500}){1,4}b` on a long run of `a`) stays a DFA; one that makes a new state per character
   * (such as `[ab]*a[ab]{20}`) stops paying for states it never reuses.
   */
  nfaAfterDrops: number;
}

/** The limits compileRe2 uses: at most a few MB per pattern. */
export const DEFAULT_CACHE_LIMITS: CacheLimits = { states: 2000, cells: 1 << 19, nfaAfterDrops: 8 };
const UNKNOWN = 0;
const NO = 1;
const YES = 2;

/** A DFA state: the NFA instructions to resume at, and the flags of the character just read. */
interface State {
  readonly set: Int32Array;
  readonly pf: number;
  readonly ascii: (State | undefined)[];
  more: Map<number, State> | undefined;
  end: number;
  readonly dead: boolean;
}

function state(set: Int32Array, pf: number, dead: boolean): State {
  return { set, pf, ascii: new Array<State | undefined>(128), more: undefined, end: UNKNOWN, dead };
}

const MATCHED = state(new Int32Array(0), 0, false);
const EMPTY = new Int32Array(0);

function isLineTerminator(cp: number): boolean {
  return cp === 10 || cp === 13 || cp === 0x2028 || cp === 0x2029;
}

/** The lazy DFA over one program. */
class Re2Matcher implements Re2 {
  private readonly states = new Map<string, State>();
  private cells = 0;
  private start: State | undefined;
  /** How often the cache was dropped during the current test() call. */
  private drops = 0;
  private readonly mark: Uint32Array;
  private gen = 0;
  private readonly stack: Int32Array;
  private readonly list: Int32Array;

  constructor(
    readonly source: string,
    private readonly prog: Program,
    private readonly multiline: boolean,
    private readonly limits: CacheLimits,
  ) {
    const n = prog.op.length;
    this.mark = new Uint32Array(n);
    this.stack = new Int32Array(3 * n + 2);
    this.list = new Int32Array(n);
  }

  test(s: string): boolean {
    this.drops = 0;
    let st = (this.start ??= this.intern(EMPTY, AT_LINE));
    const n = s.length;
    let i = 0;
    while (i < n) {
      if (st.dead) return false;
      let c = s.charCodeAt(i);
      let w = 1;
      let next: State | undefined;
      if (c < 128) next = st.ascii[c];
      else {
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
          const d = s.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            c = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
            w = 2;
          }
        }
        next = st.more?.get(c);
      }
      if (next === undefined) {
        next = this.step(st, c);
        if (this.drops >= this.limits.nfaAfterDrops && next !== MATCHED) {
          // the DFA cache keeps filling up during this call (a new state for nearly every character):
          // finish as a plain NFA, without building states
          return this.nfa(s, i + w, next.set, next.pf);
        }
      }
      if (next === MATCHED) return true;
      st = next;
      i += w;
    }
    if (st.end === UNKNOWN) st.end = this.closure(st.set, st.set.length, st.pf, AT_LINE) < 0 ? YES : NO;
    return st.end === YES;
  }

  /** Thompson-NFA simulation of `s` from index `i` in NFA state `set` after a character with flags `pf`. */
  private nfa(s: string, i: number, set: Int32Array, pf: number): boolean {
    const { a } = this.prog;
    const classes = this.prog.parsed.classes;
    let cur = new Int32Array(this.list.length);
    let nxt = new Int32Array(this.list.length);
    cur.set(set);
    let len = set.length;
    const n = s.length;
    while (i < n) {
      if (this.prog.anchored && len === 0 && (pf & AT_LINE) === 0) return false;
      let c = s.charCodeAt(i);
      let w = 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
          w = 2;
        }
      }
      const fl = this.flags(c);
      const k = this.closure(cur, len, pf, fl);
      if (k < 0) return true;
      let m = 0;
      for (let j = 0; j < k; j++) {
        const pc = this.list[j] as number;
        if ((classes[a[pc] as number] as CharClass).has(c)) nxt[m++] = pc + 1;
      }
      [cur, nxt, len] = [nxt, cur, m];
      pf = fl;
      i += w;
    }
    return this.closure(cur, len, pf, AT_LINE) < 0;
  }

  private flags(cp: number): number {
    return (
      (this.multiline && isLineTerminator(cp) ? AT_LINE : 0) |
      (this.prog.wordAsserts && this.prog.parsed.word.has(cp) ? WORD : 0)
    );
  }

  /** Computes and caches the transition of `st` on code point `cp`. */
  private step(st: State, cp: number): State {
    const fl = this.flags(cp);
    const n = this.closure(st.set, st.set.length, st.pf, fl);
    let next = MATCHED;
    if (n >= 0) {
      const { a } = this.prog;
      const classes = this.prog.parsed.classes;
      const out: number[] = [];
      for (let k = 0; k < n; k++) {
        const pc = this.list[k] as number;
        if ((classes[a[pc] as number] as CharClass).has(cp)) out.push(pc + 1);
      }
      next = this.intern(Int32Array.from(out).sort(), fl);
    }
    if (cp < 128) st.ascii[cp] = next;
    else {
      st.more ??= new Map();
      if (st.more.size < MAX_MORE) st.more.set(cp, next);
    }
    return next;
  }

  /** The DFA state for `set` after a character with flags `pf`; drops the whole cache when it is full. */
  private intern(set: Int32Array, pf: number): State {
    const key = `${pf}:${set.join(",")}`;
    const hit = this.states.get(key);
    if (hit) return hit;
    if (this.states.size >= this.limits.states || this.cells >= this.limits.cells) {
      this.drops++;
      this.states.clear();
      this.cells = 0;
      this.start = undefined;
    }
    const st = state(set, pf, this.prog.anchored && set.length === 0 && (pf & AT_LINE) === 0);
    this.states.set(key, st);
    this.cells += set.length + 128;
    return st;
  }

  /**
   * Follows empty transitions from the start and the first `len` entries of `set`, between a character with flags `pf` and one
   * with flags `nf`. Leaves the CHAR instructions reached in `list` and returns their count, or -1 when
   * MATCH is reached. Each instruction is visited once.
   */
  private closure(set: Int32Array, len: number, pf: number, nf: number): number {
    const { op, a, b } = this.prog;
    const { mark, stack, list } = this;
    if (this.gen === 0xffffffff) {
      mark.fill(0);
      this.gen = 0;
    }
    const gen = ++this.gen;
    let sp = 0;
    stack[sp++] = 0;
    for (let k = 0; k < len; k++) stack[sp++] = set[k] as number;
    let n = 0;
    while (sp > 0) {
      const pc = stack[--sp] as number;
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      switch (op[pc]) {
        case OP_CHAR:
          list[n++] = pc;
          break;
        case OP_SPLIT:
          stack[sp++] = a[pc] as number;
          stack[sp++] = b[pc] as number;
          break;
        case OP_JMP:
          stack[sp++] = a[pc] as number;
          break;
        case OP_ASSERT: {
          const k = a[pc];
          const ok =
            k === BOL
              ? (pf & AT_LINE) !== 0
              : k === EOL
                ? (nf & AT_LINE) !== 0
                : (((pf ^ nf) & WORD) !== 0) === (k === WORD_B);
          if (ok) stack[sp++] = pc + 1;
          break;
        }
        case OP_MATCH:
          return -1;
      }
    }
    return n;
  }
}

/**
 * Compiles `src` (leading flag group removed, `(?P<` turned into `(?<`, already accepted by
 * `new RegExp(src, "u…")`) into a linear-time matcher. `source` is the pattern as written; `limits`
 * bound its DFA cache (tests pass tiny ones to drive the NFA path).
 * @throws Re2Refusal for constructs or sizes the matcher refuses (the caller names the field)
 */
export function compileLinear(
  src: string,
  flags: Re2Flags,
  source: string,
  limits: CacheLimits = DEFAULT_CACHE_LIMITS,
): Re2 {
  const prog = compileProgram(parseRe2(src, flags), flags.m);
  return new Re2Matcher(source, prog, flags.m, limits);
}
