/**
 * INI store (`stores/ini/store.go`, gopkg.in/ini.v1): sections are mappings of `str` values, comments
 * (`;`/`#`) before a section or key are encrypted with the section's AAD, metadata lives in `[sops]`
 * flattened below the top level. Reads both `\n`-escaped (3.13.2) and `"""` multi-line (3.13.0/1) values.
 */
import { SopsParseError } from "../errors.js";
import { goTimeText } from "../goformat.js";
import { flattenMetadata, unflattenMetadata } from "../metadata.js";
import { comment, entry, mapping, scalar, type Comment, type Mapping, type Tree } from "../tree.js";
import type { Parsed, Store } from "./store.js";

const DEFAULT = "DEFAULT";

function unquote(v: string): string {
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("`") && v.endsWith("`"))))
    return v.slice(1, -1);
  const c = v.search(/[#;]/);
  return c >= 0 ? v.slice(0, c).trimEnd() : v;
}

function parse(text: string, file?: string): Parsed {
  // go-ini always has the DEFAULT section (keys before any header); sops's tree keeps it, empty or not
  const def = mapping();
  const root = mapping([entry(DEFAULT, def)]);
  let section: Mapping | undefined;
  let sectionName = DEFAULT;
  let pending: Comment[] = [];
  const metaPairs: [string, string][] = [];
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith(";") || line.startsWith("#")) {
      pending.push(comment(line.slice(1).trimStart()));
      continue;
    }
    if (line.startsWith("[")) {
      const end = line.indexOf("]");
      if (end < 0) throw new SopsParseError("unclosed section header", { file, line: i + 1 });
      sectionName = line.slice(1, end).trim();
      if (sectionName === DEFAULT) {
        section = def;
        section.items.push(...pending);
      } else {
        section = mapping(sectionName === "sops" ? [] : pending);
        if (sectionName !== "sops") root.items.push(entry(sectionName, section));
      }
      pending = [];
      continue;
    }
    const d = line.search(/[=:]/);
    if (d < 0) throw new SopsParseError("invalid ini line: expected key = value", { file, line: i + 1 });
    const key = line.slice(0, d).trim();
    let value = line.slice(d + 1).trim();
    if (value.startsWith('"""')) {
      let acc = value.slice(3);
      const start = i;
      while (!acc.endsWith('"""')) {
        i++;
        if (i >= lines.length) throw new SopsParseError('unterminated """ value', { file, line: start + 1 });
        acc += "\n" + (lines[i] as string);
      }
      value = acc.slice(0, -3);
    } else value = unquote(value);
    if (sectionName === "sops") {
      metaPairs.push([key, value.replace(/\\n/g, "\n")]);
      continue;
    }
    if (!section) section = def;
    // as sops's tree (treeItemFromSection): a key's comment follows the key
    section.items.push(entry(key, scalar(value)), ...pending);
    pending = [];
  }
  if (pending.length) (section ?? def).items.push(...pending);
  return { tree: [root], meta: metaPairs.length ? unflattenMetadata(metaPairs, file) : undefined };
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (v instanceof Date) return goTimeText(v);
  return String(v);
}

function quoteValue(s: string): string {
  if (s.includes("\n") || s.includes("`")) return `"""${s}"""`;
  if (/[#;]/.test(s) || s !== s.trim() || s.startsWith('"')) return "`" + s + "`";
  return s;
}

/** go-ini `WriteTo`: the DEFAULT section, when first, is written without a `[DEFAULT]` header. */
function header(name: string, first: boolean, out: string[]): void {
  if (!(first && name === DEFAULT)) out.push(`[${name}]`);
}

function emitSection(
  name: string,
  items: [string, string, string[]][],
  comments: string[],
  out: string[],
  first = false,
): void {
  for (const c of comments) out.push(`; ${c}`);
  header(name, first, out);
  const w = Math.max(0, ...items.map(([k]) => k.length));
  for (const [k, v, cs] of items) {
    for (const c of cs) out.push(`; ${c}`);
    out.push(`${k.padEnd(w)} = ${v}`);
  }
  out.push("");
}

/**
 * sops `encodeTree`: a section's first item, if a comment, is the section comment (above the
 * header); a comment after a key is that key's comment, which go-ini writes above the key. sops
 * keeps only the last of several; here they are all kept, one `;` line each, so nothing is lost.
 */
function emit(tree: Tree, meta?: Record<string, unknown>): string {
  const out: string[] = [];
  const root = tree[0] ?? mapping();
  let first = true;
  for (const it of root.items) {
    const isFirst = first;
    first = false;
    if (it.kind === "comment") {
      out.push(`; ${it.text}`);
      continue;
    }
    if (it.value.kind !== "map")
      throw new SopsParseError(`ini values must be inside a section, got ${JSON.stringify(it.key)} at top level`, {
        hint: "use yaml or json for this data",
      });
    const sectionComments: string[] = [];
    const items: [string, string, string[]][] = [];
    for (const x of it.value.items) {
      if (x.kind === "comment") {
        const last = items[items.length - 1];
        if (last) last[2].push(x.text);
        else sectionComments.push(x.text);
        continue;
      }
      if (x.value.kind !== "scalar")
        throw new SopsParseError(`ini cannot hold nested value at ${JSON.stringify(`${it.key}.${x.key}`)}`, {
          hint: "use yaml or json for nested data",
        });
      items.push([x.key, quoteValue(valueText(x.value.value)), []]);
    }
    if (it.key === DEFAULT && items.length === 0 && sectionComments.length === 0) continue;
    emitSection(it.key, items, sectionComments, out, isFirst);
  }
  if (meta)
    emitSection(
      "sops",
      flattenMetadata(meta).map(([k, v]) => [k, v.replace(/\n/g, "\\n"), []]),
      [],
      out,
    );
  while (out.length && out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}

/** The INI store. */
export const iniStore: Store = {
  parseEncrypted: parse,
  parsePlain(input, file) {
    return parse(typeof input === "string" ? input : Buffer.from(input).toString("utf8"), file);
  },
  emitEncrypted: emit,
  emitPlain: (tree) => emit(tree),
};
