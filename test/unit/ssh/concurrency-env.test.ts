/**
 * The HostEnv provider's concurrency limit comes from KEYFLEET_CONCURRENCY (the provider process takes
 * no flags): unset or blank gives the default, 1 to 1024 is taken, anything else is a typed error
 * naming the variable and the fix.
 */
import { describe, expect, it } from "vitest";
import {
  CONCURRENCY_ENV,
  concurrencyFromEnv,
  DEFAULT_HOST_CONCURRENCY,
  SshError,
  SshPool,
} from "../../../provider/ssh/index";

describe("KEYFLEET_CONCURRENCY", () => {
  it("unset or blank: the default; 1 to 1024: taken as the pool's limit", () => {
    expect(CONCURRENCY_ENV).toBe("KEYFLEET_CONCURRENCY");
    expect(concurrencyFromEnv({})).toBe(DEFAULT_HOST_CONCURRENCY);
    expect(concurrencyFromEnv({ KEYFLEET_CONCURRENCY: " " })).toBe(DEFAULT_HOST_CONCURRENCY);
    for (const n of [1, 32, 1024]) {
      const c = concurrencyFromEnv({ KEYFLEET_CONCURRENCY: String(n) });
      expect(c).toBe(n);
      expect(new SshPool({ concurrency: c }).concurrency).toBe(n);
    }
  });

  it("anything else is an SshError naming the variable, the value and the fix", () => {
    for (const v of ["0", "1025", "-3", "8.5", "lots", "1e3", "0x10"]) {
      let err: unknown;
      try {
        concurrencyFromEnv({ KEYFLEET_CONCURRENCY: v });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SshError);
      expect((err as Error).message).toContain(`KEYFLEET_CONCURRENCY must be an integer from 1 to 1024, got "${v}"`);
      expect((err as SshError).hint).toMatch(/unset it for the default \(16\)/);
    }
  });
});
