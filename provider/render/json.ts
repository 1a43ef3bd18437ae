/** The `json` format: one JSON object of string values, keys in the given order. */
import { EnvParseError } from "./errors";
import { KEY_RE, checkEntries } from "./keys";

/** Render entries as a JSON object (two-space indent, trailing newline). */
export function renderJson(entries: readonly (readonly [string, string])[]): string {
  checkEntries(entries);
  if (entries.length === 0) return "{}\n";
  return "{\n" + entries.map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(",\n") + "\n}\n";
}

/**
 * Parse a JSON object of string values.
 * @throws EnvParseError (line 1) for non-objects, non-string values or invalid keys
 */
export function parseJson(text: string): [string, string][] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // V8's "Unexpected token 'x', \"…text…\" is not valid JSON" quotes the input: keep only the kind and position
    const m = (e as Error).message;
    const pos = / at position \d+/.exec(m)?.[0] ?? "";
    throw new EnvParseError(
      `invalid JSON: ${/Unexpected token|is not valid JSON/.test(m) ? "unexpected character" + pos : m.replace(/"[^"]*"/g, "…")}`,
      1,
    );
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new EnvParseError("JSON env file must be an object", 1);
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(doc)) {
    if (!KEY_RE.test(k)) throw new EnvParseError(`invalid key ${JSON.stringify(k.slice(0, 64))}`, 1);
    if (typeof v !== "string") throw new EnvParseError(`value of ${k} is not a string`, 1);
    out.push([k, v]);
  }
  return out;
}
