/**
 * One pass of the matcher over a file's bytes, line by line, with a second, short-lived automaton
 * state at each line break that skips the break, so that a value split across a line break inside
 * a quoted string is found too:
 *
 *   "abcd            "abcd\           "abcd" +
 *      efgh"            efgh"           "efgh"
 *
 * The fork starts from the state before the break (before a trailing `\` or `\r`, or before the
 * closing quote of a concatenation) and continues on the next line after its indentation (and the
 * opening quote). It lives only while its match still spans the break, so it costs a few steps per
 * line. A match found that way counts only when the line really has an open quoted string there.
 */
import type { MultiMatcher } from "./matcher";

/** A match in a buffer. */
export interface ContentHit {
  /** Byte offset of the first matched byte. */
  readonly start: number;
  /** Pattern index. */
  readonly pattern: number;
  /** True when the match spans a line break inside a quoted string. */
  readonly split: boolean;
}

/** Upper bound on hits collected from one buffer. */
export const MAX_HITS_PER_FILE = 200;

const NL = 10;
const CR = 13;
const BSL = 92;
const SP = 32;
const TAB = 9;
const QUOTES = new Set([34, 39, 96]); // " ' `

function isWordByte(b: number | undefined): boolean {
  return b !== undefined && ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 95);
}

/**
 * The quote open at `pos` on the line starting at `lineStart` (scanning `"`, `'` and backquotes,
 * with backslash escapes), with where it opened; undefined when no string is open there.
 */
export function openQuoteAt(
  buf: Uint8Array,
  lineStart: number,
  pos: number,
): { quote: number; at: number } | undefined {
  let open = -1;
  let at = -1;
  for (let i = lineStart; i < pos; i++) {
    const b = buf[i] as number;
    if (open >= 0) {
      if (b === BSL && open !== 39) i++;
      else if (b === open) open = -1;
    } else if (QUOTES.has(b)) {
      open = b;
      at = i;
    }
  }
  return open >= 0 ? { quote: open, at } : undefined;
}

/** Options of {@link scanBuffer}. */
export interface ScanBufferOptions {
  /** Patterns whose match must not touch a word character on either side (key names). */
  readonly wordBounded?: (pattern: number) => boolean;
}

/**
 * Every match of `m` in `buf` (at most {@link MAX_HITS_PER_FILE}), including matches split across
 * one line break inside a quoted string.
 */
export function scanBuffer(m: MultiMatcher, buf: Uint8Array, o: ScanBufferOptions = {}): ContentHit[] {
  const hits: ContentHit[] = [];
  const seen = new Set<string>();
  const lengths = m.lengths;
  const wb = o.wordBounded;
  const add = (start: number, pattern: number, split: boolean, end: number): void => {
    if (hits.length >= MAX_HITS_PER_FILE) return;
    if (wb && wb(pattern) && !split && (isWordByte(buf[start - 1]) || isWordByte(buf[end + 1]))) return;
    const k = `${start}:${pattern}`;
    if (seen.has(k)) return;
    seen.add(k);
    hits.push({ start, pattern, split });
  };
  const onMatch = (end: number, p: number): void => add(end - (lengths[p] as number) + 1, p, false, end);
  m.scan(buf, onMatch, (nl, before1, before2, before3) => {
    if (hits.length >= MAX_HITS_PER_FILE) return;
    // the junction: before a trailing "\r" and a trailing "\" (line continuation)
    let lineStart = buf.lastIndexOf(NL, nl - 1) + 1;
    if (nl - lineStart > 64 * 1024) lineStart = nl - 64 * 1024;
    let stop = nl;
    if (stop > lineStart && buf[stop - 1] === CR) stop--;
    if (stop > lineStart && buf[stop - 1] === BSL) stop--;
    const back = nl - stop; // bytes skipped before the line feed: 0, 1 or 2
    fork(m, buf, lineStart, stop, nl, back === 0 ? before1 : back === 1 ? before2 : before3, add);
  });
  return hits;
}

/** Skips spaces and tabs from `i`. */
function skipBlank(buf: Uint8Array, i: number, end: number): number {
  while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
  return i;
}

/**
 * The fork at one line break: tries the in-string continuation (`"abcd⏎ efgh"`) and the
 * concatenation (`"abcd" +⏎ "efgh"`) forms.
 */
function fork(
  m: MultiMatcher,
  buf: Uint8Array,
  lineStart: number,
  stop: number,
  nl: number,
  junctionState: number,
  add: (start: number, pattern: number, split: boolean, end: number) => void,
): void {
  const len = buf.length;
  const next = skipBlank(buf, nl + 1, len);
  if (next >= len) return;
  // concatenation: the line ends with a quote (then optional + . , \ and blanks), the next line starts with the same quote
  let q = stop;
  while (
    q > lineStart &&
    (buf[q - 1] === SP ||
      buf[q - 1] === TAB ||
      buf[q - 1] === 43 ||
      buf[q - 1] === 46 ||
      buf[q - 1] === BSL ||
      buf[q - 1] === CR)
  )
    q--;
  const closing = buf[q - 1] as number;
  let nextQ = next;
  if (buf[nextQ] === 43 || buf[nextQ] === 46) nextQ = skipBlank(buf, nextQ + 1, len);
  if (q > lineStart && QUOTES.has(closing) && buf[nextQ] === closing) {
    const from = Math.max(lineStart, q - 1 - m.maxLength);
    const st = m.run(buf, from, q - 1, 0, () => undefined);
    follow(m, buf, lineStart, q - 1, st, nextQ + 1, add);
  }
  if (m.depth[junctionState] === 0) return;
  follow(m, buf, lineStart, stop, junctionState, next, add);
}

/**
 * Runs the fork from `state` (a match of `depth[state]` bytes ending at `junction` on the line)
 * over the next line from `from`, while the match still spans the junction; a match found counts
 * when a quoted string is open at the junction and opened before the match.
 */
function follow(
  m: MultiMatcher,
  buf: Uint8Array,
  lineStart: number,
  junction: number,
  state: number,
  from: number,
  add: (start: number, pattern: number, split: boolean, end: number) => void,
): void {
  if (m.depth[state] === 0) return;
  let t = state;
  let fed = 0;
  for (let j = from; j < buf.length; j++) {
    const b = buf[j] as number;
    if (b === NL || b === CR) return;
    t = m.stepFrom(t, b);
    fed++;
    if (m.hasOut[t] === 1) {
      m.emit(t, j, (_end, p) => {
        const plen = m.lengths[p] as number;
        if (plen <= fed) return; // entirely on the next line: the main pass has it
        const start = junction - (plen - fed);
        if (start < lineStart) return;
        const open = openQuoteAt(buf, lineStart, junction);
        if (open && open.at < start) add(start, p, true, j);
      });
    }
    if ((m.depth[t] as number) <= fed) return;
  }
}
