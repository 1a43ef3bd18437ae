/**
 * Exit codes of the sops verbs, the same numbers as sops (`cmd/sops/codes/codes.go` in getsops/sops)
 * where sops has one, and a wrapper that maps a verb's KeyfleetError to its code. Usage errors keep
 * going to the dispatcher in `main.ts`, which prints them and exits 2.
 */
import { isKeyfleetError } from "../provider/errors";
import type { CliIo, ParsedArgs, Verb, VerbSpec } from "./args";

/** Exit statuses (sops numbers where sops has them). */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** Any other keyfleet error (sops ErrorGeneric). */
  GENERIC: 1,
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
  /** `set` got an empty value without --allow-empty (keyfleet only). */
  EMPTY_VALUE: 10,
  /** Another writer held the file's lock for the whole wait (keyfleet only). */
  LOCKED: 11,
  /** The file changed between read and write (compare-and-swap failed; nothing written; keyfleet only). */
  FILE_CHANGED: 12,
} as const;

/** Error code (KeyfleetError.code) → exit status. Codes not listed exit GENERIC. */
const BY_CODE: Record<string, number> = {
  IO_READ: EXIT.READ_INPUT,
  SOPS_PARSE: EXIT.READ_INPUT,
  IO_WRITE: EXIT.WRITE_OUTPUT,
  WRITE_FAILED: EXIT.WRITE_OUTPUT,
  CONFIG: EXIT.CONFIG,
  SOPS_CRYPTO: EXIT.DECRYPT_TREE,
  MAC_MISMATCH: EXIT.MAC_MISMATCH,
  NO_CONFIG: EXIT.NO_CONFIG,
  INTERRUPTED: EXIT.INTERRUPTED,
  BAD_KEY_PATH: EXIT.BAD_KEY_PATH,
  NO_RECIPIENTS: EXIT.NO_RECIPIENTS,
  NO_IDENTITY: EXIT.NO_IDENTITY,
  KEY_DISCOVERY: EXIT.NO_IDENTITY,
  ALREADY_ENCRYPTED: EXIT.ALREADY_ENCRYPTED,
  EMPTY_VALUE: EXIT.EMPTY_VALUE,
  LOCK_TIMEOUT: EXIT.LOCKED,
  LOCK_FAILED: EXIT.WRITE_OUTPUT,
  FILE_CHANGED: EXIT.FILE_CHANGED,
};

/** The exit status for a KeyfleetError code. */
export function exitCodeFor(code: string): number {
  return BY_CODE[code] ?? EXIT.GENERIC;
}

/**
 * Builds a verb whose KeyfleetErrors (other than usage errors) are printed as `keyfleet: <message>`
 * and turned into their sops exit status. Other errors propagate to the dispatcher (exit 70).
 */
export function sopsVerb(spec: VerbSpec, body: (args: ParsedArgs, io: CliIo) => Promise<number>): Verb {
  return {
    spec,
    async run(args, io) {
      try {
        return await body(args, io);
      } catch (e) {
        if (!isKeyfleetError(e) || e.code === "USAGE") throw e;
        io.stderr(`keyfleet: ${e.message}\n`);
        return exitCodeFor(e.code);
      }
    },
  };
}
