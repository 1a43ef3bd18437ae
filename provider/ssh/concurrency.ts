/**
 * The SSH layer's one limit of hosts worked on at once (`SshPoolOptions.concurrency`): its default,
 * shared by the pool, the fleet core and `keyfleet push --concurrency`, and how the Pulumi provider
 * process, which takes no flags, reads it from the environment.
 */
import { SshError } from "./errors";

/** Default of `SshPoolOptions.concurrency` and of the fleet core's hosts pushed at once. */
export const DEFAULT_HOST_CONCURRENCY = 16;

/** Environment variable that sets the HostEnv provider's `SshPoolOptions.concurrency`. */
export const CONCURRENCY_ENV = "KEYFLEET_CONCURRENCY";

/**
 * `SshPoolOptions.concurrency` from `KEYFLEET_CONCURRENCY` (an integer from 1 to 1024), else
 * {@link DEFAULT_HOST_CONCURRENCY}: how the Pulumi provider process, which takes no flags, is told
 * how many hosts its HostEnvs push to at once.
 * @throws SshError naming the variable when it is set to anything else
 */
export function concurrencyFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const v = env[CONCURRENCY_ENV];
  if (v === undefined || v.trim() === "") return DEFAULT_HOST_CONCURRENCY;
  const n = Number(v.trim());
  if (!/^\d{1,4}$/.test(v.trim()) || n < 1 || n > 1024)
    throw new SshError(
      "pool",
      `${CONCURRENCY_ENV} must be an integer from 1 to 1024, got ${JSON.stringify(v.slice(0, 20))}`,
      {
        hint: `unset it for the default (${DEFAULT_HOST_CONCURRENCY}) or set e.g. ${CONCURRENCY_ENV}=32`,
      },
    );
  return n;
}
