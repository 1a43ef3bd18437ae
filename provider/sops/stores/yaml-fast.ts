/**
 * Fast path for reading yaml files in the exact layout sops 3.13 and keyfleet write: the trailing
 * `sops:` block is read line by line and accepted only if `emitSopsBlock` re-emits it byte for byte
 * (so it is exactly what our emitter writes for those values, and what the yaml parser reads back);
 * only the data part before it goes through the full yaml parser. Anything else (multi-document
 * files, CRLF, comments or unusual scalars in the block, a `sops` key in the data) returns
 * undefined and the caller uses the full parse, so results are identical either way.
 */

/** A single-document file split into the data part and its verified metadata. */
export interface FastSplit {
  /** The data part: everything before the `sops:` line (a prefix of the text, ends with a newline). */
  body: string;
  /** The raw metadata object, as the full parse would return it. */
  meta: Record<string, unknown>;
}

const KEY_RE = /^[a-z][a-z0-9_]*$/;
const TOP_RE = /^ {4}([a-z][a-z0-9_]*):(?: (.*))?$/;
const ITEM_RE = /^ {8}- (?:([a-z][a-z0-9_]*): (.*)|(.*))$/;
const ITEM_CONT_RE = /^ {10}([a-z][a-z0-9_]*): (.*)$/;

/**
 * Reads one scalar; block scalars consume the following lines. Returns the value and next line index.
 * Plain `true`/`false` are booleans (as yaml reads them); other plain scalars are strings, which the
 * caller's re-emission check only accepts if the emitter would write that string unquoted.
 */
function scalarAt(first: string, lines: string[], i: number, indent: string): [string | boolean, number] | undefined {
  if (first === "true" || first === "false") return [first === "true", i];
  if (first === "|" || first === "|-" || first === "|+") {
    const body: string[] = [];
    let j = i;
    while (j < lines.length) {
      const l = lines[j] as string;
      if (l === "") body.push("");
      else if (l.startsWith(indent)) body.push(l.slice(indent.length));
      else break;
      j++;
    }
    while (body.length && body[body.length - 1] === "" && first !== "|+") body.pop();
    const v = body.join("\n") + (first === "|-" ? "" : "\n");
    return [v, j];
  }
  if (first.startsWith('"')) {
    if (first.length < 2 || !first.endsWith('"') || first.slice(1, -1).includes('"') || first.includes("\\"))
      return undefined;
    return [first.slice(1, -1), i];
  }
  if (first === "" || first.startsWith("'")) return undefined;
  return [first, i];
}

/** Parses the lines of a `sops:` block (after the `sops:` line) into a plain object; no verification. */
function readBlock(lines: string[]): Record<string, unknown> | undefined {
  const meta: Record<string, unknown> = {};
  let i = 0;
  while (i < lines.length) {
    const top = TOP_RE.exec(lines[i] as string);
    if (!top) return undefined;
    const key = top[1] as string;
    if (Object.prototype.hasOwnProperty.call(meta, key)) return undefined;
    i++;
    if (top[2] !== undefined) {
      const s = scalarAt(top[2], lines, i, "        ");
      if (!s) return undefined;
      meta[key] = s[0];
      i = s[1];
      continue;
    }
    const items: unknown[] = [];
    while (i < lines.length && (lines[i] as string).startsWith("        - ")) {
      const m = ITEM_RE.exec(lines[i] as string);
      if (!m) return undefined;
      i++;
      if (m[3] !== undefined) {
        const s = scalarAt(m[3], lines, i, "            ");
        if (!s) return undefined;
        items.push(s[0]);
        i = s[1];
        continue;
      }
      const obj: Record<string, unknown> = {};
      let k = m[1] as string;
      let first = m[2] as string;
      for (;;) {
        if (!KEY_RE.test(k) || Object.prototype.hasOwnProperty.call(obj, k)) return undefined;
        const s = scalarAt(first, lines, i, "            ");
        if (!s) return undefined;
        obj[k] = s[0];
        i = s[1];
        const c = i < lines.length ? ITEM_CONT_RE.exec(lines[i] as string) : null;
        if (!c) break;
        k = c[1] as string;
        first = c[2] as string;
        i++;
      }
      items.push(obj);
    }
    if (!items.length) return undefined;
    meta[key] = items;
  }
  return meta;
}

/**
 * Splits `text` into data and metadata when it is a single-document yaml file ending in a `sops:`
 * block that `emit` reproduces exactly; otherwise undefined (use the full parser).
 */
export function fastSplit(text: string, emit: (meta: Record<string, unknown>) => string): FastSplit | undefined {
  if (text.includes("\r") || !text.endsWith("\n")) return undefined;
  const at = text.lastIndexOf("\nsops:\n");
  if (at < 0) return undefined;
  const body = text.slice(0, at + 1);
  const block = text.slice(at + 1);
  // one document only: no document markers or directives at the start of any line of the data part
  if (/^(?:---|\.\.\.|%)/m.test(body)) return undefined;
  const meta = readBlock(block.slice("sops:\n".length, -1).split("\n"));
  if (!meta || emit(meta) !== block) return undefined;
  return { body, meta };
}
