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
const NEED_ESCAPE = '"\\`$';

type State =
  | "preKey"
  | "key"
  | "preValue"
  | "value"
  | "valueEscape"
  | "single"
  | "double"
  | "doubleEscape"
  | "comment"
  | "commentEscape";

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
  const p = new SystemdEnvParser();
  for (const c of text) {
    p.step(c);
    if (c === "\n") p.line++;
  }
  return p.finish();
}

/** systemd's env-file state machine; one `step` per character. */
class SystemdEnvParser {
  private readonly out = new Map<string, string>();
  private state: State = "preKey";
  private key = "";
  private value = "";
  /** Index in `value` where trailing whitespace starts, -1 for none. */
  private lastValueWs = -1;
  private startLine = 1;
  /** The 1-based line of the character being read. */
  line = 1;

  /** Reads one character. */
  step(c: string): void {
    switch (this.state) {
      case "preKey":
        return this.preKey(c);
      case "key":
        return this.inKey(c);
      case "preValue":
        return this.preValue(c);
      case "value":
        return this.inValue(c);
      case "valueEscape":
        this.state = "value";
        if (!NL.includes(c)) this.value += c;
        return;
      case "single":
        return this.inSingle(c);
      case "double":
        if (c === '"') this.state = "preValue";
        else if (c === "\\") this.state = "doubleEscape";
        else this.value += c;
        return;
      case "doubleEscape":
        this.state = "double";
        if (NEED_ESCAPE.includes(c)) this.value += c;
        else if (c !== "\n") this.value += "\\" + c;
        return;
      case "comment":
        if (c === "\\") this.state = "commentEscape";
        else if (NL.includes(c)) this.state = "preKey";
        return;
      case "commentEscape":
        this.state = "comment";
        return;
    }
  }

  /** Ends the text: the last entry, or the error for an unfinished one. */
  finish(): [string, string][] {
    const { state } = this;
    if (state === "single" || state === "double" || state === "doubleEscape") {
      throw new EnvParseError(`value of ${keyLabel(this.key.trim())}: unterminated quoted value`, this.startLine);
    }
    if (state === "key") throw new EnvParseError(`key ${keyLabel(this.key.trim())} has no "="`, this.line);
    if (state === "value") this.trimValue();
    if (state === "value" || state === "valueEscape" || state === "preValue") this.push();
    return [...this.out.entries()];
  }

  private preKey(c: string): void {
    if (c === "#" || c === ";") this.state = "comment";
    else if (!WS.includes(c)) {
      this.state = "key";
      this.key = c;
      this.startLine = this.line;
    }
  }

  private inKey(c: string): void {
    if (NL.includes(c)) throw new EnvParseError(`key ${keyLabel(this.key.trim())} has no "="`, this.line);
    if (c === "=") this.state = "preValue";
    else this.key += c;
  }

  private preValue(c: string): void {
    if (NL.includes(c)) {
      this.push();
      this.state = "preKey";
    } else if (c === "'") this.state = "single";
    else if (c === '"') this.state = "double";
    else if (c === "\\") this.state = "valueEscape";
    else if (!WS.includes(c)) {
      this.state = "value";
      this.value += c;
    }
  }

  private inValue(c: string): void {
    if (NL.includes(c)) {
      this.trimValue();
      this.push();
      this.state = "preKey";
    } else if (c === "\\") {
      this.state = "valueEscape";
      this.lastValueWs = -1;
    } else {
      if (!WS.includes(c)) this.lastValueWs = -1;
      else if (this.lastValueWs < 0) this.lastValueWs = this.value.length;
      this.value += c;
    }
  }

  private inSingle(c: string): void {
    if (c === "'") this.state = "preValue";
    else if (c === "\\") {
      throw new EnvParseError(
        `value of ${keyLabel(this.key.trim())}: backslash inside single quotes is read differently by systemd versions`,
        this.line,
      );
    } else this.value += c;
  }

  /** Drops the unquoted trailing whitespace systemd strips. */
  private trimValue(): void {
    if (this.lastValueWs >= 0) this.value = this.value.slice(0, this.lastValueWs);
  }

  private push(): void {
    const k = this.key.replace(/[ \t\n\r]+$/, "");
    if (!KEY_RE.test(k)) {
      throw new EnvParseError('invalid key before "=" (names match [A-Za-z_][A-Za-z0-9_]*)', this.startLine);
    }
    this.out.set(k, this.value);
    this.key = "";
    this.value = "";
    this.lastValueWs = -1;
  }
}
