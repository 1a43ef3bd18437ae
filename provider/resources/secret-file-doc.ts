/**
 * Plaintext documents for new SecretFiles: `values` → the text sops encrypts. Never logged.
 */
import { stringify } from "yaml";
import type { SopsFormat } from "../sops";
import { KeyfleetError } from "../errors";
import { valuePath } from "./secret-file-inputs";

/** The plaintext of a new file holding `values` (possibly none) in `format`. */
export function initialDocument(file: string, format: SopsFormat, values: Record<string, string>): string | Uint8Array {
  const keys = Object.keys(values).sort();
  if (format === "binary") {
    if (keys.length > 0)
      throw new KeyfleetError("BAD_VALUE", `${file} is a binary file and cannot hold values`, {
        file,
        hint: "remove values or use a yaml, json, dotenv or ini file",
      });
    return new Uint8Array(0);
  }
  if (format === "dotenv" || format === "ini") {
    const sections = new Map<string, string[]>();
    for (const k of keys) {
      const v = values[k] as string;
      if (/[\r\n]/.test(v)) {
        throw new KeyfleetError(
          "BAD_VALUE",
          `values.${k} contains a line break, which a ${format} file in ${file} cannot hold`,
          { file, hint: "use a yaml or json file for multi-line values" },
        );
      }
      const path = valuePath(k, format);
      const section = format === "ini" && path.length > 1 ? (path[0] as string) : "";
      const key = format === "ini" && path.length > 1 ? path.slice(1).join(".") : k;
      const lines = sections.get(section) ?? [];
      lines.push(format === "ini" ? `${key} = ${v}` : `${key}=${v}`);
      sections.set(section, lines);
    }
    if (format === "dotenv") return (sections.get("") ?? []).map((l) => l + "\n").join("");
    return [...sections.entries()].map(([s, ls]) => `[${s === "" ? "DEFAULT" : s}]\n${ls.join("\n")}\n`).join("\n");
  }
  // null-prototype maps: a key such as `constructor` or `__proto__` is an ordinary yaml/json key, and
  // must neither collide with Object.prototype nor (`__proto__.x`) write a value onto it
  const map = (): Record<string, unknown> => Object.create(null) as Record<string, unknown>;
  const root = map();
  for (const k of keys) {
    const path = valuePath(k, format);
    let node = root;
    path.forEach((seg, i) => {
      if (i === path.length - 1) {
        if (seg in node)
          throw new KeyfleetError("BAD_VALUE", `values key ${k} collides with another key in ${file}`, {
            file,
            hint: "a key cannot be both a value and a parent of other keys",
          });
        node[seg] = values[k];
        return;
      }
      const next = node[seg];
      if (next === undefined) node = node[seg] = map();
      else if (typeof next === "object" && next !== null) node = next as Record<string, unknown>;
      else
        throw new KeyfleetError("BAD_VALUE", `values key ${k} collides with another key in ${file}`, {
          file,
          hint: "a key cannot be both a value and a parent of other keys",
        });
    });
  }
  return format === "json" ? JSON.stringify(root, null, 2) + "\n" : keys.length === 0 ? "{}\n" : stringify(root);
}
