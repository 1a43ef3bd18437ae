/**
 * dotenv store (`stores/dotenv/store.go`): `KEY=value` lines split at the first `=` with no trimming,
 * `#` comment lines, blank lines dropped, `\n` escapes for newlines, metadata flattened as `sops_…`.
 */
import { SopsParseError } from "../errors.js";
import { goTimeText } from "../goformat.js";
import { flattenMetadata, unflattenMetadata } from "../metadata.js";
import { comment, entry, mapping, scalar, type Mapping, type Tree } from "../tree.js";
import type { Parsed, Store } from "./store.js";

function parse(text: string, file?: string): Parsed {
  const m: Mapping = mapping();
  const metaPairs: [string, string][] = [];
  const lines = text.split("\n");
  const seen = new Set<string>();
  lines.forEach((line, idx) => {
    if (line === "") return;
    if (line.startsWith("#")) {
      m.items.push(comment(line.slice(1)));
      return;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new SopsParseError("invalid dotenv line: no '='", { file, line: idx + 1 });
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).replace(/\\n/g, "\n");
    // a repeated key is refused: `set` would change one copy and exec-env export the other
    if (seen.has(key))
      throw new SopsParseError(`duplicate key ${JSON.stringify(key.slice(0, 80))}`, {
        file,
        line: idx + 1,
        hint: "remove or rename the duplicate key",
      });
    seen.add(key);
    if (key.startsWith("sops_")) metaPairs.push([key.slice(5), value]);
    else m.items.push(entry(key, scalar(value)));
  });
  return { tree: [m], meta: metaPairs.length ? unflattenMetadata(metaPairs, file) : undefined };
}

function emitLines(m: Mapping): string[] {
  const out: string[] = [];
  for (const it of m.items) {
    if (it.kind === "comment") out.push(`#${it.text}`);
    else {
      if (it.value.kind !== "scalar")
        throw new SopsParseError(`dotenv cannot hold nested value at ${JSON.stringify(it.key)}`, {
          hint: "use yaml or json for nested data",
        });
      const v = it.value.value;
      const s =
        v === null
          ? ""
          : typeof v === "string"
            ? v
            : v instanceof Uint8Array
              ? Buffer.from(v).toString("utf8")
              : typeof v === "boolean"
                ? String(v)
                : v instanceof Date
                  ? goTimeText(v)
                  : String(v);
      out.push(`${it.key}=${s.replace(/\n/g, "\\n")}`);
    }
  }
  return out;
}

/** The dotenv store. */
export const dotenvStore: Store = {
  parseEncrypted: parse,
  parsePlain(input, file) {
    return parse(typeof input === "string" ? input : Buffer.from(input).toString("utf8"), file);
  },
  emitEncrypted(tree: Tree, meta) {
    const lines = emitLines(tree[0] ?? mapping());
    for (const [k, v] of flattenMetadata(meta)) lines.push(`sops_${k}=${v.replace(/\n/g, "\\n")}`);
    return lines.map((l) => l + "\n").join("");
  },
  emitPlain(tree) {
    return emitLines(tree[0] ?? mapping())
      .map((l) => l + "\n")
      .join("");
  },
};
