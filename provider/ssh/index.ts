/**
 * provider/ssh: host-key scan, pinned connections, atomic remote writes, read-back, exec.
 * Plaintext reaches a host only on an SSH channel's stdin.
 */
export { scanHostKey, connectPinned, targetName, isTransportError, DEFAULT_PORT, type SshTarget } from "./connect";
export {
  SshPool,
  DEFAULT_HOST_CONCURRENCY,
  MAX_FILE_BYTES,
  MAX_PATH_BYTES,
  type SshSession,
  type WriteResult,
  type SshPoolOptions,
  type ExecResult,
} from "./pool";
export { CONCURRENCY_ENV, concurrencyFromEnv } from "./concurrency";
export { parsePinnedHostKey, hostKeyFromBlob, fingerprintBlob, sameHostKey, type PinnedHostKey } from "./hostkey";
export { HostKeyMismatchError, HostKeyParseError, SshError } from "./errors";
export { shellQuote, shellJoin } from "./quote";
export { type RemoteStat } from "./remote";
export { DEFAULT_RETRY, withRetries, type RetryPolicy } from "./retry";
