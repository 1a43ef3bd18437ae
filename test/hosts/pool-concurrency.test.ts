/**
 * SshPool's one concurrency limit: however many operations callers start at once, at most
 * `concurrency` handshakes and remote operations run together across the pool, every one of them
 * completes, and the fleet core's default is the same number. Real sshd on 127.0.0.1 (4 ports).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_HOST_CONCURRENCY, SshPool, SshError } from "../../provider/ssh";
import { DEFAULT_CONCURRENCY } from "../../provider/fleet/reconcile";
import { startSshd, type SshdHost } from "../harness/sshd";

let h: SshdHost;
beforeAll(async () => {
  h = await startSshd({ ports: 4 });
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

describe("SshPool concurrency", () => {
  it("runs at most `concurrency` operations at once across hosts, and finishes them all", async () => {
    expect(h.ports.length).toBe(4);
    const pool = new SshPool({ concurrency: 2 });
    try {
      const jobs = h.ports.flatMap((port) =>
        [0, 1].map(async (i) => {
          const s = await pool.session({
            host: h.host,
            port,
            user: h.user,
            privateKey: h.clientKeyPem,
            hostKey: h.hostKeyLine,
          });
          const w = await s.writeFileAtomic(join(h.dataDir, `c-${port}-${i}.env`), Buffer.from(`A=${port}-${i}\n`), {
            mode: 0o600,
          });
          expect(w.mode).toBe(0o600);
        }),
      );
      await Promise.all(jobs);
      expect(pool.peakBusy).toBe(2);
      expect(pool.connectCount).toBe(4);
      for (const port of h.ports)
        for (const i of [0, 1])
          expect(readFileSync(join(h.dataDir, `c-${port}-${i}.env`), "utf8")).toBe(`A=${port}-${i}\n`);
    } finally {
      await pool.closeAll();
    }
  }, 120_000);

  it("is one documented number: the pool's default is the fleet core's, and bad limits are refused", () => {
    expect(new SshPool().concurrency).toBe(DEFAULT_HOST_CONCURRENCY);
    expect(DEFAULT_CONCURRENCY).toBe(DEFAULT_HOST_CONCURRENCY);
    expect(() => new SshPool({ concurrency: 0 })).toThrow(SshError);
    expect(() => new SshPool().setConcurrency(1.5)).toThrow(/concurrency must be an integer from 1 to 1024/);
  });
});
