/**
 * Push one env file to 1, 10 and 30 local OpenSSH sshd hosts (started here, stopped by pid).
 *
 * keyfleet: SshPool + writeFileAtomic (pinned host key, temp file with final mode, fsync, rename,
 * sha256 read-back), hosts in parallel with a concurrency limit of 16, fresh connections per run.
 * peer: the manual path, a loop of `scp FILE host:PATH.tmp` + `ssh host mv PATH.tmp PATH` per host,
 * with BatchMode and StrictHostKeyChecking=yes against a known_hosts file written here.
 * Rounds alternate the two sides; prints medians and hosts/second, and judges the ratio keyfleet /
 * scp loop per fleet size (bench/judge.ts). BENCH_RUNS (default 3) sets the rounds.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SshPool } from "../provider/ssh/index";
import { renderEnv } from "../provider/render/index";
import { startHosts, type SshdHost } from "../test/harness/sshd";
import { median, report, type Comparison } from "./judge";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = [1, 10, 30];
const CONCURRENCY = 16;

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d: Buffer) => { err += d.toString(); });
    c.on("error", reject);
    c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function ours(hosts: SshdHost[], content: Buffer): Promise<void> {
  const pool = new SshPool();
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const h = hosts[next++]!;
      const s = await pool.session({ host: h.host, port: h.port, user: h.user, privateKey: h.clientKeyPem, hostKey: h.hostKeyLine });
      await s.writeFileAtomic(join(h.dataDir, "app.env"), content, { mode: 0o600 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, hosts.length) }, worker));
  await pool.closeAll();
}

async function manual(hosts: SshdHost[], file: string, knownHosts: string): Promise<void> {
  for (const h of hosts) {
    const common = ["-i", h.clientKeyFile, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "LogLevel=ERROR"];
    const dest = join(h.dataDir, "manual.env");
    await run("scp", ["-q", "-P", String(h.port), ...common, file, `${h.user}@${h.host}:${dest}.tmp`]);
    await run("ssh", ["-p", String(h.port), ...common, `${h.user}@${h.host}`, `mv -f ${dest}.tmp ${dest}`]);
  }
}


async function main(): Promise<void> {
  const hosts = await startHosts(Math.max(...SIZES));
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-push-"));
  const judged: Comparison[] = [];
  try {
    const env = renderEnv(Array.from({ length: 20 }, (_, i) => [`KEY_${i}`, `bench-value-${i}-${"v".repeat(40)}`] as [string, string]), "dotenv");
    const content = Buffer.from(env);
    const file = join(dir, "app.env");
    writeFileSync(file, content, { mode: 0o600 });
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, hosts.map((h) => `[${h.host}]:${h.port} ${h.hostKeyLine}\n`).join(""));
    process.stdout.write(`push one ${content.length}-byte env file; ${RUNS} alternating rounds; medians\n`);
    process.stdout.write(`hosts | keyfleet ms (hosts/s) | scp+ssh mv loop ms (hosts/s) | speed-up\n`);
    for (const n of SIZES) {
      const sel = hosts.slice(0, n);
      const a: number[] = [];
      const b: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        let t0 = performance.now();
        await ours(sel, content);
        a.push(performance.now() - t0);
        t0 = performance.now();
        await manual(sel, file, knownHosts);
        b.push(performance.now() - t0);
      }
      for (const h of sel) {
        if (!readFileSync(join(h.dataDir, "app.env")).equals(content) || !readFileSync(join(h.dataDir, "manual.env")).equals(content)) throw new Error(`content check failed on port ${h.port}`);
      }
      const ma = median(a);
      const mb = median(b);
      process.stdout.write(`${String(n).padStart(5)} | ${ma.toFixed(0).padStart(8)} (${(n / (ma / 1000)).toFixed(1)}) | ${mb.toFixed(0).padStart(10)} (${(n / (mb / 1000)).toFixed(1)}) | ${(mb / ma).toFixed(1)}x\n`);
      // keyfleet must beat the manual loop at every size (one connection per host vs two processes)
      judged.push({ what: `push to ${n} host${n > 1 ? "s" : ""}`, ours: ma, peer: mb, peerName: "scp + ssh mv loop", unit: "ms", maxRatio: 1 });
    }
    process.stdout.write("\n");
    report(judged);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all(hosts.map((h) => h.stop()));
  }
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
