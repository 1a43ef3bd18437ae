/**
 * Fast path for the data part of a yaml sops file (the text before `sops:`, yaml-fast.ts), for the
 * shapes an encrypted file mostly has: block mappings and sequences of plain scalars, one per line,
 * no comments, quotes, block scalars, anchors, tags or flow collections. Every scalar is read as a
 * string, and the tree is accepted only if the emitter (yaml-emit.ts) writes it back byte for byte:
 * the emitter quotes any string the yaml parser would not read back as that string (`5432`, `true`,
 * `null`, a trailing space...), so an accepted tree is exactly what the full parse gives. Anything
 * else returns undefined and the caller parses with the yaml package, which a `keyfleet decrypt` of
 * such a file then never loads (start-up, issue 13 §4).
 */
import { entry, mapping, scalar, type Mapping, type Node, type Sequence } from "../tree.js";
import { emitYamlDocument } from "./yaml-emit.js";

/** Nesting left to the full parse (far below its own limit, MAX_YAML_DEPTH, and its error). */
const MAX_DEPTH = 32;
/** Characters that make the text something other than plain-scalar lines: comments, quotes, block scalars, tags... */
const NOT_SIMPLE = /[#'"|>&*!{}%@`\t\r\\]|^ *\?/m;

type Lines = string[];

/** `key:` (value undefined) or `key: value`: a plain key has no `: ` of its own, so the first one ends it. */
function pairOf(text: string): { key: string; value?: string } | undefined {
  const at = text.indexOf(": ");
  const key = at >= 0 ? text.slice(0, at) : text.endsWith(":") ? text.slice(0, -1) : undefined;
  if (key === undefined || key === "" || key.startsWith(" ") || key.startsWith("- ") || key === "-") return undefined;
  return at >= 0 ? { key, value: text.slice(at + 2) } : { key };
}

/** The number of leading spaces of a line. */
function indentOf(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  return i;
}

/** A plain scalar after `: ` or `- `: non-empty, no leading or trailing space (the emitter decides the rest). */
function plainValue(v: string): Node | undefined {
  if (v === "" || v.startsWith(" ") || v.endsWith(" ") || v.startsWith("[")) return undefined;
  return scalar(v);
}

/** A block mapping whose keys are at column `col`, from line `i`; the lines it used. */
function readMap(lines: Lines, i: number, col: number, depth: number): [Mapping, number] | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const m = mapping();
  const seen = new Set<string>();
  while (i < lines.length) {
    const line = lines[i] as string;
    const ind = indentOf(line);
    if (ind < col) break;
    if (ind > col || line.startsWith("- ", col)) return undefined;
    const pair = pairOf(line.slice(col));
    if (!pair) return undefined;
    const key = pair.key;
    if (seen.has(key)) return undefined; // the full parse reports the duplicate
    seen.add(key);
    let value: Node | undefined;
    if (pair.value !== undefined) {
      value = plainValue(pair.value);
      i++;
    } else {
      const next = readNested(lines, i + 1, col, depth);
      if (!next) return undefined;
      [value, i] = next;
    }
    if (!value) return undefined;
    m.items.push(entry(key, value));
  }
  return m.items.length ? [m, i] : undefined;
}

/** The collection under `key:` at column `col`: a mapping or sequence indented deeper. */
function readNested(lines: Lines, i: number, col: number, depth: number): [Node, number] | undefined {
  if (i >= lines.length) return undefined;
  const line = lines[i] as string;
  const ind = indentOf(line);
  if (ind <= col) return undefined;
  return line.startsWith("- ", ind) ? readSeq(lines, i, ind, depth + 1) : readMap(lines, i, ind, depth + 1);
}

/** A block sequence whose dashes are at column `col`, from line `i`. */
function readSeq(lines: Lines, i: number, col: number, depth: number): [Sequence, number] | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const s: Sequence = { kind: "seq", items: [] };
  while (i < lines.length) {
    const line = lines[i] as string;
    const ind = indentOf(line);
    if (ind < col) break;
    if (ind > col || !line.startsWith("- ", col)) return undefined;
    const rest = line.slice(col + 2);
    if (pairOf(rest)) {
      // `- key: value`: a mapping whose keys are at col + 2, the first one on the dash line
      lines[i] = " ".repeat(col + 2) + rest;
      const m = readMap(lines, i, col + 2, depth + 1);
      if (!m) return undefined;
      s.items.push(m[0]);
      i = m[1];
    } else {
      const v = plainValue(rest);
      if (!v) return undefined;
      s.items.push(v);
      i++;
    }
  }
  return s.items.length ? [s, i] : undefined;
}

/**
 * The data part `body` (ends with a newline) as a sops tree, when it has the simple shape above and
 * the emitter reproduces it exactly at `indent` (default 4); otherwise undefined.
 */
export function parseSimpleBody(body: string, indent?: number): Mapping | undefined {
  if (body === "" || !body.endsWith("\n") || NOT_SIMPLE.test(body)) return undefined;
  const lines = body.slice(0, -1).split("\n");
  if (lines.some((l) => l === "" || l.endsWith(" "))) return undefined;
  const read = readMap(lines, 0, 0, 0);
  if (!read || read[1] !== lines.length) return undefined;
  const root = read[0];
  if (root.items.some((it) => it.kind === "entry" && it.key === "sops")) return undefined;
  return emitYamlDocument(root, { indent }) === body ? root : undefined;
}
