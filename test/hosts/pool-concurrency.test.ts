/**
 * SshPool's one concurrency limit: however many operations callers start at once, at most
 * `concurrency` handshakes and remote operations run together across the pool, every one of them
 * completes, and the fleet core's default is the same number; close(target) releases one host's
 * connection without breaking what runs on it. Real sshd on 127.0.0.1 (4 ports).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_HOST_CONCURRENCY, SshPool, SshError } from "../../provider/ssh";
import { DEFAULT_CONCURRENCY } from "../../provider/fleet/reconcile";
import { sshTargetOf, startSshd, type SshdHost } from "../harness/sshd";

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
          const s = await pool.session(sshTargetOf(h, { port }));
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

  it("close(target) lets running operations finish, closes the connection, and the next one reconnects", async () => {
    const pool = new SshPool();
    const t = sshTargetOf(h, { port: h.ports[0]! });
    try {
      const a = await pool.session(t);
      const b = await pool.session(t);
      expect(pool.connectCount).toBe(1);
      // an exec (never retried) is running on the shared connection when close() is called
      const running = a.exec(["sh", "-c", "sleep 0.5; echo done"]);
      await new Promise((r) => setTimeout(r, 100));
      await pool.close(t);
      const r = await running;
      expect(r.code).toBe(0);
      expect(r.stdout.toString().trim()).toBe("done");
      // the last operation closed it: the sshd session process is gone, and the next operation reconnects
      for (let i = 0; i < 50 && h.childPids().length > 0; i++) await new Promise((res) => setTimeout(res, 50));
      expect(h.childPids()).toEqual([]);
      const w = await b.writeFileAtomic(join(h.dataDir, "after-close.env"), Buffer.from("C=3\n"), { mode: 0o600 });
      expect(w.mode).toBe(0o600);
      expect(pool.connectCount).toBe(2);
      // closing an idle connection closes it at once; closing what is not open is a no-op
      await pool.close(t);
      await pool.close({ ...t, port: h.ports[1]! });
      for (let i = 0; i < 50 && h.childPids().length > 0; i++) await new Promise((res) => setTimeout(res, 50));
      expect(h.childPids()).toEqual([]);
      expect(pool.connectCount).toBe(2);
    } finally {
      await pool.closeAll();
    }
  }, 60_000);
});
