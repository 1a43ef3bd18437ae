/**
 * Typed errors of the age key layer. Messages name the input (file, line, env var) and never contain
 * key material: a public recipient may be quoted, an identity never.
 */
import { KeyfleetError, type ErrorCode } from "../errors";

/** A key, recipient or key file could not be parsed. `where` names the source ("keys.txt line 3"). */
export class KeyParseError extends KeyfleetError {
  /** What was being parsed, e.g. `SOPS_AGE_KEY_FILE=/x/keys.txt line 3`; never key material. */
  readonly where: string | undefined;
  constructor(
    message: string,
    opts: { where?: string; hint?: string; file?: string; cause?: unknown; code?: ErrorCode } = {},
  ) {
    super(opts.code ?? "KEY_PARSE", opts.where ? `${opts.where}: ${message}` : message, opts);
    this.where = opts.where;
  }
}

/** An OpenSSH private key is passphrase-protected; keyfleet cannot decrypt it (no bcrypt-pbkdf). */
export class EncryptedKeyError extends KeyParseError {
  constructor(where: string | undefined) {
    super("the openssh private key is passphrase-protected, which keyfleet does not support", {
      ...(where === undefined ? {} : { where }),
      code: "KEY_ENCRYPTED",
      hint: "remove the passphrase from a copy (ssh-keygen -p -N '' -f COPY) and use that, or use an age identity",
    });
  }
}

/** A key of a type we cannot use here, e.g. ssh-rsa where ssh-ed25519 is needed. */
export class UnsupportedKeyError extends KeyParseError {
  /** The key type found, e.g. `ssh-rsa`. */
  readonly keyType: string;
  constructor(keyType: string, where?: string) {
    super(`got ${keyType} key type but only ssh-ed25519 keys are supported`, {
      ...(where === undefined ? {} : { where }),
      code: "KEY_UNSUPPORTED",
      hint: "use an ssh-ed25519 key or an age1 recipient",
    });
    this.keyType = keyType;
  }
}

/** An age file (or armor) is malformed, or a stanza meant for one of our identities is invalid. */
export class AgeFormatError extends KeyfleetError {
  constructor(message: string, opts: { hint?: string; file?: string; cause?: unknown } = {}) {
    super("AGE_FORMAT", message, opts);
  }
}

/**
 * None of the available identities can decrypt a file. Names the file, its recipients (public) and
 * the discovery report, and says how to provide a key.
 */
export class NoIdentityError extends KeyfleetError {
  /** The file's recipients (public keys, quoted as stored). */
  readonly recipients: readonly string[];
  /** The identity sources tried (from `discoverIdentities`), without key material. */
  readonly report: readonly string[];
  constructor(file: string, recipients: readonly string[], report: readonly string[] = [], cause?: unknown) {
    const rs = recipients.length ? recipients.join(", ") : "(none listed)";
    const tried = report.length ? `; sources tried: ${report.join("; ")}` : "";
    super("NO_IDENTITY", `none of your identities can decrypt ${file}; its recipients are ${rs}${tried}`, {
      file,
      hint: "set SOPS_AGE_KEY_FILE to a keys.txt holding one of those identities (or SOPS_AGE_KEY, SOPS_AGE_SSH_PRIVATE_KEY_FILE)",
      ...(cause === undefined ? {} : { cause }),
    });
    this.recipients = recipients;
    this.report = report;
  }
}
