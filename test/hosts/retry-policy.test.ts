/**
 * Issue 17 §3: one retry policy, in the SSH layer. HostEnv's connect used to loop 3 times around the
 * pool's own attempts; now withHost asks the pool once and the pool applies provider/ssh/retry.ts.
 * Against a closed loopback port and a real sshd with the wrong pinned key. Also: the SSH layer
 * refuses bad paths itself (issue 9 §3), whoever calls it.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createServer } from "node:net";
import { DEFAULT_RETRY, SshPool } from "../../provider/ssh";
import { closeHostEnvPool, hostEnvPool, withHost } from "../../provider/resources/host-env-remote";
import { sshTargetOf, startHosts, type SshdHost } from "../harness/sshd";

let hosts: SshdHost[] = [];
beforeAll(async () => {
  hosts = await startHosts(2);
}, 60_000);
afterAll(async () => {
  await closeHostEnvPool();
  await Promise.all(hosts.map((h) => h.stop()));
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 1));
    });
  });
}

it("a refused connection is tried exactly DEFAULT_RETRY.attempts times in all, with the policy's backoff", async () => {
  const [h] = hosts as [SshdHost];
  const port = await closedPort();
  await closeHostEnvPool();
  const pool = hostEnvPool();
  const t0 = Date.now();
  const err = await withHost(sshTargetOf(h, { port }), async () => "reached").then(
    () => undefined,
    (e: Error) => e,
  );
  const ms = Date.now() - t0;
  expect(err).toBeInstanceOf(Error);
  expect(pool.connectCount).toBe(DEFAULT_RETRY.attempts);
  // backoff 200 + 400 + 800 ms between the 4 attempts
  const minWait = Array.from({ length: DEFAULT_RETRY.attempts - 1 }, (_, i) => DEFAULT_RETRY.backoffMs * 2 ** i).reduce(
    (a, b) => a + b,
    0,
  );
  expect(ms).toBeGreaterThanOrEqual(minWait - 50);
});

it("a host-key mismatch is not retried: one connection, refused at once", async () => {
  const [h0, h1] = hosts as [SshdHost, SshdHost];
  await closeHostEnvPool();
  const pool = hostEnvPool();
  const err = await withHost(
    { host: h0.host, port: h0.port, user: h0.user, privateKey: h0.clientKeyPem, hostKey: h1.hostKeyLine },
    async () => "reached",
  ).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.message).toMatch(/does not match the pinned key/);
  expect(pool.connectCount).toBe(1);
});

it("a working host: one connection, the callback runs once", async () => {
  const [h] = hosts as [SshdHost];
  await closeHostEnvPool();
  const pool = hostEnvPool();
  let runs = 0;
  const r = await withHost(sshTargetOf(h), async (s) => {
    runs++;
    return (await s.stat("/nonexistent-dir/x")).exists;
  });
  expect(r).toBe(false);
  expect(runs).toBe(1);
  expect(pool.connectCount).toBe(1);
});

it("the SSH layer itself refuses CR, NUL, LF and paths over 4096 bytes, with a short error, before running anything", async () => {
  const [h] = hosts as [SshdHost];
  const commands: string[] = [];
  const pool = new SshPool({ onCommand: (_t, c) => commands.push(c) });
  try {
    const s = await pool.session(sshTargetOf(h));
    for (const p of [
      `${h.dataDir}/a\r.env`,
      `${h.dataDir}/a\0.env`,
      `${h.dataDir}/a\n.env`,
      "/" + "x".repeat(100 * 1024),
      "/" + "é".repeat(2048),
    ]) {
      for (const op of [
        () => s.stat(p),
        () => s.remove(p),
        () => s.mark(p),
        () => s.writeFileAtomic(p, Buffer.from("A=1\n"), { mode: 0o600 }),
      ]) {
        const e = await op().then(
          () => undefined,
          (x: Error) => x,
        );
        expect(e?.message).toMatch(/must be an absolute file path of at most 4096 bytes without NUL, CR or LF/);
        expect(e!.message.length).toBeLessThan(400);
      }
    }
    expect(commands).toEqual([]);
  } finally {
    await pool.closeAll();
  }
});
