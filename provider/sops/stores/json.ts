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

/** Strict JSON parser keeping key order, ints as bigint and line numbers for errors. */
export function parseJsonNode(text: string, file?: string): Node {
  let i = 0;
  const fail = (msg: string, hint = "fix the json syntax at that line"): never => {
    const line = text.slice(0, i).split("\n").length;
    throw new SopsParseError(`invalid json: ${msg}`, { file, line, hint });
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const ESC: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
  const str = (): string => {
    if (text[i] !== '"') fail("expected a string");
    i++;
    // runs of plain characters are sliced, not appended one by one (a value may be megabytes long)
    const parts: string[] = [];
    for (;;) {
      const start = i;
      let c = text.charCodeAt(i);
      while (i < text.length && c !== 34 && c !== 92 && c >= 32) c = text.charCodeAt(++i);
      if (i > start) parts.push(text.slice(start, i));
      if (i >= text.length) fail("unterminated string");
      if (c === 34) {
        i++;
        return parts.length === 1 ? (parts[0] as string) : parts.join("");
      }
      if (c < 32) fail("control character in string");
      i++;
      const e = text[i++];
      if (e === "u") {
        const h = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) fail("bad \\u escape");
        parts.push(String.fromCharCode(parseInt(h, 16)));
        i += 4;
      } else if (e !== undefined && e in ESC) parts.push(ESC[e] as string);
      else fail("bad escape");
    }
  };
  const value = (depth: number): Node => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const m = mapping();
      ws();
      if (text[i] === "}") {
        i++;
        return m;
      }
      // duplicate keys are refused with the line of the second one: otherwise `set` would change
      // one copy and exec-env export the other
      const seen = new Set<string>();
      for (;;) {
        ws();
        const at = i;
        const k = str();
        if (seen.has(k)) {
          i = at;
          fail(`duplicate key ${JSON.stringify(k.slice(0, 80))}`, "remove or rename the duplicate key");
        }
        seen.add(k);
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        m.items.push(entry(k, value(depth + 1)));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return m;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const items: Node[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return { kind: "seq", items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return { kind: "seq", items };
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return scalar(str());
    for (const [w, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(w, i)) {
        i += w.length;
        return scalar(v);
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail("unexpected character");
    i += m[0].length;
    if (!m[2] && !m[3]) {
      const n = BigInt(m[0]);
      if (n <= INT64_MAX && n >= INT64_MIN) return scalar(n);
    }
    return scalar(Number(m[0]));
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail("trailing data after the json value");
  return v;
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
    if (typeof v === "number") return Number.isFinite(v) ? (Math.abs(v) < 1e-6 && v !== 0) || Math.abs(v) >= 1e21 ? String(v) : goFormatFloatF(v) : esc(String(v));
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
