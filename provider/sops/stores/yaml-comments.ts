/**
 * Places YAML comments as sops does: each full-line comment becomes a comment item of the innermost
 * open mapping/sequence whose items start at or left of the comment's column (so a comment after the
 * last key of a nested mapping, indented like its keys, gets that mapping's AAD).
 */
import { yamlLib } from "./yaml-lib.js";
import { comment, type Comment, type Mapping, type Sequence } from "../tree.js";

/** Position info recorded while converting a document. */
export interface Mark {
  line: number;
  coll: Mapping | Sequence;
  /** index among the collection's non-comment items */
  index: number;
  child?: Mapping | Sequence;
}
/** Per-collection layout. */
export interface CollInfo {
  col: number;
  parent?: Mapping | Sequence;
  firstLine: number;
}

/** Line/column from offset. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  /** 0-based line and column of `offset`. */
  pos(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, col: offset - (this.starts[lo] as number) };
  }
}

/** All comment tokens of `text` as (offset, text after '#'). */
export function commentTokens(text: string): { offset: number; text: string }[] {
  const out: { offset: number; text: string }[] = [];
  const seen = new Set<unknown>();
  const visit = (t: unknown, depth: number): void => {
    if (depth > 500 || typeof t !== "object" || t === null || seen.has(t)) return;
    seen.add(t);
    const o = t as { type?: unknown; source?: unknown; offset?: unknown };
    if (o.type === "comment" && typeof o.source === "string" && typeof o.offset === "number") {
      out.push({ offset: o.offset, text: o.source.slice(1) });
      return;
    }
    for (const v of Object.values(o)) visit(v, depth + 1);
  };
  for (const tok of new (yamlLib().Parser)().parse(text)) visit(tok, 0);
  return out.sort((a, b) => a.offset - b.offset);
}

/**
 * Inserts `comments` (with 0-based line/col) into the collections of one document.
 * `marks` are in document order; `root` receives comments that fit nowhere else.
 */
export function placeComments(
  root: Mapping,
  marks: Mark[],
  info: Map<Mapping | Sequence, CollInfo>,
  comments: { line: number; col: number; text: string; inline: boolean }[],
): void {
  const inserts = new Map<Mapping | Sequence, { index: number; line: number; c: Comment }[]>();
  const add = (coll: Mapping | Sequence, index: number, line: number, text: string, inline = false): void => {
    const l = inserts.get(coll) ?? [];
    const c = comment(text);
    if (inline) c.inline = true;
    l.push({ index, line, c });
    inserts.set(coll, l);
  };
  const countBefore = (coll: Mapping | Sequence, line: number, inclusive: boolean): number => {
    let n = 0;
    for (const m of marks)
      if (m.coll === coll && (inclusive ? m.line <= line : m.line < line)) n = Math.max(n, m.index + 1);
    return n;
  };
  let mi = 0;
  let prev: Mark | undefined;
  for (const c of comments) {
    while (
      mi < marks.length &&
      ((marks[mi] as Mark).line < c.line || (c.inline && (marks[mi] as Mark).line === c.line))
    )
      prev = marks[mi++];
    if (!prev) {
      add(root, 0, c.line, c.text);
      continue;
    }
    if (c.inline) {
      add(prev.coll, prev.index + 1, c.line, c.text, prev.line === c.line);
      continue;
    }
    const chain: (Mapping | Sequence)[] = [];
    if (prev.child && (info.get(prev.child)?.firstLine ?? -1) > c.line) chain.push(prev.child);
    for (let k: Mapping | Sequence | undefined = prev.coll; k; k = info.get(k)?.parent) chain.push(k);
    const target = chain.find((k) => (info.get(k)?.col ?? 0) <= c.col) ?? root;
    add(target, countBefore(target, c.line, false), c.line, c.text);
  }
  for (const [coll, list] of inserts) {
    const items = coll.items as unknown[];
    const nonComment = items.slice();
    const merged: unknown[] = [];
    const sorted = list.sort((a, b) => a.index - b.index || a.line - b.line);
    let k = 0;
    for (let i = 0; i <= nonComment.length; i++) {
      while (k < sorted.length && (sorted[k] as { index: number }).index <= i)
        merged.push((sorted[k++] as { c: Comment }).c);
      if (i < nonComment.length) merged.push(nonComment[i]);
    }
    while (k < sorted.length) merged.push((sorted[k++] as { c: Comment }).c);
    coll.items = merged as typeof coll.items;
  }
}
