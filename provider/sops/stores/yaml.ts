/**
 * YAML store (`stores/yaml/store.go`): key order and comments kept, multi-document, indent 4; the
 * `sops` block is appended to every document (read from the first) in sops 3.13 style.
 */
import type { Document, Node as YNode, Scalar, YAMLMap, YAMLSeq } from "yaml";
import { yamlLib } from "./yaml-lib.js";
import { parseSimpleBody } from "./yaml-data-fast.js";
import { SopsParseError } from "../errors.js";
import { goTimeText, parseGoTime } from "../goformat.js";
import { entry, mapping, scalar, toPlain, type Mapping, type Node, type Sequence, type Tree } from "../tree.js";
import type { Parsed, Store } from "./store.js";
import { fastSplit } from "./yaml-fast.js";
import { commentTokens, LineIndex, placeComments, type CollInfo, type Mark } from "./yaml-comments.js";
import { MAX_SOPS_FILE_BYTES } from "../limits.js";
import { AliasBudget, MAX_YAML_DEPTH, parseYamlLimited } from "./yaml-limits.js";

import { emitYamlDocument, yamlIndent } from "./yaml-emit.js";
import { doubleQuoted, literalBlock, nonStringText, singleQuoted, stringStyle } from "./yaml-scalar.js";

const UINT64_MAX = 18446744073709551615n;
const INT64_MIN = -9223372036854775808n;

/**
 * Timestamps as go-yaml v3 resolves them (sops >= 3.10 encrypts them as `time`): only Go's four
 * layouts, offset and nanoseconds kept (GoTime). The yaml package's own YAML 1.1 tag accepts more
 * forms (no zone, `-5`) and converts to UTC, which would change the plaintext and the MAC.
 */
const goTimestampTag = {
  identify: (v: unknown) => v instanceof Date,
  default: true,
  tag: "tag:yaml.org,2002:timestamp",
  test: /^\d{4}-\d{1,2}-\d{1,2}(?:[Tt]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})| \d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?)?$/,
  resolve: (s: string) => parseGoTime(s) ?? s,
  stringify: (item: { value: unknown }) => goTimeText(item.value as Date),
};
const customTags = [goTimestampTag];
/** Converts one parsed document to a sops tree, keeping its comments in place. */
function convertDoc(doc: Document.Parsed, text: string, lines: LineIndex, from: number, file?: string): Mapping {
  const c = new DocConverter(doc, text, lines, file);
  const rootNode = doc.contents;
  if (rootNode !== null && !yamlLib().isMap(rootNode))
    throw new SopsParseError("top-level yaml value must be a mapping", {
      file,
      hint: "sops files are mappings at the top level",
    });
  const root = rootNode === null ? mapping() : (c.conv(rootNode, undefined, 0) as Mapping);
  if (!c.info.has(root)) c.info.set(root, { col: 0, firstLine: 0 });
  placeComments(root, c.marks, c.info, docComments(text, lines, from, doc.range[2]));
  return root;
}

/** The comments between offsets `a` and `b` (one document), with their line, column and placement. */
function docComments(
  text: string,
  lines: LineIndex,
  a: number,
  b: number,
): { line: number; col: number; text: string; inline: boolean }[] {
  return (text.indexOf("#", a) < 0 || text.indexOf("#", a) >= b ? [] : commentTokens(text.slice(0, b)))
    .filter((c) => c.offset >= a && c.offset < b)
    .map((c) => {
      const p = lines.pos(c.offset);
      const before = text.slice(c.offset - p.col, c.offset);
      return { line: p.line, col: p.col, text: c.text, inline: before.trim() !== "" && before.trim() !== "---" };
    });
}

/**
 * Walks one yaml document into tree nodes, recording for each collection its column and parent and for
 * each item a line mark, which placeComments uses to put comments back.
 */
class DocConverter {
  readonly marks: Mark[] = [];
  readonly info = new Map<Mapping | Sequence, CollInfo>();
  private readonly budget: AliasBudget;

  constructor(
    private readonly doc: Document.Parsed,
    private readonly text: string,
    private readonly lines: LineIndex,
    private readonly file: string | undefined,
  ) {
    this.budget = new AliasBudget(file);
  }

  /** Converts any node, counting it and its aliases against the budget and the depth cap. */
  conv(n: unknown, parent: Mapping | Sequence | undefined, depth: number): Node {
    const file = this.file;
    if (depth > MAX_YAML_DEPTH)
      throw new SopsParseError(`invalid yaml: nested more than ${MAX_YAML_DEPTH} levels deep (counting aliases)`, {
        file,
        hint: "flatten the document; sops files are a few levels deep",
      });
    this.budget.node();
    const { isAlias, isMap, isScalar, isSeq } = yamlLib();
    if (isAlias(n)) return this.budget.inAlias(() => this.conv(n.resolve(this.doc), parent, depth + 1));
    if (isMap(n)) return this.convMap(n, parent, depth);
    if (isSeq(n)) return this.convSeq(n, parent, depth);
    if (isScalar(n)) return convScalar(n, this.text);
    if (n === null || n === undefined) return scalar(null);
    throw new SopsParseError("unsupported yaml node", { file });
  }

  /** Converts a mapping, refusing non-scalar and duplicate keys. */
  private convMap(n: YAMLMap, parent: Mapping | Sequence | undefined, depth: number): Mapping {
    const { file, text, lines } = this;
    const m = mapping();
    const start = lines.pos((n as YNode).range?.[0] ?? 0);
    this.info.set(m, { col: start.col, parent, firstLine: start.line });
    // duplicate keys are checked here with a Set: the yaml package's uniqueKeys check is quadratic
    const seen = new Set<string>();
    const { isScalar } = yamlLib();
    for (const p of n.items) {
      const k = p.key;
      let key: string;
      if (isScalar(k))
        key = typeof k.value === "string" ? k.value : k.range ? text.slice(k.range[0], k.range[1]) : String(k.value);
      else
        throw new SopsParseError("yaml mapping keys must be scalars", {
          file,
          line: k && isScalar(k) ? undefined : lines.pos((n as YNode).range?.[0] ?? 0).line + 1,
        });
      const pos = lines.pos(k.range?.[0] ?? 0);
      if (seen.has(key))
        throw new SopsParseError(`invalid yaml: mapping key ${JSON.stringify(key.slice(0, 80))} already defined`, {
          file,
          line: pos.line + 1,
          hint: "remove or rename the duplicate key",
        });
      seen.add(key);
      if (m.items.length === 0) this.info.set(m, { col: pos.col, parent, firstLine: pos.line });
      const mark: Mark = { line: pos.line, coll: m, index: m.items.length };
      this.marks.push(mark);
      const value = this.conv(p.value, m, depth + 1);
      if (value.kind !== "scalar") mark.child = value;
      m.items.push(entry(key, value));
    }
    return m;
  }

  /** Converts a sequence; an item's line and column are those of its dash. */
  private convSeq(n: YAMLSeq, parent: Mapping | Sequence | undefined, depth: number): Sequence {
    const { text, lines } = this;
    const s: Sequence = { kind: "seq", items: [] };
    let col = -1;
    let firstLine = -1;
    for (const it of n.items) {
      const off = (it as YNode | null)?.range?.[0] ?? (n as YNode).range?.[0] ?? 0;
      let dash = off - 1;
      while (dash > 0 && (text[dash] === " " || text[dash] === "\t")) dash--;
      const pos = lines.pos(text[dash] === "-" ? dash : off);
      if (col < 0) {
        col = pos.col;
        firstLine = pos.line;
      }
      const mark: Mark = { line: pos.line, coll: s, index: s.items.length };
      this.marks.push(mark);
      this.info.set(s, { col, parent, firstLine });
      const value = this.conv(it, s, depth + 1);
      if (value.kind !== "scalar") mark.child = value;
      s.items.push(value);
    }
    if (col < 0) this.info.set(s, { col: 0, parent, firstLine: -1 });
    return s;
  }
}

/** Converts a scalar as go-yaml resolves it (out-of-range integers read as floats or strings). */
function convScalar(n: Scalar, text: string): Node {
  const v = n.value;
  if (v === null || v === undefined) return scalar(null);
  if (typeof v === "bigint" && (v > UINT64_MAX || v < INT64_MIN)) {
    // go-yaml resolve(): ParseInt/ParseUint(s, 0, 64) fail, so a decimal reads as a float and
    // 0x/0o/0b forms stay strings (`0x629A…` of an Ethereum address is a string in sops)
    const src = n.source ?? (n.range ? text.slice(n.range[0], n.range[1]) : v.toString());
    return /^[-+]?[0-9][0-9_]*$/.test(src) ? scalar(Number(src.replace(/_/g, ""))) : scalar(src);
  }
  if (typeof v === "string" || typeof v === "bigint" || typeof v === "boolean" || v instanceof Date) return scalar(v);
  if (typeof v === "number") return scalar(v);
  return scalar(String(v));
}

/**
 * The yaml library's description of a syntax error and its position, without the source text some
 * descriptions quote after a colon (`Block scalar header includes extra characters: |hunter2`,
 * `Not a YAML token: …`, `… in YAML stream: "…"`): a plaintext value must not reach a message.
 */
export function yamlErrorText(err: { message: string }): string {
  const first = (err.message.split("\n")[0] ?? "").replace(/:$/, "");
  const at = / at line \d+, column \d+$/.exec(first);
  const what = at ? first.slice(0, at.index) : first;
  const colon = what.indexOf(": ");
  return (colon < 0 ? what : what.slice(0, colon)) + (at ? at[0] : "");
}

function parse(text: string, file?: string): Parsed {
  if (text.length > MAX_SOPS_FILE_BYTES)
    throw new SopsParseError(`yaml file larger than ${MAX_SOPS_FILE_BYTES} bytes`, {
      file,
      hint: "sops files are small; check the path",
    });
  return parseFast(text, file) ?? parseFull(text, file);
}

/**
 * Files in sops 3.13 layout: verified `sops:` block read line by line, only the data part through the
 * yaml parser. Undefined when the layout does not match or the data part is not a plain mapping
 * without a `sops` key (the full parse then gives the result or the error).
 */
function parseFast(text: string, file?: string): Parsed | undefined {
  const split = fastSplit(text, emitSopsBlock);
  if (!split) return undefined;
  const simple = parseSimpleBody(split.body);
  if (simple) return { tree: [simple], meta: split.meta };
  let body: Parsed;
  try {
    body = parseFull(split.body, file);
  } catch (e) {
    // a limit (nesting, aliases) is hit the same way by the full parse: do not do the work twice
    if (e instanceof SopsParseError && isLimitError(e)) throw e;
    return undefined;
  }
  const root = body.tree[0];
  if (body.meta !== undefined || body.tree.length !== 1 || !root || !root.items.some((it) => it.kind === "entry"))
    return undefined;
  return { tree: body.tree, meta: split.meta };
}

function isLimitError(e: SopsParseError): boolean {
  return e.message.includes("excessive aliasing") || e.message.includes("levels deep");
}

/** Parses yaml with the full yaml parser only (no fast path); exported so tests can compare both paths. */
export function parseFull(text: string, file?: string): Parsed {
  const lines = new LineIndex(text);
  const docs = parseYamlLimited(
    text,
    { intAsBigInt: true, customTags: customTags as never, uniqueKeys: false, prettyErrors: false },
    file,
  );
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) return { tree: [mapping()], meta: undefined };
  const tree: Tree = [];
  let meta: Record<string, unknown> | undefined;
  let from = 0;
  for (const d of list) {
    const err = d.errors[0];
    if (err)
      throw new SopsParseError(`invalid yaml: ${yamlErrorText(err)}`, {
        file,
        line: err.linePos?.[0]?.line ?? lines.pos(err.pos[0]).line + 1,
        hint: "fix the yaml syntax at that line",
      });
    const root = convertDoc(d, text, lines, from, file);
    from = d.range[2];
    root.items = root.items.filter((it) => {
      if (it.kind === "entry" && it.key === "sops") {
        if (meta === undefined) meta = toPlain(it.value) as Record<string, unknown>;
        return false;
      }
      return true;
    });
    tree.push(root);
  }
  if (tree.length === 0) tree.push(mapping());
  return { tree, meta };
}

/** Emits one data document as go-yaml v3 does for sops (yaml-emit.ts), indent 4 unless given. */
export function emitYamlDoc(root: Mapping, indent?: number): string {
  return emitYamlDocument(root, { indent });
}

function blockText(v: string, contentIndent: number, best: number): string {
  const b = literalBlock(v, contentIndent, best);
  return `${b.header}\n${b.lines.join("\n")}`;
}

function metaScalar(v: unknown, contentIndent: number, best: number): string {
  if (typeof v === "string") {
    const style = stringStyle(v);
    if (style === "plain") return v;
    if (style === "single") return singleQuoted(v);
    if (style === "double") return doubleQuoted(v);
    return blockText(v, contentIndent, best);
  }
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint" || typeof v === "boolean" || typeof v === "number" || v instanceof Date)
    return nonStringText(v);
  return doubleQuoted(String(v));
}

/**
 * Emits the `sops:` block as sops 3.13 does (go-yaml v3, `SetIndent(indent)`): top-level keys at
 * `indent`, list dashes at the next multiple of it, an item's keys two columns after its dash, block
 * scalar lines at the next multiple after those (emitterc.go `yaml_emitter_increase_indent`).
 */
export function emitSopsBlock(meta: Record<string, unknown>, indent?: number): string {
  const best = yamlIndent(indent);
  const top = " ".repeat(best);
  const dashCol = 2 * best;
  const dash = " ".repeat(dashCol) + "- ";
  const itemPad = " ".repeat(dashCol + 2);
  const itemContent = best * Math.floor((dashCol + 2 + best) / best);
  const out: string[] = ["sops:"];
  for (const [k, v] of Object.entries(meta)) {
    if (Array.isArray(v)) {
      if (v.length === 0) {
        out.push(`${top}${k}: []`);
        continue;
      }
      out.push(`${top}${k}:`);
      for (const item of v) {
        if (item && typeof item === "object" && !Array.isArray(item) && !(item instanceof Date)) {
          let first = true;
          for (const [ik, iv] of Object.entries(item as Record<string, unknown>)) {
            out.push(`${first ? dash : itemPad}${ik}: ${metaScalar(iv, itemContent, best)}`);
            first = false;
          }
          if (first) out.push(`${dash}{}`);
        } else out.push(`${dash}${metaScalar(item, dashCol + 2, best)}`);
      }
    } else out.push(`${top}${k}: ${metaScalar(v, 2 * best, best)}`);
  }
  return out.join("\n") + "\n";
}

/** The YAML store. */
export const yamlStore: Store = {
  parseEncrypted: parse,
  parsePlain(input, file) {
    return parse(typeof input === "string" ? input : Buffer.from(input).toString("utf8"), file);
  },
  emitEncrypted(tree: Tree, meta, opts) {
    const block = emitSopsBlock(meta, opts?.yamlIndent);
    return tree
      .map((d) => {
        const body = d.items.length ? emitYamlDoc(d, opts?.yamlIndent) : "";
        return body + block;
      })
      .join("---\n");
  },
  emitPlain(tree, opts) {
    return tree.map((d) => emitYamlDoc(d, opts?.yamlIndent)).join("---\n");
  },
};
