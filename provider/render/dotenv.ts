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
    throw new RenderError(`value of ${key} contains a carriage return, which docker compose reads as a line break`, {
      key,
      hint: "use format systemd or json for this value",
    });
  }
  if (!v.includes("'")) {
    if (v.endsWith("\\")) {
      throw new RenderError(
        `value of ${key} ends with a backslash, which docker compose reads as an escaped closing quote`,
        { key, hint: "use format systemd or json for this value" },
      );
    }
    return `'${v}'`;
  }
  const bad = /["\\$`]/.exec(v);
  if (bad) {
    throw new RenderError(
      `value of ${key} contains a single quote and ${JSON.stringify(bad[0])}, which docker compose env_file and bash source cannot both read back identically`,
      {
        key,
        hint: "use format systemd or json for this value, or store it base64-encoded",
      },
    );
  }
  return `"${v}"`;
}

/** Render entries as a dotenv file (trailing newline; empty string for no entries). */
export function renderDotenv(entries: readonly (readonly [string, string])[]): string {
  checkEntries(entries);
  let out = "";
  for (const [k, v] of entries) {
    if (BASH_SPECIAL.has(k)) {
      throw new RenderError(`env key ${k} is special to bash, so \`source\` would not read it back as written`, {
        key: k,
        hint: "rename it (sources[].rename or prefix)",
      });
    }
    out += `${k}=${quoteDotenv(k, v)}\n`;
  }
  return out;
}

const isHSpace = (c: string | undefined) =>
  c === " " || c === "\t" || c === "\v" || c === "\f" || c === "\r" || c === "\u0085" || c === "\u00a0";

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
  const cur: Cursor = { src: text.replace(/\r\n/g, "\n"), i: 0, line: 1 };
  const out = new Map<string, string>();
  while (skipBlank(cur)) {
    const startLine = cur.line;
    const k = readDotenvKey(cur, startLine);
    const q = cur.src[cur.i];
    const v = q === "'" || q === '"' ? readQuoted(cur, k, q, startLine) : readUnquoted(cur, k);
    out.set(k, v);
  }
  return [...out.entries()];
}

/** Where the dotenv reader stands: the text (LF line ends), the index and the 1-based line. */
interface Cursor {
  readonly src: string;
  i: number;
  line: number;
}

/** Skips blank lines, whitespace and comment lines; false at the end of the text. */
function skipBlank(cur: Cursor): boolean {
  const { src } = cur;
  while (cur.i < src.length) {
    const c = src[cur.i]!;
    if (c === "\n") {
      cur.line++;
      cur.i++;
    } else if (isHSpace(c) || /\s/.test(c)) cur.i++;
    else if (c === "#") skipToEol(cur);
    else return true;
  }
  return false;
}

/** Moves to the next newline (or the end). */
function skipToEol(cur: Cursor): void {
  while (cur.i < cur.src.length && cur.src[cur.i] !== "\n") cur.i++;
}

/** Reads `[export ]KEY=` (or `KEY:`) and the blanks after it; returns the key. */
function readDotenvKey(cur: Cursor, startLine: number): string {
  const { src } = cur;
  if (src.startsWith("export", cur.i) && isHSpace(src[cur.i + 6])) {
    cur.i += 6;
    while (isHSpace(src[cur.i])) cur.i++;
  }
  let k = "";
  while (cur.i < src.length && src[cur.i] !== "=" && src[cur.i] !== ":" && src[cur.i] !== "\n") k += src[cur.i++];
  k = k.replace(/[\s]+$/, "");
  if (cur.i >= src.length || src[cur.i] === "\n") {
    throw new EnvParseError(`key ${keyLabel(k)} has no "=" (inherited variables are not supported)`, startLine);
  }
  if (!KEY_RE.test(k))
    throw new EnvParseError('invalid key before "=" (names match [A-Za-z_][A-Za-z0-9_]*)', startLine);
  cur.i++; // "=" or ":"
  while (isHSpace(src[cur.i])) cur.i++;
  return k;
}

const DOUBLE_QUOTE_ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"' };

/** Reads a quoted value starting at its opening quote `q`, then the rest of its line. */
function readQuoted(cur: Cursor, k: string, q: string, startLine: number): string {
  const { src } = cur;
  const n = src.length;
  cur.i++;
  let v = "";
  let closed = false;
  while (cur.i < n) {
    const ch = src[cur.i]!;
    if (ch === "\n") cur.line++;
    if (ch === "\\") {
      v += readBackslash(cur, k, q);
      continue;
    }
    if (ch === q) {
      closed = true;
      cur.i++;
      break;
    }
    if (q === '"' && ch === "$") {
      throw new EnvParseError(
        `value of ${k}: "$" in double quotes is interpolated by docker compose (not supported by this reader)`,
        cur.line,
      );
    }
    v += ch;
    cur.i++;
  }
  if (!closed) throw new EnvParseError(`value of ${k}: unterminated quoted value`, startLine);
  while (isHSpace(src[cur.i])) cur.i++;
  if (src[cur.i] === "#") skipToEol(cur);
  if (cur.i < n && src[cur.i] !== "\n")
    throw new EnvParseError(`value of ${k}: unexpected text after the closing quote`, cur.line);
  return v;
}

/** Reads a backslash inside quotes `q`; returns the text it stands for. */
function readBackslash(cur: Cursor, k: string, q: string): string {
  const nx = cur.src[cur.i + 1];
  if (q === "'") {
    if (nx === "'") {
      throw new EnvParseError(
        `value of ${k}: \\' inside single quotes is read differently by docker compose versions`,
        cur.line,
      );
    }
    cur.i++;
    return "\\";
  }
  const esc = nx === undefined ? undefined : DOUBLE_QUOTE_ESCAPES[nx];
  if (esc === undefined || !Object.hasOwn(DOUBLE_QUOTE_ESCAPES, nx!)) {
    throw new EnvParseError(`value of ${k}: unsupported escape in double quotes`, cur.line);
  }
  cur.i += 2;
  return esc;
}

/** Reads an unquoted value to the end of its line. */
function readUnquoted(cur: Cursor, k: string): string {
  const { src } = cur;
  let v = "";
  while (cur.i < src.length && src[cur.i] !== "\n") v += src[cur.i++];
  if (v.includes("#")) {
    throw new EnvParseError(
      `value of ${k}: "#" in an unquoted value is read differently by docker compose versions`,
      cur.line,
    );
  }
  if (v.includes("$")) {
    throw new EnvParseError(
      `value of ${k}: "$" in an unquoted value is interpolated by docker compose (not supported by this reader)`,
      cur.line,
    );
  }
  return v.replace(/\s+$/u, "");
}
