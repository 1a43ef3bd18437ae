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
/** Upper bound on the total pattern bytes (states) a matcher accepts. */
export const MAX_PATTERN_BYTES = 16 * 1024 * 1024;

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

  /**
   * Builds the automaton over `patterns` (byte strings; empty ones never match).
   * @throws RangeError when the patterns exceed {@link MAX_PATTERN_BYTES} in total
   */
  constructor(patterns: readonly Uint8Array[]) {
    const total = patterns.reduce((n, p) => n + p.length, 0);
    if (total > MAX_PATTERN_BYTES) throw new RangeError(`patterns total ${total} bytes, more than ${MAX_PATTERN_BYTES}`);
    // trie with insertion-order ids; edges in one Map keyed node*256+byte
    const edges = new Map<number, number>();
    const tDepth: number[] = [0];
    const tTerm: number[] = [-1];
    const nextSame = new Int32Array(patterns.length).fill(-1);
    const lengths = new Int32Array(patterns.length);
    const used = new Uint8Array(256);
    let maxLength = 0;
    patterns.forEach((p, pi) => {
      lengths[pi] = p.length;
      if (p.length === 0) return;
      maxLength = Math.max(maxLength, p.length);
      let s = 0;
      for (const b of p) {
        used[b] = 1;
        const k = s * 256 + b;
        let t = edges.get(k);
        if (t === undefined) {
          t = tDepth.length;
          tDepth.push((tDepth[s] as number) + 1);
          tTerm.push(-1);
          edges.set(k, t);
        }
        s = t;
      }
      nextSame[pi] = tTerm[s] as number;
      tTerm[s] = pi;
    });
    const n = tDepth.length;
    // children lists for the breadth-first renumbering
    const childHead = new Int32Array(n).fill(-1);
    const childNext = new Int32Array(n).fill(-1);
    const childByte = new Uint8Array(n);
    for (const [k, t] of edges) {
      const parent = Math.floor(k / 256);
      childByte[t] = k % 256;
      childNext[t] = childHead[parent] as number;
      childHead[parent] = t;
    }
    const order = new Int32Array(n); // bfs index → trie id
    const index = new Int32Array(n); // trie id → bfs index
    let head = 0;
    let tail = 1;
    order[0] = 0;
    while (head < tail) {
      const u = order[head++] as number;
      for (let c = childHead[u] as number; c !== -1; c = childNext[c] as number) order[tail++] = c;
    }
    for (let i = 0; i < n; i++) index[order[i] as number] = i;

    // byte classes: each byte used by a pattern gets its own class; the rest share class 0
    const cls = new Uint8Array(256);
    let nClass = 1;
    const classByte: number[] = [-1];
    for (let b = 0; b < 256; b++) {
      if (used[b]) {
        cls[b] = nClass++;
        classByte.push(b);
      }
    }
    // 256 used bytes would overflow the Uint8 class map into class 0; keep class indices < 256
    if (nClass > 256) {
      for (let b = 0; b < 256; b++) cls[b] = b;
      nClass = 256;
      classByte.length = 0;
      for (let b = 0; b < 256; b++) classByte.push(b);
    }

    const depth = new Int32Array(n);
    const term = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const t = order[i] as number;
      depth[i] = tDepth[t] as number;
      term[i] = tTerm[t] as number;
    }
    // sparse goto hash over bfs indices (every edge; dense rows shadow it for shallow states)
    let cap = 16;
    while (cap < edges.size * 2) cap *= 2;
    const hKeys = new Int32Array(cap).fill(-1);
    const hVals = new Int32Array(cap);
    const hMask = cap - 1;
    for (const [k, t] of edges) {
      const key = (index[Math.floor(k / 256)] as number) * 256 + (k % 256);
      let h = Math.imul(key, 0x9e3779b1) & hMask;
      while ((hKeys[h] as number) !== -1) h = (h + 1) & hMask;
      hKeys[h] = key;
      hVals[h] = index[t] as number;
    }
    let nDense = 0;
    while (nDense < n && (depth[nDense] as number) <= DENSE_DEPTH && (nDense + 1) * nClass <= MAX_DENSE_ENTRIES) nDense++;
    if (nDense === 0) nDense = 1;

    this.states = n;
    this.maxLength = maxLength;
    this.lengths = lengths;
    this.depth = depth;
    this.nextSame = nextSame;
    this.term = term;
    this.cls = cls;
    this.nClass = nClass;
    this.nDense = nDense;
    this.hKeys = hKeys;
    this.hVals = hVals;
    this.hMask = hMask;
    this.fail = new Int32Array(n);
    this.outLink = new Int32Array(n).fill(-1);
    this.hasOut = new Uint8Array(n);
    this.dense = new Int32Array(nDense * nClass);
    this.fillRow(0, classByte);

    // parent (bfs index) and edge byte of every state
    const parent = new Int32Array(n);
    for (const [k, t] of edges) parent[index[t] as number] = index[Math.floor(k / 256)] as number;
    // failure links in bfs order (a state's fail is shallower, so already known)
    for (let i = 1; i < n; i++) {
      const b = childByte[order[i] as number] as number;
      const p = parent[i] as number;
      const f = p === 0 ? 0 : this.stepFrom(this.fail[p] as number, b);
      this.fail[i] = f;
      this.outLink[i] = (this.term[f] as number) >= 0 ? f : (this.outLink[f] as number);
      this.hasOut[i] = (this.term[i] as number) >= 0 || (this.outLink[i] as number) >= 0 ? 1 : 0;
      if (i < nDense) this.fillRow(i, classByte);
    }
  }

  private fillRow(i: number, classByte: readonly number[]): void {
    const base = i * this.nClass;
    for (let c = 0; c < this.nClass; c++) {
      const b = classByte[c] as number;
      const g = b < 0 ? -1 : this.gotoEdge(i, b);
      this.dense[base + c] = g >= 0 ? g : i === 0 ? 0 : (this.dense[(this.fail[i] as number) * this.nClass + c] as number);
    }
  }

  private gotoEdge(s: number, b: number): number {
    const key = s * 256 + b;
    let h = Math.imul(key, 0x9e3779b1) & this.hMask;
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
    for (let t = (this.term[s] as number) >= 0 ? s : (this.outLink[s] as number); t >= 0; t = this.outLink[t] as number) {
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
  scan(buf: Uint8Array, on: OnMatch, onLine: (nl: number, before1: number, before2: number, before3: number) => void): void {
    const dense = this.dense;
    const cls = this.cls;
    const nClass = this.nClass;
    const nDense = this.nDense;
    const hasOut = this.hasOut;
    const depth = this.depth;
    const len = buf.length;
    let s = 0;
    let p1 = 0;
    let p2 = 0;
    for (let i = 0; i < len; i++) {
      const b = buf[i] as number;
      if (b === 10 && (depth[s] !== 0 || depth[p1] !== 0 || depth[p2] !== 0 || LINE_END_HINT[buf[i - 1] as number] === 1)) onLine(i, s, p1, p2);
      p2 = p1;
      p1 = s;
      s = s < nDense ? (dense[s * nClass + (cls[b] as number)] as number) : this.stepFrom(s, b);
      if (hasOut[s] === 1) this.emit(s, i, on);
    }
  }
}

/** Bytes that may end a line before a string concatenation (quote, +, ., blanks, \\, \r). */
const LINE_END_HINT = new Uint8Array(256);
for (const c of [34, 39, 96, 43, 46, 32, 9, 92, 13]) LINE_END_HINT[c] = 1;
