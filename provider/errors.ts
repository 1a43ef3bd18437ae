/**
 * Base of every error keyfleet raises on purpose.
 *
 * Messages are lowercase with no trailing period and name the file, key path or argument. `hint`
 * says how to fix it. Neither ever contains a secret value or private key material: a public
 * recipient may be quoted, an identity never.
 */
export class KeyfleetError extends Error {
  /** Stable machine-readable code, e.g. `KEY_PARSE`, `MAC_MISMATCH`. */
  readonly code: string;
  /** How to fix it, one sentence. */
  readonly hint: string | undefined;
  /** The file (or host:path) the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(code: string, message: string, opts: { hint?: string; file?: string; cause?: unknown } = {}) {
    super(opts.hint ? `${message}; ${opts.hint}` : message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.file = opts.file;
  }
}

/** True when `e` is a KeyfleetError (also across module copies, by duck typing on `code`). */
export function isKeyfleetError(e: unknown): e is KeyfleetError {
  return e instanceof KeyfleetError || (e instanceof Error && typeof (e as { code?: unknown }).code === "string" && "hint" in e);
}
