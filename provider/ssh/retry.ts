/**
 * The one retry policy of the SSH layer: connecting and the idempotent remote operations (write,
 * stat, remove, mark) are retried on transport failures only (socket reset, timeout, channel loss),
 * a bounded number of times with doubling backoff. Host-key mismatches, authentication failures and
 * remote refusals are never retried. Commands (`exec`) are never retried once sent.
 */
import { isTransportError } from "./connect";

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Attempts in total, the first included (≥ 1). */
  attempts: number;
  /** Delay before the second attempt in ms, doubled before each later one. */
  backoffMs: number;
}

/** Default policy: 4 attempts, 200 / 400 / 800 ms apart. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, backoffMs: 200 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `fn` until it succeeds, fails with an error that is not a transport failure, or the attempts
 * are spent; `onTransportFailure` runs after each transport failure (e.g. to drop a broken connection).
 * @throws the last error
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  onTransportFailure?: (e: unknown) => void,
): Promise<T> {
  const attempts = Math.max(1, Math.floor(policy.attempts));
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(policy.backoffMs * 2 ** (attempt - 1));
    try {
      return await fn(attempt);
    } catch (e) {
      last = e;
      if (!isTransportError(e)) throw e;
      onTransportFailure?.(e);
    }
  }
  throw last;
}
