import { KeyfleetError } from "../errors.js";

/** A sops file (or .sops.yaml) could not be parsed; `line` is 1-based when known. */
export class SopsParseError extends KeyfleetError {
  /** 1-based line of the problem, when known. */
  readonly line: number | undefined;
  constructor(message: string, opts: { file?: string; line?: number; hint?: string; cause?: unknown } = {}) {
    const where = opts.file
      ? `${opts.file}${opts.line ? `:${opts.line}` : ""}: `
      : opts.line
        ? `line ${opts.line}: `
        : "";
    super("SOPS_PARSE", `${where}${message}`, {
      hint: opts.hint ?? "check that the file is a valid sops file in the expected format",
      file: opts.file,
      cause: opts.cause,
    });
    this.line = opts.line;
  }
}

/** The MAC stored in the file does not match the values: the file was modified without the data key. */
export class MacMismatchError extends KeyfleetError {
  constructor(file: string | undefined, detail: string) {
    super("MAC_MISMATCH", `${file ?? "sops file"}: mac mismatch (${detail})`, {
      hint: "the file was edited without sops/keyfleet or is corrupt; restore it from git or re-encrypt it",
      file,
    });
  }
}

/** None of the given identities can unwrap the file's data key. */
export class NoIdentityError extends KeyfleetError {
  /** Public recipients of the file (safe to show). */
  readonly recipients: string[];
  /** Entries that could not be read at all (malformed or tampered), as "age[i] (label): why". */
  readonly badEntries: string[];
  constructor(file: string | undefined, recipients: string[], report: string[] = [], badEntries: string[] = []) {
    const who = recipients.length
      ? recipients.slice(0, 50).join(", ") + (recipients.length > 50 ? `, … (${recipients.length} in all)` : "")
      : "none (no age entries)";
    const tried = report.length ? `; identities tried: ${report.join(", ")}` : "";
    const bad = badEntries.length ? `; unreadable age entries: ${badEntries.join("; ")}` : "";
    super(
      "NO_IDENTITY",
      `none of your identities can decrypt ${file ?? "the sops file"}; its recipients are ${who}${tried}${bad}`,
      {
        hint: "set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY / SOPS_AGE_SSH_PRIVATE_KEY_FILE) to a key of one of these recipients",
        file,
      },
    );
    this.recipients = recipients;
    this.badEntries = badEntries;
  }
}

/** A valid sops feature keyfleet does not implement (e.g. Shamir key groups). */
export class UnsupportedError extends KeyfleetError {
  constructor(message: string, opts: { file?: string; hint?: string } = {}) {
    super("SOPS_UNSUPPORTED", message, { hint: opts.hint ?? "use the sops binary for this file", file: opts.file });
  }
}

/** A value could not be encrypted or decrypted (bad ENC string, wrong key, tampered ciphertext). */
export class SopsCryptoError extends KeyfleetError {
  constructor(message: string, opts: { file?: string; cause?: unknown } = {}) {
    super("SOPS_CRYPTO", message, {
      hint: "the file is corrupt or was tampered with; restore it from git",
      file: opts.file,
      cause: opts.cause,
    });
  }
}

/** Bad argument to a sops operation (path not found, bad rule, bad regex). */
export class SopsArgumentError extends KeyfleetError {
  constructor(message: string, hint: string, file?: string) {
    super("SOPS_ARGUMENT", message, { hint, file });
  }
}
