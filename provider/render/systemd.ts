/**
 * The `systemd` format: a file for `EnvironmentFile=` (systemd.exec(5); parsed by systemd's
 * env-file reader).
 *
 * - `KEY='value'` when the value has neither `'` nor `\`: single quotes are literal and may span
 *   lines. (systemd before v2xx treated `\` inside single quotes as an escape, newer ones do not,
 *   so values with a backslash use double quotes.)
 * - otherwise `KEY="value"` with `"`, `\`, `` ` `` and `$` escaped by a backslash, the four
 *   characters systemd unescapes inside double quotes; newlines and every other character are
 *   written as they are. Quoting also keeps leading and trailing whitespace, which systemd strips
 *   from unquoted values.
 * Every string without NUL and with well-formed Unicode can be written.
 */
import { EnvParseError } from "./errors";
import { KEY_RE, checkEntries, keyLabel } from "./keys";

/** Quote one value for EnvironmentFile. */
export function quoteSystemd(v: string): string {
  if (!v.includes("'") && !v.includes("\\")) return `'${v}'`;
  return `"${v.replace(/["\\`$]/g, (c) => "\\" + c)}"`;
}

/** Render entries as an EnvironmentFile (trailing newline; empty string for no entries). */
export function renderSystemd(entries: readonly (readonly [string, string])[]): string {
  checkEntries(entries);
  return entries.map(([k, v]) => `${k}=${quoteSystemd(v)}\n`).join("");
}

const WS = " \t\n\r";
const NL = "\n\r";
const NEED_ESCAPE = "\"\\`$";

type State = "preKey" | "key" | "preValue" | "value" | "valueEscape" | "single" | "double" | "doubleEscape" | "comment" | "commentEscape";

/**
 * Parse an EnvironmentFile by systemd's rules (systemd.exec(5), env-file state machine): blank
 * lines and lines starting with `#` or `;` are comments; `KEY=VALUE` with whitespace around the key
 * and before the value ignored; unquoted values have trailing whitespace removed, `\x` becomes `x`
 * and backslash-newline continues the line; single quotes are literal; double quotes unescape
 * `\" \\ \` \$`, keep other backslashes, and drop backslash-newline; quoted and unquoted parts
 * concatenate. Lines systemd would ignore with a warning (no `=`, invalid key) and unterminated
 * quotes are refused here, as is `\` inside single quotes (read differently by older systemd).
 * @throws EnvParseError with the line number
 */
export function parseSystemd(text: string): [string, string][] {
  const out = new Map<string, string>();
  let state: State = "preKey";
  let key = "";
  let value = "";
  let lastValueWs = -1; // index in value where trailing whitespace starts, -1 = none
  let line = 1;
  let startLine = 1;
  const push = () => {
    const k = key.replace(/[ \t\n\r]+$/, "");
    if (!KEY_RE.test(k)) throw new EnvParseError("invalid key before \"=\" (names match [A-Za-z_][A-Za-z0-9_]*)", startLine);
    out.set(k, value);
    key = ""; value = ""; lastValueWs = -1;
  };
  for (const c of text) {
    switch (state) {
      case "preKey":
        if (c === "#" || c === ";") state = "comment";
        else if (!WS.includes(c)) { state = "key"; key = c; startLine = line; }
        break;
      case "key":
        if (NL.includes(c)) throw new EnvParseError(`key ${keyLabel(key.trim())} has no "="`, line);
        else if (c === "=") state = "preValue";
        else key += c;
        break;
      case "preValue":
        if (NL.includes(c)) { push(); state = "preKey"; }
        else if (c === "'") state = "single";
        else if (c === '"') state = "double";
        else if (c === "\\") state = "valueEscape";
        else if (!WS.includes(c)) { state = "value"; value += c; }
        break;
      case "value":
        if (NL.includes(c)) {
          if (lastValueWs >= 0) value = value.slice(0, lastValueWs);
          push(); state = "preKey";
        } else if (c === "\\") { state = "valueEscape"; lastValueWs = -1; }
        else {
          if (!WS.includes(c)) lastValueWs = -1;
          else if (lastValueWs < 0) lastValueWs = value.length;
          value += c;
        }
        break;
      case "valueEscape":
        state = "value";
        if (!NL.includes(c)) value += c;
        break;
      case "single":
        if (c === "'") state = "preValue";
        else if (c === "\\") throw new EnvParseError(`value of ${keyLabel(key.trim())}: backslash inside single quotes is read differently by systemd versions`, line);
        else value += c;
        break;
      case "double":
        if (c === '"') state = "preValue";
        else if (c === "\\") state = "doubleEscape";
        else value += c;
        break;
      case "doubleEscape":
        state = "double";
        if (NEED_ESCAPE.includes(c)) value += c;
        else if (c !== "\n") value += "\\" + c;
        break;
      case "comment":
        if (c === "\\") state = "commentEscape";
        else if (NL.includes(c)) state = "preKey";
        break;
      case "commentEscape":
        state = "comment";
        break;
    }
    if (c === "\n") line++;
  }
  if (state === "single" || state === "double" || state === "doubleEscape") throw new EnvParseError(`value of ${keyLabel(key.trim())}: unterminated quoted value`, startLine);
  if (state === "key") throw new EnvParseError(`key ${keyLabel(key.trim())} has no "="`, line);
  if (state === "value" || state === "valueEscape" || state === "preValue") {
    if (state === "value" && lastValueWs >= 0) value = value.slice(0, lastValueWs);
    push();
  }
  return [...out.entries()];
}
