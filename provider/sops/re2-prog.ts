/**
 * Compiles a parsed RE2 pattern (re2-parse.ts) to a Thompson-NFA program: CHAR, SPLIT, JMP, ASSERT and
 * MATCH instructions in parallel arrays. Counted repeats are expanded, so the program size is computed
 * first and capped ({@link MAX_PROGRAM}): `((a{1000}){1000})` is refused, never built.
 */
import { BOL, EOL, Re2Refusal, type Node, type Parsed } from "./re2-parse.js";

/** Most instructions a compiled pattern may have; the matcher's work per input character is bounded by it. */
export const MAX_PROGRAM = 5000;

/** Consume one code point in class `a`. */
export const OP_CHAR = 0;
/** Continue at both `a` and `b`. */
export const OP_SPLIT = 1;
/** Continue at `a`. */
export const OP_JMP = 2;
/** Continue at the next instruction when assertion `a` holds here. */
export const OP_ASSERT = 3;
/** The pattern matched. */
export const OP_MATCH = 4;

/** A compiled program; instruction 0 is the start. */
export interface Program {
  op: Uint8Array;
  a: Int32Array;
  b: Int32Array;
  parsed: Parsed;
  /** Uses `\b` or `\B`. */
  wordAsserts: boolean;
  /** Every match starts with a `^` that only holds at the start of input (no m flag). */
  anchored: boolean;
}

function size(n: Node): number {
  switch (n.k) {
    case "char":
    case "assert":
      return 1;
    case "cat":
      return n.items.reduce((s, x) => s + size(x), 0);
    case "alt":
      return n.items.reduce((s, x) => s + size(x), 0) + 2 * (n.items.length - 1);
    case "rep": {
      const s = size(n.node);
      if (s > MAX_PROGRAM) return s;
      if (n.max < 0) return n.min === 0 ? s + 2 : n.min * s + 1;
      return n.min * s + (n.max - n.min) * (s + 1);
    }
  }
}

/**
 * Builds the program for `p`. @throws Re2Refusal when it would exceed {@link MAX_PROGRAM} instructions
 */
export function compileProgram(p: Parsed, multiline: boolean): Program {
  const total = size(p.node) + 1;
  if (total > MAX_PROGRAM)
    throw new Re2Refusal(
      `is too large: over ${MAX_PROGRAM} instructions once its repeats are expanded (Go RE2 refuses large ones too: expression too large)`,
      "use smaller or fewer nested repeat counts, or * / + instead of large counts",
    );
  const e = new Emitter(total);
  e.emit(p.node);
  e.put(OP_MATCH);
  const { op, a, b, wordAsserts } = e;
  const anchored = !multiline && op[0] === OP_ASSERT && a[0] === BOL;
  return { op, a, b, parsed: p, wordAsserts, anchored };
}

/** Writes instructions; SPLIT and JMP targets not yet known are patched once their code is emitted. */
class Emitter {
  readonly op: Uint8Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  pc = 0;
  wordAsserts = false;

  constructor(total: number) {
    this.op = new Uint8Array(total);
    this.a = new Int32Array(total);
    this.b = new Int32Array(total);
  }

  put(o: number, x = 0, y = 0): number {
    this.op[this.pc] = o;
    this.a[this.pc] = x;
    this.b[this.pc] = y;
    return this.pc++;
  }

  emit(n: Node): void {
    switch (n.k) {
      case "char":
        this.put(OP_CHAR, n.m);
        return;
      case "assert":
        if (n.a !== BOL && n.a !== EOL) this.wordAsserts = true;
        this.put(OP_ASSERT, n.a);
        return;
      case "cat":
        for (const x of n.items) this.emit(x);
        return;
      case "alt": {
        const jumps: number[] = [];
        n.items.forEach((x, k) => {
          if (k === n.items.length - 1) return this.emit(x);
          const split = this.put(OP_SPLIT, this.pc + 1);
          this.emit(x);
          jumps.push(this.put(OP_JMP));
          this.b[split] = this.pc;
        });
        for (const j of jumps) this.a[j] = this.pc;
        return;
      }
      case "rep":
        return this.repeat(n.node, n.min, n.max);
    }
  }

  private repeat(body: Node, min: number, max: number): void {
    if (max < 0 && min === 0) {
      const split = this.put(OP_SPLIT, this.pc + 1);
      this.emit(body);
      this.put(OP_JMP, split);
      this.b[split] = this.pc;
      return;
    }
    for (let k = 0; k < (max < 0 ? min - 1 : min); k++) this.emit(body);
    if (max < 0) {
      const loop = this.pc;
      this.emit(body);
      this.put(OP_SPLIT, loop, this.pc + 1);
      return;
    }
    const splits: number[] = [];
    for (let k = min; k < max; k++) {
      splits.push(this.put(OP_SPLIT, this.pc + 1));
      this.emit(body);
    }
    for (const s of splits) this.b[s] = this.pc;
  }
}
