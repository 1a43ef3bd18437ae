/**
 * Fault injection on real sshd: during 50 pushes, the SSH connection is cut (socket destroyed) or
 * the per-connection sshd child is SIGKILLed at a random moment. A poller reads the remote file
 * (the host is local) the whole time: it must always be one complete pushed version, never partial
 * or empty; after each faulted push the next push converges. Counts are printed for the report.
 */
import { readFileSync, readdirSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshPool, type SshTarget } from "../../provider/ssh/index";
import { sshTargetOf, startHosts, type SshdHost } from "../harness/sshd";

let hosts: SshdHost[] = [];
beforeAll(async () => {
  hosts = await startHosts(1);
});
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
});

// deterministic PRNG so a failure can be replayed (seed printed)
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

it("50 pushes with connection cuts and sshd child kills: never partial, always converges", async () => {
  const h = hosts[0]!;
  const t: SshTarget = sshTargetOf(h);
  const path = `${h.dataDir}/faults.env`;
  const seed = Number(process.env.FAULT_SEED ?? Date.now() % 100000);
  const rand = rng(seed);
  // large enough (~70 KiB) that a cut often lands mid-transfer
  const version = (i: number) => Buffer.from(`# v${i}\n` + `K${i}='${"x".repeat(64)}'\n`.repeat(1000) + `END=${i}\n`);
  const valid = new Map<string, number>();
  const setup = new SshPool();
  const v0 = version(0);
  valid.set(v0.toString(), 0);
  const ss = await setup.session(t);
  // time a clean push so the faults land before, during and after the rename
  const durations: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = Date.now();
    await ss.writeFileAtomic(path, v0, { mode: 0o600 });
    durations.push(Date.now() - t0);
  }
  const pushMs = durations.sort((a, b) => a - b)[1]!;
  await setup.closeAll();

  let reads = 0;
  const bad: string[] = [];
  const poll = setInterval(() => {
    try {
      const c = readFileSync(path).toString();
      reads++;
      if (!valid.has(c)) bad.push(`len ${c.length}`);
    } catch (e) {
      bad.push(`read failed: ${(e as Error).message}`);
    }
  }, 2);

  const counts = {
    pushes: 0,
    cut: 0,
    killed: 0,
    faultedPushFailed: 0,
    faultedPushSucceeded: 0,
    sawOld: 0,
    sawNew: 0,
    convergeRetries: 0,
  };
  let current = 0;
  try {
    for (let i = 1; i <= 50; i++) {
      counts.pushes++;
      const next = version(i);
      valid.set(next.toString(), i);
      const pool = new SshPool({ attempts: 1 }); // the faulted push must not hide the fault by retrying
      const s = await pool.session(t);
      const push = s.writeFileAtomic(path, next, { mode: 0o600 }).then(
        () => true,
        () => false,
      );
      await new Promise((r) => setTimeout(r, Math.floor(rand() * pushMs * 1.6)));
      if (rand() < 0.5) {
        counts.cut++;
        pool.destroyConnections();
      } else {
        counts.killed++;
        for (const pid of h.childPids()) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            /* exited */
          }
        }
      }
      const ok = await push;
      await pool.closeAll();
      if (ok) counts.faultedPushSucceeded++;
      else counts.faultedPushFailed++;
      const after = valid.get(readFileSync(path).toString());
      expect(after === current || after === i, `push ${i} (seed ${seed}) left version ${after}`).toBe(true);
      if (after === i) counts.sawNew++;
      else counts.sawOld++;
      if (ok) expect(after).toBe(i);
      // converge: the next apply (with retries) brings the file to the new version
      const p2 = new SshPool({ attempts: 4, backoffMs: 50 });
      const s2 = await p2.session(t);
      await s2.writeFileAtomic(path, next, { mode: 0o600 });
      counts.convergeRetries += p2.connectCount - 1;
      await p2.closeAll();
      expect(valid.get(readFileSync(path).toString())).toBe(i);
      current = i;
    }
  } finally {
    clearInterval(poll);
  }
  console.log(
    `fault injection (seed ${seed}, clean push ${pushMs} ms): ${JSON.stringify({ ...counts, pollerReads: reads, partialOrEmptySeen: bad.length })}`,
  );
  expect(bad).toEqual([]);
  expect(reads).toBeGreaterThan(50);
  expect(counts.faultedPushFailed).toBeGreaterThan(0);
  // temp files of killed pushes are cleaned up by the next successful push
  expect(readdirSync(h.dataDir).filter((f) => f.includes(".kftmp."))).toEqual([]);
  expect(readFileSync(path).toString()).toBe(version(50).toString());
}, 120_000);
