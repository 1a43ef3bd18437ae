/**
 * The `dotenv` format: one file read identically by docker compose `env_file` and by bash
 * (`set -a; source FILE`).
 *
 * Quoting is chosen from the constructs both readers agree on (compose-go's dotenv parser, in its
 * older and newer versions, and bash):
 * - `KEY='value'` when the value has no `'`, does not end with `\` and has no CR: single quotes are
 *   literal in bash and in compose (no escapes, no interpolation, newlines allowed).
 * - `KEY="value"` when the value has a `'` but none of `" \ $ \``, and no CR: no escape or
 *   expansion is triggered in either reader.
 * - anything else (a `'` together with `" \ $ \``, a trailing `\` or a CR) has no spelling both read
 *   the same, so it is refused with a RenderError naming the key.
 * Keys that bash treats specially (RANDOM, UID, …) are refused too.
 */
import { EnvParseError, RenderError } from "./errors";
import { BASH_SPECIAL, KEY_RE, checkEntries, keyLabel } from "./keys";

/** Render one value, or throw RenderError saying why it cannot be written identically. */
export function quoteDotenv(key: string, v: string): string {
  if (v.includes("\r")) {
    throw new RenderError(`value of ${key} contains a carriage return, which docker compose reads as a line break`, { key, hint: "use format systemd or json for this value" });
  }
  if (!v.includes("'")) {
    if (v.endsWith("\\")) {
      throw new RenderError(`value of ${key} ends with a backslash, which docker compose reads as an escaped closing quote`, { key, hint: "use format systemd or json for this value" });
    }
    return `'${v}'`;
  }
  const bad = /["\\$`]/.exec(v);
  if (bad) {
    throw new RenderError(`value of ${key} contains a single quote and ${JSON.stringify(bad[0])}, which docker compose env_file and bash source cannot both read back identically`, {
      key, hint: "use format systemd or json for this value, or store it base64-encoded",
    });
  }
  return `"${v}"`;
}

/** Render entries as a dotenv file (trailing newline; empty string for no entries). */
export function renderDotenv(entries: readonly (readonly [string, string])[]): string {
  checkEntries(entries);
  let out = "";
  for (const [k, v] of entries) {
    if (BASH_SPECIAL.has(k)) {
      throw new RenderError(`env key ${k} is special to bash, so \`source\` would not read it back as written`, { key: k, hint: "rename it (sources[].rename or prefix)" });
    }
    out += `${k}=${quoteDotenv(k, v)}\n`;
  }
  return out;
}

const isHSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\v" || c === "\f" || c === "\r" || c === "\u0085" || c === "\u00a0";

/**
 * Parse a dotenv file by docker compose's `env_file` rules (compose-go dotenv): `#` comment lines,
 * optional `export `, `KEY=value`, single quotes literal (multi-line), double quotes with
 * `\n \r \t \\ \"` escapes (multi-line), unquoted values up to the end of the line, right-trimmed.
 * Constructs whose meaning differs between compose versions or needs variable lookup (`$` outside
 * single quotes, `#` in unquoted values, `\'` in single quotes, `KEY` with no `=`) are refused.
 * Duplicate keys: last one wins, in the position of the first.
 * @throws EnvParseError with the line number
 */
export function parseDotenv(text: string): [string, string][] {
  const src = text.replace(/\r\n/g, "\n");
  const out = new Map<string, string>();
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === "\n") { line++; i++; continue; }
    if (isHSpace(c) || /\s/.test(c)) { i++; continue; }
    if (c === "#") { while (i < n && src[i] !== "\n") i++; continue; }
    const startLine = line;
    if (src.startsWith("export", i) && isHSpace(src[i + 6])) { i += 6; while (isHSpace(src[i])) i++; }
    let k = "";
    while (i < n && src[i] !== "=" && src[i] !== ":" && src[i] !== "\n") k += src[i++];
    k = k.replace(/[\s]+$/, "");
    if (i >= n || src[i] === "\n") throw new EnvParseError(`key ${keyLabel(k)} has no "=" (inherited variables are not supported)`, startLine);
    if (!KEY_RE.test(k)) throw new EnvParseError("invalid key before \"=\" (names match [A-Za-z_][A-Za-z0-9_]*)", startLine);
    i++; // "=" or ":"
    while (isHSpace(src[i])) i++;
    const q = src[i];
    let v = "";
    if (q === "'" || q === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const ch = src[i]!;
        if (ch === "\n") line++;
        if (ch === "\\") {
          const nx = src[i + 1];
          if (q === "'") {
            if (nx === "'") throw new EnvParseError(`value of ${k}: \\' inside single quotes is read differently by docker compose versions`, line);
            v += ch; i++; continue;
          }
          const esc: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"' };
          if (nx === undefined || !(nx in esc)) throw new EnvParseError(`value of ${k}: unsupported escape in double quotes`, line);
          v += esc[nx]; i += 2; continue;
        }
        if (ch === q) { closed = true; i++; break; }
        if (q === '"' && ch === "$") throw new EnvParseError(`value of ${k}: "$" in double quotes is interpolated by docker compose (not supported by this reader)`, line);
        v += ch; i++;
      }
      if (!closed) throw new EnvParseError(`value of ${k}: unterminated quoted value`, startLine);
      while (isHSpace(src[i])) i++;
      if (src[i] === "#") while (i < n && src[i] !== "\n") i++;
      if (i < n && src[i] !== "\n") throw new EnvParseError(`value of ${k}: unexpected text after the closing quote`, line);
    } else {
      while (i < n && src[i] !== "\n") v += src[i++];
      if (v.includes("#")) throw new EnvParseError(`value of ${k}: "#" in an unquoted value is read differently by docker compose versions`, line);
      if (v.includes("$")) throw new EnvParseError(`value of ${k}: "$" in an unquoted value is interpolated by docker compose (not supported by this reader)`, line);
      v = v.replace(/\s+$/u, "");
    }
    out.set(k, v);
  }
  return [...out.entries()];
}
