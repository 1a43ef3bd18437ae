/**
 * Key paths on the command line, as sops writes them (`'["db"]["password"]'`, `'["list"][0]'`) or
 * dotted (`db.password`), and `--extract` of a subtree or a scalar from a decrypted tree.
 */
import { yamlLib } from "../provider/sops/stores/yaml-lib";
import { storeFor, type SopsFormat } from "../provider/sops";
import { emitJsonNode } from "../provider/sops/stores/json";
import { goTimeText, goYamlFloat } from "../provider/sops/goformat";
import { getEntry, toPlain, type Node, type Tree } from "../provider/sops/tree";
import { KeyfleetError } from "../provider/errors";

/** Longest key path accepted. */
const MAX_PATH = 4096;

function badPath(text: string, why: string): KeyfleetError {
  return new KeyfleetError("BAD_KEY_PATH", `invalid key path ${JSON.stringify(text.slice(0, 80))}: ${why}`, {
    hint: `write it as sops does, e.g. '["db"]["password"]' or '["list"][0]', or dotted as db.password`,
  });
}

/**
 * Parses a key path: sops form `["a"][0]["b"]` (double or single quotes, integer indices) or dotted
 * `a.b`. List indices come back as decimal strings.
 * @throws KeyfleetError `BAD_KEY_PATH` (exit 91)
 */
export function parseKeyPath(text: string): string[] {
  if (text.length === 0 || text.length > MAX_PATH) throw badPath(text, "empty or too long");
  if (!text.startsWith("[")) {
    const parts = text.split(".");
    if (parts.some((p) => p === "")) throw badPath(text, "empty component");
    return parts;
  }
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== "[") throw badPath(text, `expected [ at offset ${i}`);
    i++;
    const q = text[i];
    if (q === '"' || q === "'") {
      let key = "";
      i++;
      for (;;) {
        if (i >= text.length) throw badPath(text, "unterminated string");
        const c = text[i] as string;
        if (c === "\\" && q === '"' && i + 1 < text.length) {
          key += text[i + 1];
          i += 2;
          continue;
        }
        if (c === q) break;
        key += c;
        i++;
      }
      i++;
      out.push(key);
    } else {
      const m = /^\d+/.exec(text.slice(i));
      if (!m) throw badPath(text, `expected a quoted key or an index at offset ${i}`);
      out.push(String(Number(m[0])));
      i += m[0].length;
    }
    if (text[i] !== "]") throw badPath(text, `expected ] at offset ${i}`);
    i++;
  }
  return out;
}

/** The sops-style text of a path, for messages: `["a"]["b"]`. */
export function formatKeyPath(path: readonly string[]): string {
  return path.map((k) => `[${JSON.stringify(k)}]`).join("");
}

/**
 * The node at `path` in the first document.
 * @throws KeyfleetError `KEY_NOT_FOUND` naming the missing component
 */
export function findNode(tree: Tree, path: readonly string[], file: string): Node {
  let cur: Node | undefined = tree[0];
  for (let i = 0; i < path.length; i++) {
    const k = path[i] as string;
    let next: Node | undefined;
    if (cur?.kind === "map") next = getEntry(cur, k)?.value;
    else if (cur?.kind === "seq" && /^\d+$/.test(k))
      next = cur.items.filter((it) => it.kind !== "comment")[Number(k)] as Node | undefined;
    if (!next)
      throw new KeyfleetError("KEY_NOT_FOUND", `${file}: key ${formatKeyPath(path.slice(0, i + 1))} not found`, {
        file,
        hint: "list the keys with keyfleet audit",
      });
    cur = next;
  }
  if (!cur) throw new KeyfleetError("KEY_NOT_FOUND", `${file}: the file has no document`, { file });
  return cur;
}

function scalarText(n: Node & { kind: "scalar" }, format: SopsFormat): string | Uint8Array {
  const v = n.value;
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return v;
  if (format === "json") return emitJsonNode(n);
  if (v === null) return "null\n";
  if (typeof v === "number") return goYamlFloat(v) + "\n";
  if (v instanceof Date) return goTimeText(v) + "\n";
  return String(v) + "\n";
}

/**
 * `--extract`: a string value raw (no newline, as sops prints it), another scalar or a list as a
 * value in the output format, a mapping as a whole plaintext file in the output format.
 */
export function extractOutput(
  tree: Tree,
  path: readonly string[],
  format: SopsFormat,
  file: string,
): string | Uint8Array {
  const n = findNode(tree, path, file);
  if (n.kind === "scalar") return scalarText(n, format);
  if (n.kind === "map") return storeFor(format).emitPlain([n]);
  return format === "json" ? emitJsonNode(n) : yamlLib().stringify(toPlain(n), { indent: 4 });
}
