/**
 * JSON store (`stores/json/store.go`): keys in file order, `sops` appended last, tab indent, trailing
 * newline; numbers are int when int64-representable integer syntax, else float.
 */
import { SopsParseError } from "../errors.js";
import { goFormatFloatF, goTimeText } from "../goformat.js";
import { entry, fromPlain, mapping, scalar, toPlain, type Mapping, type Node, type Tree } from "../tree.js";
import type { Parsed, Store } from "./store.js";

const MAX_DEPTH = 200;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

const ESC: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** Strict JSON parser keeping key order, ints as bigint and line numbers for errors. */
export function parseJsonNode(text: string, file?: string): Node {
  const p = new JsonParser(text, file);
  const v = p.value(0);
  p.ws();
  if (p.i !== text.length) p.fail("trailing data after the json value");
  return v;
}

/** Cursor over one JSON text; each method consumes one grammar production from `i`. */
class JsonParser {
  i = 0;
  constructor(
    private readonly text: string,
    private readonly file: string | undefined,
  ) {}

  /** Throws a parse error carrying the line of the cursor. */
  fail(msg: string, hint = "fix the json syntax at that line"): never {
    const line = this.text.slice(0, this.i).split("\n").length;
    throw new SopsParseError(`invalid json: ${msg}`, { file: this.file, line, hint });
  }

  /** Skips JSON whitespace. */
  ws(): void {
    const text = this.text;
    while (
      this.i < text.length &&
      (text[this.i] === " " || text[this.i] === "\t" || text[this.i] === "\n" || text[this.i] === "\r")
    )
      this.i++;
  }

  /** Parses a string literal at the cursor. */
  str(): string {
    const text = this.text;
    if (text[this.i] !== '"') this.fail("expected a string");
    this.i++;
    // runs of plain characters are sliced, not appended one by one (a value may be megabytes long)
    const parts: string[] = [];
    for (;;) {
      const start = this.i;
      let c = text.charCodeAt(this.i);
      while (this.i < text.length && c !== 34 && c !== 92 && c >= 32) c = text.charCodeAt(++this.i);
      if (this.i > start) parts.push(text.slice(start, this.i));
      if (this.i >= text.length) this.fail("unterminated string");
      if (c === 34) {
        this.i++;
        return parts.length === 1 ? (parts[0] as string) : parts.join("");
      }
      if (c < 32) this.fail("control character in string");
      this.i++;
      parts.push(this.escape());
    }
  }

  /** Decodes the escape after a backslash (the cursor is on the escape letter). */
  private escape(): string {
    const e = this.text[this.i++];
    if (e === "u") {
      const h = this.text.slice(this.i, this.i + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail("bad \\u escape");
      this.i += 4;
      return String.fromCharCode(parseInt(h, 16));
    }
    if (e !== undefined && e in ESC) return ESC[e] as string;
    return this.fail("bad escape");
  }

  /** Parses any value at the cursor, refusing nesting deeper than MAX_DEPTH. */
  value(depth: number): Node {
    if (depth > MAX_DEPTH) this.fail("nesting too deep");
    this.ws();
    const c = this.text[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return scalar(this.str());
    return this.literal();
  }

  /** Parses an object; the cursor is on `{`. */
  private object(depth: number): Mapping {
    this.i++;
    const m = mapping();
    this.ws();
    if (this.text[this.i] === "}") {
      this.i++;
      return m;
    }
    // duplicate keys are refused with the line of the second one: otherwise `set` would change
    // one copy and exec-env export the other
    const seen = new Set<string>();
    for (;;) {
      this.ws();
      const at = this.i;
      const k = this.str();
      if (seen.has(k)) {
        this.i = at;
        this.fail(`duplicate key ${JSON.stringify(k.slice(0, 80))}`, "remove or rename the duplicate key");
      }
      seen.add(k);
      this.ws();
      if (this.text[this.i] !== ":") this.fail("expected ':'");
      this.i++;
      m.items.push(entry(k, this.value(depth + 1)));
      if (this.closes("}")) return m;
    }
  }

  /** Parses an array; the cursor is on `[`. */
  private array(depth: number): Node {
    this.i++;
    const items: Node[] = [];
    this.ws();
    if (this.text[this.i] === "]") {
      this.i++;
      return { kind: "seq", items };
    }
    for (;;) {
      items.push(this.value(depth + 1));
      if (this.closes("]")) return { kind: "seq", items };
    }
  }

  /** After a member: consumes `,` (false, more follow) or the closing bracket (true). */
  private closes(close: "}" | "]"): boolean {
    this.ws();
    if (this.text[this.i] === ",") {
      this.i++;
      return false;
    }
    if (this.text[this.i] === close) {
      this.i++;
      return true;
    }
    return this.fail(`expected ',' or '${close}'`);
  }

  /** Parses `true`, `false`, `null` or a number (int64 as bigint, else float). */
  private literal(): Node {
    for (const [w, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (this.text.startsWith(w, this.i)) {
        this.i += w.length;
        return scalar(v);
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i, this.i + 400));
    if (!m) return this.fail("unexpected character");
    this.i += m[0].length;
    if (!m[2] && !m[3]) {
      const n = BigInt(m[0]);
      if (n <= INT64_MAX && n >= INT64_MIN) return scalar(n);
    }
    return scalar(Number(m[0]));
  }
}

function esc(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Go `json.Marshal` + `json.Indent(prefix "", unit)` of a node (HTML characters escaped like Go).
 * `unit` is a tab by default; sops's `stores.json.indent: N` makes it N spaces (0: none).
 */
export function emitJsonNode(n: Node, ind = "", unit = "\t"): string {
  if (n.kind === "scalar") {
    const v = n.value;
    if (v === null) return "null";
    if (typeof v === "string") return esc(v);
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number")
      return Number.isFinite(v)
        ? (Math.abs(v) < 1e-6 && v !== 0) || Math.abs(v) >= 1e21
          ? String(v)
          : goFormatFloatF(v)
        : esc(String(v));
    if (typeof v === "boolean") return v ? "true" : "false";
    if (v instanceof Date) return esc(goTimeText(v));
    return esc(Buffer.from(v).toString("utf8"));
  }
  const inner = ind + unit;
  if (n.kind === "seq") {
    const items = n.items.filter((x) => x.kind !== "comment") as Node[];
    if (!items.length) return "[]";
    return `[\n${items.map((x) => inner + emitJsonNode(x, inner, unit)).join(",\n")}\n${ind}]`;
  }
  const es = n.items.filter((x) => x.kind === "entry");
  if (!es.length) return "{}";
  return `{\n${es.map((e) => `${inner}${esc(e.key)}: ${emitJsonNode(e.value, inner, unit)}`).join(",\n")}\n${ind}}`;
}

function split(root: Node, file?: string): Parsed {
  if (root.kind !== "map") throw new SopsParseError("top-level json value must be an object", { file });
  let meta: Record<string, unknown> | undefined;
  const items = root.items.filter((it) => {
    if (it.kind === "entry" && it.key === "sops") {
      meta = toPlain(it.value) as Record<string, unknown>;
      return false;
    }
    return true;
  });
  return { tree: [mapping(items)], meta };
}

/** The JSON store. */
export const jsonStore: Store = {
  parseEncrypted(text, file) {
    return split(parseJsonNode(text, file), file);
  },
  parsePlain(input, file) {
    return split(parseJsonNode(typeof input === "string" ? input : Buffer.from(input).toString("utf8"), file), file);
  },
  emitEncrypted(tree: Tree, meta, opts) {
    const m = mapping([...(tree[0]?.items ?? []), entry("sops", fromPlain(meta))]);
    return emitJsonNode(m, "", jsonUnit(opts?.jsonIndent)) + "\n";
  },
  emitPlain(tree, opts) {
    return emitJsonNode(tree[0] ?? mapping(), "", jsonUnit(opts?.jsonIndent)) + "\n";
  },
};

/** sops json store `reindentJSON`: a tab unless `stores.json.indent` is set (>= 0: that many spaces). */
export function jsonUnit(indent: number | undefined): string {
  return indent === undefined || indent < 0 ? "\t" : " ".repeat(indent);
}

/** Exposed for the binary store. */
export type { Mapping };
