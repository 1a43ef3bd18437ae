/** Typed errors of env rendering and parsing. They name keys and line numbers, never values. */
import { KeyfleetError } from "../errors";

/** A key or value cannot be written in the requested format without reading back differently. */
export class RenderError extends KeyfleetError {
  /** The offending key (a name, never a value). */
  readonly key: string | undefined;
  constructor(message: string, opts: { key?: string; hint?: string } = {}) {
    super("RENDER", message, { hint: opts.hint });
    this.key = opts.key;
  }
}

/** An env file could not be parsed (line numbers are 1-based). */
export class EnvParseError extends KeyfleetError {
  /** 1-based line of the problem. */
  readonly line: number;
  constructor(message: string, line: number, hint?: string) {
    super("ENV_PARSE", `line ${line}: ${message}`, { hint });
    this.line = line;
  }
}
