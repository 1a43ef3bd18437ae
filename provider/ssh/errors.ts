/**
 * Typed errors of the SSH transport. Messages name host:port (and the remote path) and never carry
 * file content, key material or digests of content.
 */
import { KeyfleetError } from "../errors";

/** A pinned or presented host key line could not be parsed. */
export class HostKeyParseError extends KeyfleetError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super("HOST_KEY_PARSE", message, {
      hint: opts.hint ?? 'pin the host key as "ssh-ed25519 AAAA…", e.g. from `ssh-keyscan -t ed25519 HOST`',
      cause: opts.cause,
    });
  }
}

/** The host presented a key other than the pinned one; nothing was sent (refused before authentication). */
export class HostKeyMismatchError extends KeyfleetError {
  /** "host:port". */
  readonly target: string;
  /** Fingerprint of the pinned key ("SHA256:…"). */
  readonly expected: string;
  /** Fingerprint of the key the host presented ("SHA256:…"). */
  readonly presented: string;
  constructor(target: string, expected: string, presented: string) {
    super(
      "HOST_KEY_MISMATCH",
      `host key of ${target} does not match the pinned key: expected ${expected}, presented ${presented}; refused before authentication, nothing was sent`,
      {
        hint: "if the host was rebuilt on purpose, verify the new fingerprint out of band (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host) and update the pinned hostKey",
        file: target,
      },
    );
    this.target = target;
    this.expected = expected;
    this.presented = presented;
  }
}

/** Connecting, authenticating or running a remote step failed. */
export class SshError extends KeyfleetError {
  /** "host:port". */
  readonly target: string;
  /** True when the failure is a transport failure worth retrying (socket reset, timeout, channel loss). */
  readonly retryable: boolean;
  /** Remote exit code when a remote command failed. */
  readonly exitCode: number | undefined;
  constructor(
    target: string,
    message: string,
    opts: { retryable?: boolean; exitCode?: number; hint?: string; cause?: unknown; file?: string } = {},
  ) {
    super("SSH", message, { hint: opts.hint, cause: opts.cause, file: opts.file ?? target });
    this.target = target;
    this.retryable = opts.retryable ?? false;
    this.exitCode = opts.exitCode;
  }
}
