/**
 * A multi-pattern byte matcher (Aho-Corasick): every pattern is found in one pass over the input,
 * whatever the number of patterns.
 *
 * States are numbered breadth-first. States of depth ≤ {@link DENSE_DEPTH} (the ones text visits
 * almost all the time) get a full transition row over byte classes, so a step there is one table
 * load. Deeper states keep only their trie edges in an open-addressing hash and follow failure
 * links until they reach a dense state. Bytes that occur in no pattern share class 0, which always
 * leads back towards the root; this keeps rows short (about 100 classes for printable patterns).
 */

/** Depth up to which states get a dense transition row. */
const DENSE_DEPTH = 3;
/** Upper bound on dense table entries (Int32 each): 64 MiB. */
const MAX_DENSE_ENTRIES = 16 * 1024 * 1024;
/** Upper bound on the total pattern bytes (states) a matcher accepts; keeps state × 256 + byte within int32. */
export const MAX_PATTERN_BYTES = 8_000_000;

/** Receives one match: the index of its last byte in the scanned buffer and the pattern index. */
export type OnMatch = (end: number, pattern: number) => void;

/** A built matcher. Immutable; safe to reuse across buffers. */
export class MultiMatcher {
  /** Number of states (0 is the root). */
  readonly states: number;
  /** Length of the longest pattern. */
  readonly maxLength: number;
  /** Pattern lengths by pattern index. */
  readonly lengths: Int32Array;
  /** Depth (length of the matched prefix) of each state. */
  readonly depth: Int32Array;
  /** Non-zero when the state or one of its suffix states ends a pattern. */
  readonly hasOut: Uint8Array;
  private readonly nDense: number;
  private readonly nClass: number;
  private readonly cls: Uint8Array;
  private readonly dense: Int32Array;
  private readonly fail: Int32Array;
  /** Pattern ending exactly at a state (-1: none); duplicates chain through `nextSame`. */
  private readonly term: Int32Array;
  private readonly nextSame: Int32Array;
  /** Nearest proper suffix state that ends a pattern (-1: none). */
  private readonly outLink: Int32Array;
  private readonly hKeys: Int32Array;
  private readonly hVals: Int32Array;
  private readonly hMask: number;
  private readonly hShift: number;

  /**
   * Builds the automaton over `patterns` (byte strings; empty ones never match).
   * @throws RangeError when the patterns exceed {@link MAX_PATTERN_BYTES} in total
   */
  constructor(patterns: readonly Uint8Array[]) {
    const trie = buildTrie(patterns);
    const { n } = trie;
    const { order, index } = bfsOrder(trie.depth, n);
    const { cls, nClass, classByte } = byteClasses(trie.used);
    const depth = new Int32Array(n);
    const term = new Int32Array(n);
    const parent = new Int32Array(n);
    const edgeByte = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const t = order[i] as number;
      depth[i] = trie.depth[t] as number;
      term[i] = trie.term[t] as number;
      parent[i] = index[trie.parent[t] as number] as number;
      edgeByte[i] = trie.byte[t] as number;
    }
    const { hKeys, hVals } = gotoHash(parent, edgeByte, n, trie.hash);
    let nDense = 0;
    while (nDense < n && (depth[nDense] as number) <= DENSE_DEPTH && (nDense + 1) * nClass <= MAX_DENSE_ENTRIES)
      nDense++;
    if (nDense === 0) nDense = 1;

    this.states = n;
    this.maxLength = trie.maxLength;
    this.lengths = trie.lengths;
    this.depth = depth;
    this.nextSame = trie.nextSame;
    this.term = term;
    this.cls = cls;
    this.nClass = nClass;
    this.nDense = nDense;
    this.hKeys = hKeys;
    this.hVals = hVals;
    this.hMask = trie.hash.mask;
    this.hShift = trie.hash.shift;
    this.fail = new Int32Array(n);
    this.outLink = new Int32Array(n).fill(-1);
    this.hasOut = new Uint8Array(n);
    this.dense = new Int32Array(nDense * nClass);
    this.fillRow(0, classByte);
    this.linkFailures(parent, edgeByte, classByte);
  }

  /** Failure links in bfs order (a state's fail is shallower, so already known); fills dense rows on the way. */
  private linkFailures(parent: Int32Array, edgeByte: Uint8Array, classByte: readonly number[]): void {
    for (let i = 1; i < this.states; i++) {
      const p = parent[i] as number;
      const f = p === 0 ? 0 : this.stepFrom(this.fail[p] as number, edgeByte[i] as number);
      this.fail[i] = f;
      this.outLink[i] = (this.term[f] as number) >= 0 ? f : (this.outLink[f] as number);
      this.hasOut[i] = (this.term[i] as number) >= 0 || (this.outLink[i] as number) >= 0 ? 1 : 0;
      if (i < this.nDense) this.fillRow(i, classByte);
    }
  }

  private fillRow(i: number, classByte: readonly number[]): void {
    const base = i * this.nClass;
    for (let c = 0; c < this.nClass; c++) {
      const b = classByte[c] as number;
      const g = b < 0 ? -1 : this.gotoEdge(i, b);
      this.dense[base + c] =
        g >= 0 ? g : i === 0 ? 0 : (this.dense[(this.fail[i] as number) * this.nClass + c] as number);
    }
  }

  private gotoEdge(s: number, b: number): number {
    const key = s * 256 + b;
    let h = Math.imul(key, 0x9e3779b1) >>> this.hShift;
    for (;;) {
      const k = this.hKeys[h] as number;
      if (k === key) return this.hVals[h] as number;
      if (k === -1) return -1;
      h = (h + 1) & this.hMask;
    }
  }

  /** The next state from `s` on byte `b` (follows failure links through sparse states). */
  stepFrom(s: number, b: number): number {
    for (;;) {
      if (s < this.nDense) return this.dense[s * this.nClass + (this.cls[b] as number)] as number;
      const g = this.gotoEdge(s, b);
      if (g >= 0) return g;
      s = this.fail[s] as number;
    }
  }

  /** Calls `on` for every pattern ending at state `s` (the byte at `end` was just read). */
  emit(s: number, end: number, on: OnMatch): void {
    for (
      let t = (this.term[s] as number) >= 0 ? s : (this.outLink[s] as number);
      t >= 0;
      t = this.outLink[t] as number
    ) {
      for (let p = this.term[t] as number; p >= 0; p = this.nextSame[p] as number) on(end, p);
    }
  }

  /**
   * Runs the automaton over `buf[from, to)` starting in state `state`; reports every match and
   * returns the final state (so a caller can continue on the next chunk).
   */
  run(buf: Uint8Array, from: number, to: number, state: number, on: OnMatch): number {
    let s = state;
    for (let i = from; i < to; i++) {
      s = this.stepFrom(s, buf[i] as number);
      if (this.hasOut[s] === 1) this.emit(s, i, on);
    }
    return s;
  }

  /**
   * The scanning loop: runs over all of `buf` from the root, reports every match, and calls
   * `onLine(nl, before1, before2)` at each line feed whose state before it (or before one or two
   * trailing `\r`/`\\` bytes) is inside a partial match, or that follows a quote-like ending
   * (see content.ts). `before1`/`before2` are the states after bytes nl-1 and nl-2.
   */
  scan(
    buf: Uint8Array,
    on: OnMatch,
    onLine: (nl: number, before1: number, before2: number, before3: number) => void,
  ): void {
    // cursor c: ≥ 0 the row offset of a dense state (state = c / nClass); < 0 the sparse state -c-1
    const fast = this.fastRows();
    const cls = this.cls;
    const nClass = this.nClass;
    const nDense = this.nDense;
    const hasOut = this.hasOut;
    const depth = this.depth;
    const len = buf.length;
    const st = (c: number): number => (c >= 0 ? c / nClass : -c - 1);
    let c = 0;
    let p1 = 0;
    let p2 = 0;
    for (let i = 0; i < len; i++) {
      const b = buf[i] as number;
      if (b === 10) {
        const s0 = st(c);
        const s1 = st(p1);
        const s2 = st(p2);
        if (depth[s0] !== 0 || depth[s1] !== 0 || depth[s2] !== 0 || LINE_END_HINT[buf[i - 1] as number] === 1)
          onLine(i, s0, s1, s2);
      }
      p2 = p1;
      p1 = c;
      let s: number;
      if (c >= 0) {
        const v = fast[c + (cls[b] as number)] as number;
        if (v >= 0) {
          c = v;
          continue;
        }
        s = -v - 1;
      } else s = this.stepFrom(-c - 1, b);
      if (hasOut[s] === 1) this.emit(s, i, on);
      c = s < nDense ? s * nClass : -s - 1;
    }
  }

  private fast: Int32Array | undefined;

  /** The dense table for {@link scan}: a dense target without output as its row offset, anything else as -(state + 1). */
  private fastRows(): Int32Array {
    if (this.fast) return this.fast;
    const f = new Int32Array(this.dense.length);
    for (let k = 0; k < f.length; k++) {
      const t = this.dense[k] as number;
      f[k] = t < this.nDense && this.hasOut[t] === 0 ? t * this.nClass : -t - 1;
    }
    this.fast = f;
    return f;
  }
}

/** Bytes that may end a line before a string concatenation (quote, +, ., blanks, \\, \r). */
const LINE_END_HINT = new Uint8Array(256);
for (const c of [34, 39, 96, 43, 46, 32, 9, 92, 13]) LINE_END_HINT[c] = 1;

/** Size of an open-addressing table and its multiplicative hash parameters. */
interface HashShape {
  cap: number;
  mask: number;
  shift: number;
}

/** The pattern trie with insertion-order state ids (root 0). */
interface Trie {
  n: number;
  maxLength: number;
  lengths: Int32Array;
  /** Pattern chains: the previous pattern ending at the same state (-1: none). */
  nextSame: Int32Array;
  depth: Int32Array;
  /** Last pattern ending exactly at a state (-1: none). */
  term: Int32Array;
  parent: Int32Array;
  byte: Uint8Array;
  /** Non-zero for bytes that occur in some pattern. */
  used: Uint8Array;
  hash: HashShape;
}

/**
 * Inserts every pattern into a trie whose edges live in one open-addressing table keyed (node, byte).
 * @throws RangeError when the patterns exceed {@link MAX_PATTERN_BYTES} in total
 */
function buildTrie(patterns: readonly Uint8Array[]): Trie {
  const total = patterns.reduce((n, p) => n + p.length, 0);
  if (total > MAX_PATTERN_BYTES) throw new RangeError(`patterns total ${total} bytes, more than ${MAX_PATTERN_BYTES}`);
  const maxStates = total + 1;
  let cap = 16;
  while (cap < maxStates * 2) cap *= 2;
  // multiplicative hashing takes the high bits of the product (the low ones depend on the key's low bits only)
  const hash: HashShape = { cap, mask: cap - 1, shift: 32 - Math.log2(cap) };
  const edges = { node: new Int32Array(cap).fill(-1), byte: new Uint8Array(cap), to: new Int32Array(cap) };
  const trie: Trie = {
    n: 1,
    maxLength: 0,
    lengths: new Int32Array(patterns.length),
    nextSame: new Int32Array(patterns.length).fill(-1),
    depth: new Int32Array(maxStates),
    term: new Int32Array(maxStates).fill(-1),
    parent: new Int32Array(maxStates),
    byte: new Uint8Array(maxStates),
    used: new Uint8Array(256),
    hash,
  };
  for (let pi = 0; pi < patterns.length; pi++) {
    const p = patterns[pi] as Uint8Array;
    trie.lengths[pi] = p.length;
    if (p.length === 0) continue;
    if (p.length > trie.maxLength) trie.maxLength = p.length;
    let s = 0;
    for (let j = 0; j < p.length; j++) s = trieChild(trie, edges, s, p[j] as number);
    trie.nextSame[pi] = trie.term[s] as number;
    trie.term[s] = pi;
  }
  return trie;
}

/** The child of trie state `s` on byte `b`, created when missing. */
function trieChild(
  trie: Trie,
  edges: { node: Int32Array; byte: Uint8Array; to: Int32Array },
  s: number,
  b: number,
): number {
  const { mask, shift } = trie.hash;
  trie.used[b] = 1;
  let h = Math.imul(s * 256 + b, 0x9e3779b1) >>> shift;
  for (;;) {
    const k = edges.node[h] as number;
    if (k === -1) break;
    if (k === s && edges.byte[h] === b) return edges.to[h] as number;
    h = (h + 1) & mask;
  }
  const t = trie.n++;
  trie.depth[t] = (trie.depth[s] as number) + 1;
  trie.parent[t] = s;
  trie.byte[t] = b;
  edges.node[h] = s;
  edges.byte[h] = b;
  edges.to[h] = t;
  return t;
}

/** Breadth-first order = stable sort of trie ids by depth (counting sort). */
function bfsOrder(tDepth: Int32Array, n: number): { order: Int32Array; index: Int32Array } {
  let maxDepth = 0;
  for (let t = 0; t < n; t++) if ((tDepth[t] as number) > maxDepth) maxDepth = tDepth[t] as number;
  const start = new Int32Array(maxDepth + 2);
  for (let t = 0; t < n; t++) {
    const d = (tDepth[t] as number) + 1;
    start[d] = (start[d] as number) + 1;
  }
  for (let d = 1; d < start.length; d++) start[d] = (start[d] as number) + (start[d - 1] as number);
  const order = new Int32Array(n); // bfs index → trie id
  const index = new Int32Array(n); // trie id → bfs index
  for (let t = 0; t < n; t++) {
    const d = tDepth[t] as number;
    const i = start[d] as number;
    start[d] = i + 1;
    order[i] = t;
    index[t] = i;
  }
  return { order, index };
}

/** Byte classes: each byte used by a pattern gets its own class; the rest share class 0. */
function byteClasses(used: Uint8Array): { cls: Uint8Array; nClass: number; classByte: number[] } {
  const cls = new Uint8Array(256);
  let nClass = 1;
  const classByte: number[] = [-1];
  for (let b = 0; b < 256; b++) {
    if (used[b]) {
      if (nClass === 256) break;
      cls[b] = nClass++;
      classByte.push(b);
    }
  }
  // 256 used bytes would not fit the Uint8 class map with class 0 reserved: one class per byte
  if (used.reduce((x, y) => x + y, 0) === 256) {
    for (let b = 0; b < 256; b++) cls[b] = b;
    nClass = 256;
    classByte.length = 0;
    for (let b = 0; b < 256; b++) classByte.push(b);
  }
  return { cls, nClass, classByte };
}

/** Sparse goto table over bfs indices (every edge; dense rows shadow it for shallow states). */
function gotoHash(
  parent: Int32Array,
  edgeByte: Uint8Array,
  n: number,
  hash: HashShape,
): { hKeys: Int32Array; hVals: Int32Array } {
  const hKeys = new Int32Array(hash.cap).fill(-1);
  const hVals = new Int32Array(hash.cap);
  for (let i = 1; i < n; i++) {
    const key = (parent[i] as number) * 256 + (edgeByte[i] as number);
    let h = Math.imul(key, 0x9e3779b1) >>> hash.shift;
    while ((hKeys[h] as number) !== -1) h = (h + 1) & hash.mask;
    hKeys[h] = key;
    hVals[h] = i;
  }
  return { hKeys, hVals };
}
