/**
 * Base of every error keyfleet raises on purpose, and the one table of error codes.
 *
 * Messages are lowercase with no trailing period and name the file, key path or argument. `hint`
 * says how to fix it. Neither ever contains a secret value or private key material: a public
 * recipient may be quoted, an identity never.
 */

/**
 * Exit statuses of the `keyfleet` sops verbs: the same numbers as sops (`cmd/sops/codes/codes.go`
 * in getsops/sops) where sops has one.
 */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** Any other keyfleet error (sops ErrorGeneric). */
  GENERIC: 1,
  /** Bad command line (printed with the verb's usage). */
  USAGE: 2,
  /** Input file missing, unreadable or not a sops file (sops CouldNotReadInputFile). */
  READ_INPUT: 2,
  /** Output could not be written (sops CouldNotWriteOutputFile). */
  WRITE_OUTPUT: 3,
  /** `.sops.yaml` is invalid (sops ErrorReadingConfig). */
  CONFIG: 5,
  /** A value could not be decrypted: tampered or corrupt ciphertext (sops ErrorDecryptingTree). */
  DECRYPT_TREE: 25,
  /** The MAC does not match the values (sops MacMismatch). */
  MAC_MISMATCH: 51,
  /** No `.sops.yaml` or no rule for the file (sops ConfigFileNotFound). */
  NO_CONFIG: 61,
  /** Interrupted at a prompt (sops KeyboardInterrupt). */
  INTERRUPTED: 85,
  /** Bad `--extract` / key path (sops InvalidTreePathFormat). */
  BAD_KEY_PATH: 91,
  /** No recipients to encrypt to (sops NoEncryptionKeyFound). */
  NO_RECIPIENTS: 111,
  /** None of the identities can unwrap the data key, or no identity could be loaded (sops CouldNotRetrieveKey). */
  NO_IDENTITY: 128,
  /** The input is already a sops file (sops FileAlreadyEncrypted). */
  ALREADY_ENCRYPTED: 203,
  /** edit: given up after a parse error, nothing written (sops FileHasNotBeenModified). */
  FILE_NOT_MODIFIED: 200,
  /** edit: the editor could not run, failed or exited non-zero (sops NoEditorFound). */
  EDITOR: 201,
  /** exec-env: the kernel refused to start CMD, its environment is too large (E2BIG; 126 as a shell). */
  ENV_TOO_LARGE: 126,
  /** `set` got an empty value without --allow-empty (keyfleet only). */
  EMPTY_VALUE: 10,
  /** Another writer held the file's lock for the whole wait (keyfleet only). */
  LOCKED: 11,
  /** The file changed between read and write (compare-and-swap failed; nothing written; keyfleet only). */
  FILE_CHANGED: 12,
} as const;

/** One of the {@link EXIT} statuses. */
export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/**
 * Every error code keyfleet raises, each with the exit status a sops verb of the CLI returns for it.
 * A code missing here does not compile where it is thrown; an entry without `exit` does not compile.
 */
export const ERROR_CODES = {
  // command line and arguments
  /** Bad command line: unknown flag, missing argument. */
  USAGE: { exit: EXIT.USAGE },
  /** Arguments that parse but do not fit together. */
  BAD_ARGUMENTS: { exit: EXIT.GENERIC },
  /** A value that cannot be stored (not valid json, a NUL byte, a line break a format cannot hold, a key collision). */
  BAD_VALUE: { exit: EXIT.GENERIC },
  /** A value over the size limit. */
  VALUE_TOO_LARGE: { exit: EXIT.GENERIC },
  /** A value that is not valid utf-8 where text is needed. */
  VALUE_ENCODING: { exit: EXIT.GENERIC },
  /** A key path that names no value in the file. */
  KEY_NOT_FOUND: { exit: EXIT.GENERIC },
  /** Bad `--extract` / key path syntax. */
  BAD_KEY_PATH: { exit: EXIT.BAD_KEY_PATH },
  /** A prompt would be needed but standard input is not a terminal. */
  CONFIRM_NEEDED: { exit: EXIT.GENERIC },
  /** Interrupted at a prompt. */
  INTERRUPTED: { exit: EXIT.INTERRUPTED },
  /** The command of exec-env could not be started. */
  EXEC_FAILED: { exit: EXIT.GENERIC },
  // local files
  /** An input file (or directory) is missing, unreadable or too large. */
  IO_READ: { exit: EXIT.READ_INPUT },
  /** A local file could not be written (nothing half-written). */
  WRITE_FAILED: { exit: EXIT.WRITE_OUTPUT },
  /** Bad argument to the local file layer (a path listed twice, a bad concurrency). */
  FS_ARGUMENT: { exit: EXIT.GENERIC },
  // recipients and identities
  /** A recipient, identity or key file does not parse. */
  KEY_PARSE: { exit: EXIT.GENERIC },
  /** A passphrase-protected OpenSSH private key. */
  KEY_ENCRYPTED: { exit: EXIT.GENERIC },
  /** A key type keyfleet cannot use (ssh-rsa, post-quantum, plugin). */
  KEY_UNSUPPORTED: { exit: EXIT.GENERIC },
  /** A malformed age file, or a stanza meant for one of our identities that is invalid. */
  AGE_FORMAT: { exit: EXIT.GENERIC },
  /** A configured identity source (key file, SOPS_AGE_KEY_CMD) is unusable. */
  KEY_DISCOVERY: { exit: EXIT.NO_IDENTITY },
  /** None of the identities can unwrap the file's data key. */
  NO_IDENTITY: { exit: EXIT.NO_IDENTITY },
  /** Nobody left to encrypt to. */
  NO_RECIPIENTS: { exit: EXIT.NO_RECIPIENTS },
  /** `--rm-age` names a key that is not a recipient of the file. */
  NOT_A_RECIPIENT: { exit: EXIT.GENERIC },
  // the sops format
  /** A sops file (or `.sops.yaml`) does not parse. */
  SOPS_PARSE: { exit: EXIT.READ_INPUT },
  /** A value cannot be decrypted: tampered or corrupt ciphertext. */
  SOPS_CRYPTO: { exit: EXIT.DECRYPT_TREE },
  /** The MAC does not match the values. */
  MAC_MISMATCH: { exit: EXIT.MAC_MISMATCH },
  /** A valid sops feature keyfleet does not implement (Shamir key groups). */
  SOPS_UNSUPPORTED: { exit: EXIT.GENERIC },
  /** Bad argument to a sops operation. */
  SOPS_ARGUMENT: { exit: EXIT.GENERIC },
  /** The input is already a sops file. */
  ALREADY_ENCRYPTED: { exit: EXIT.ALREADY_ENCRYPTED },
  /** `.sops.yaml` is invalid. */
  CONFIG: { exit: EXIT.CONFIG },
  /** No `.sops.yaml`, or no creation rule for the file. */
  NO_CONFIG: { exit: EXIT.NO_CONFIG },
  // hosts
  /** A pinned host key does not parse. */
  HOST_KEY_PARSE: { exit: EXIT.GENERIC },
  /** The host presented another key than the pinned one. */
  HOST_KEY_MISMATCH: { exit: EXIT.GENERIC },
  /** The host key could not be scanned. */
  HOST_SCAN: { exit: EXIT.GENERIC },
  /** Connecting, authenticating or a remote step failed. */
  SSH: { exit: EXIT.GENERIC },
  // env files
  /** Entries cannot be rendered as an env file. */
  RENDER: { exit: EXIT.GENERIC },
  /** An env file does not parse. */
  ENV_PARSE: { exit: EXIT.GENERIC },
  /** A HostEnv source: unreadable, missing key, bad env name, name set twice. */
  HOSTENV_SOURCE: { exit: EXIT.GENERIC },
  /** A HostEnv restart command failed. */
  HOSTENV_RESTART: { exit: EXIT.GENERIC },
  /** A HostEnv write did not read back as written. */
  HOSTENV_VERIFY: { exit: EXIT.GENERIC },
  /** A HostEnv input refused by every CRUD method (unsafe mode, a path with NUL/CR/LF or over 4096 bytes). */
  HOSTENV_INPUT: { exit: EXIT.GENERIC },
  // fleets
  /** A Fleet plan is invalid (names, files, env paths). */
  FLEET_PLAN: { exit: EXIT.GENERIC },
  /** edit: no editor could be run, or $EDITOR does not split into words. */
  EDITOR: { exit: EXIT.EDITOR },
  /** edit: the editor could not run, crashed or exited non-zero. */
  EDITOR_FAILED: { exit: EXIT.EDITOR },
  /** Another writer holds the file's lock past the wait, or the lock could not be taken. */
  LOCK_FAILED: { exit: EXIT.WRITE_OUTPUT },
  /** exec-env: the child's environment (values plus the caller's) is over the kernel's limit (E2BIG). */
  ENV_TOO_LARGE: { exit: EXIT.ENV_TOO_LARGE },
  /** A private key file could not be written safely (readable by others, a symlink, another owner's). */
  KEY_WRITE: { exit: EXIT.WRITE_OUTPUT },
  /** Another writer held the file's lock for longer than the bounded wait. */
  LOCK_TIMEOUT: { exit: EXIT.LOCKED },
  /** The file changed between read and write (compare-and-swap); nothing was written. */
  FILE_CHANGED: { exit: EXIT.FILE_CHANGED },
  /** `set` got an empty value without --allow-empty. */
  EMPTY_VALUE: { exit: EXIT.EMPTY_VALUE },
  /** A fleet inventory file cannot be read. */
  INVENTORY_READ: { exit: EXIT.GENERIC },
  /** A fleet inventory file is invalid. */
  INVENTORY_INVALID: { exit: EXIT.GENERIC },
  /** A key file named by a fleet inventory cannot be read. */
  INVENTORY_KEY_FILE: { exit: EXIT.GENERIC },
  /** A git command the leak gate or the log needed failed (not a repository, a bad revision). */
  GIT: { exit: EXIT.GENERIC },
  /** `hook install` found a hook it cannot chain to. */
  HOOK_EXISTS: { exit: EXIT.GENERIC },
  /** `add`: the key is already in the file (use `set` to change it). */
  KEY_EXISTS: { exit: EXIT.GENERIC },
  /** A host or env file named on the command line is not in fleet.yaml. */
  NOT_FOUND: { exit: EXIT.GENERIC },
  /** exec-env: two files give the same name. */
  DUPLICATE_KEY: { exit: EXIT.GENERIC },
  /** `migrate`: the encrypted target exists already. */
  TARGET_EXISTS: { exit: EXIT.GENERIC },
  /** `migrate`: the encrypted file did not decrypt back to the plaintext; nothing was removed. */
  VERIFY_FAILED: { exit: EXIT.GENERIC },
  /** `provision`: the host key fingerprint was not confirmed. */
  NOT_CONFIRMED: { exit: EXIT.GENERIC },
  /** The `keyfleet` sdk was loaded without its peer dependency `@pulumi/pulumi` installed. */
  PEER_MISSING: { exit: EXIT.GENERIC },
} as const satisfies Record<string, { readonly exit: ExitStatus }>;

/** A stable machine-readable error code (a key of {@link ERROR_CODES}). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is one of the {@link ERROR_CODES}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** Base of every error keyfleet raises on purpose. */
export class KeyfleetError extends Error {
  /** Stable machine-readable code, e.g. `KEY_PARSE`, `MAC_MISMATCH`. */
  readonly code: ErrorCode;
  /** How to fix it, one sentence. */
  readonly hint: string | undefined;
  /** The file (or host:path) the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; file?: string; cause?: unknown } = {}) {
    super(
      opts.hint ? `${message}; ${opts.hint}` : message,
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.file = opts.file;
  }
}

/** True when `e` is a KeyfleetError (also across module copies, by duck typing on `code`). */
export function isKeyfleetError(e: unknown): e is KeyfleetError {
  return (
    e instanceof KeyfleetError ||
    (e instanceof Error && typeof (e as { code?: unknown }).code === "string" && "hint" in e)
  );
}
