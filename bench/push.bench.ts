/**
 * Push one env file to 1, 10, 30, 100 and 200 hosts: 13 local OpenSSH sshd processes listening on 16
 * ports of 127.0.0.1 each (OpenSSH's most; started here, stopped by pid); every port is a host with
 * its own file and its own connection (sshd forks one session process per connection, as separate
 * machines would).
 *
 * keyfleet: SshPool + writeFileAtomic (pinned host key, StrictModes directory check, temp file with
 * final mode, fsync, rename, sha256 read-back), hosts in parallel up to the pool's one concurrency
 * limit (DEFAULT_HOST_CONCURRENCY, the CLI's `--concurrency` default), fresh connections per run,
 * each closed when its host is done (as `keyfleet push` does), so at most that many are open.
 * peer: the manual path, a loop of `scp FILE host:PATH.tmp` + `ssh host mv PATH.tmp PATH` per host,
 * with BatchMode and StrictHostKeyChecking=yes against a known_hosts file written here; measured at
 * 1, 10 and 30 hosts (past that it only takes minutes longer). It runs with OpenSSH's defaults, whose
 * key exchange (sntrup761x25519-sha512 in OpenSSH 9) costs more CPU than keyfleet's curve25519; at
 * 30 hosts the loop also runs with `-o KexAlgorithms=curve25519-sha256`, printed beside it (not
 * judged) so the share of the speed-up that is the key exchange can be read off.
 * Both sides log in as a throwaway user made here (test/harness/sshd.ts createLoginUser: login shell
 * /bin/sh, home in a temp dir, removed at the end), not as root: sshd runs every command through the
 * login user's shell, and root's own ~/.bashrc on a developer machine may start anything (one here
 * costs ~140 ms of CPU per session) and would then weigh on both sides, in the same box as the
 * daemons. A CI machine's plain root is what this stands for; without root (no useradd) the current
 * user is used and the header says so.
 * Each round runs every size in turn (keyfleet, then the loop), so a change of the machine's load
 * between rounds reaches every point of the curve alike; prints medians, the hosts/second curve and
 * the deployer's peak RSS at 200 hosts, and judges (bench/judge.ts): keyfleet / scp loop per size (≥ 8× faster at 30 hosts);
 * hosts/s (as ms per host) rising from point to point up to the concurrency limit and, past it, at
 * least 0.85× the best earlier point (flat, not falling); peak RSS at 200 against the idle deployer.
 * BENCH_RUNS (default 3) sets the rounds, BENCH_PUSH_SIZES (default 1,10,30,100,200) the points.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SshPool, DEFAULT_HOST_CONCURRENCY } from "../provider/ssh/index";
import { renderEnv } from "../provider/render/index";
import { createLoginUser, MAX_PORTS_PER_SSHD, startSshd, type LoginUser, type SshdHost } from "../test/harness/sshd";
import { median, report, type Comparison } from "./judge";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_PUSH_SIZES ?? "1,10,30,100,200").split(",").map(Number);
const PEER_SIZES = new Set([1, 10, 30]);
/** Where the scp loop also runs with keyfleet's key exchange (printed beside the default one). */
const SAME_KEX_SIZES = new Set([30]);
/** keyfleet's (ssh2's) key exchange; OpenSSH 9's default is sntrup761x25519-sha512, which costs more CPU. */
const SAME_KEX = "curve25519-sha256";
/** Past the concurrency limit, hosts/s may fall at most this far below the best earlier point. */
const FLAT = 0.85;

/** One "host": a port of the shared daemon and the file pushed there. */
interface Target {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKey: string;
  keyFile: string;
  file: string;
  manual: string;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    c.on("error", reject);
    c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function ours(hosts: Target[], content: Buffer): Promise<void> {
  const pool = new SshPool();
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const h = hosts[next++]!;
      const t = { host: h.host, port: h.port, user: h.user, privateKey: h.privateKey, hostKey: h.hostKey };
      const s = await pool.session(t);
      await s.writeFileAtomic(h.file, content, { mode: 0o600 });
      await pool.close(t); // done with this host, as `keyfleet push` is after a host's files
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(pool.concurrency, hosts.length) }, worker));
  } finally {
    await pool.closeAll();
  }
}

async function manual(hosts: Target[], file: string, knownHosts: string, kex?: string): Promise<void> {
  for (const h of hosts) {
    const common = [
      ...(kex ? ["-o", `KexAlgorithms=${kex}`] : []),
      "-i",
      h.keyFile,
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "LogLevel=ERROR",
    ];
    await run("scp", ["-q", "-P", String(h.port), ...common, file, `${h.user}@${h.host}:${h.manual}.tmp`]);
    await run("ssh", ["-p", String(h.port), ...common, `${h.user}@${h.host}`, `mv -f ${h.manual}.tmp ${h.manual}`]);
  }
}

async function main(): Promise<void> {
  const max = Math.max(...SIZES);
  let user: LoginUser | undefined;
  let userNote = "";
  if (process.getuid?.() === 0) user = createLoginUser("kfbench");
  else userNote = " (not root: logged in as the current user, whose shell rc files run in every session)";
  const started = await Promise.allSettled(
    Array.from({ length: Math.ceil(max / MAX_PORTS_PER_SSHD) }, () =>
      startSshd({ ports: MAX_PORTS_PER_SSHD, maxStartups: 64, ...(user ? { user } : {}) }),
    ),
  );
  const daemons = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-push-"));
  const judged: Comparison[] = [];
  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    const hosts: Target[] = daemons.flatMap((d: SshdHost) =>
      d.ports.map((port) => ({
        host: d.host,
        port,
        user: d.user,
        privateKey: d.clientKeyPem,
        hostKey: d.hostKeyLine,
        keyFile: d.clientKeyFile,
        file: join(d.dataDir, `app-${port}.env`),
        manual: join(d.dataDir, `manual-${port}.env`),
      })),
    );
    if (hosts.length < max) throw new Error(`the daemons listen on ${hosts.length} ports, ${max} needed`);
    const env = renderEnv(
      Array.from({ length: 20 }, (_, i) => [`KEY_${i}`, `bench-value-${i}-${"v".repeat(40)}`] as [string, string]),
      "dotenv",
    );
    const content = Buffer.from(env);
    const file = join(dir, "app.env");
    writeFileSync(file, content, { mode: 0o600 });
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, hosts.map((h) => `[${h.host}]:${h.port} ${h.hostKey}\n`).join(""));
    const idleRss = process.memoryUsage().rss;
    let peakRss = 0;
    process.stdout.write(
      `push one ${content.length}-byte env file as ${hosts[0]!.user}${userNote}; concurrency limit ${DEFAULT_HOST_CONCURRENCY}; ${RUNS} alternating rounds; medians\n`,
    );
    process.stdout.write(
      `hosts | keyfleet ms (hosts/s) | scp+ssh mv loop ms (hosts/s) | speed-up | same loop with kex ${SAME_KEX} ms (hosts/s) | speed-up\n`,
    );
    const perHost = new Map<number, number>();
    // rounds outside, sizes inside: a change in the machine's load between rounds reaches every size
    const a = new Map<number, number[]>(SIZES.map((n) => [n, []]));
    const b = new Map<number, number[]>(SIZES.map((n) => [n, []]));
    const c = new Map<number, number[]>(SIZES.map((n) => [n, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const n of SIZES) {
        const sel = hosts.slice(0, n);
        const sampler =
          n === max
            ? setInterval(() => {
                peakRss = Math.max(peakRss, process.memoryUsage().rss);
              }, 20)
            : undefined;
        let t0 = performance.now();
        try {
          await ours(sel, content);
        } finally {
          if (sampler) clearInterval(sampler);
        }
        a.get(n)!.push(performance.now() - t0);
        if (!PEER_SIZES.has(n)) continue;
        t0 = performance.now();
        await manual(sel, file, knownHosts);
        b.get(n)!.push(performance.now() - t0);
        if (!SAME_KEX_SIZES.has(n)) continue;
        t0 = performance.now();
        await manual(sel, file, knownHosts, SAME_KEX);
        c.get(n)!.push(performance.now() - t0);
      }
    }
    const peerMax = Math.max(0, ...SIZES.filter((n) => PEER_SIZES.has(n)));
    for (const [i, h] of hosts.slice(0, max).entries()) {
      if (!readFileSync(h.file).equals(content)) throw new Error(`content check failed on port ${h.port}`);
      if (i < peerMax && !readFileSync(h.manual).equals(content))
        throw new Error(`manual content check failed on port ${h.port}`);
    }
    for (const n of SIZES) {
      const ma = median(a.get(n)!);
      const mb = b.get(n)!.length ? median(b.get(n)!) : Number.NaN;
      const mc = c.get(n)!.length ? median(c.get(n)!) : Number.NaN;
      perHost.set(n, ma / n);
      const col = (m: number) =>
        Number.isNaN(m)
          ? `${"(not run)".padStart(10)} | -`
          : `${m.toFixed(0).padStart(10)} (${(n / (m / 1000)).toFixed(1)}) | ${(m / ma).toFixed(1)}x`;
      process.stdout.write(
        `${String(n).padStart(5)} | ${ma.toFixed(0).padStart(8)} (${(n / (ma / 1000)).toFixed(1)}) | ${col(mb)} | ${col(mc)}\n`,
      );
      if (b.get(n)!.length)
        judged.push({
          what: `push to ${n} host${n > 1 ? "s" : ""}`,
          ours: ma,
          peer: mb,
          peerName: "scp + ssh mv loop",
          unit: "ms",
          maxRatio: n >= 30 ? 1 / 8 : 1,
        });
    }
    // hosts/s rises up to the concurrency limit, then stays flat: judged on ms per host (1 / hosts/s)
    const sizes = SIZES.filter((n) => perHost.has(n));
    for (let i = 1; i < sizes.length; i++) {
      const n = sizes[i]!;
      const earlier = sizes.slice(0, i);
      const bestBefore = Math.min(...earlier.map((x) => perHost.get(x)!));
      const rising = n <= DEFAULT_HOST_CONCURRENCY;
      judged.push({
        what: `ms per host at ${n} hosts (${(1000 / perHost.get(n)!).toFixed(1)} hosts/s)`,
        ours: perHost.get(n)!,
        peer: rising ? perHost.get(earlier[earlier.length - 1]!)! : bestBefore,
        peerName: rising
          ? `at ${earlier[earlier.length - 1]} hosts (rising below the limit)`
          : `best at ${earlier.join("/")} hosts (${(1000 / bestBefore).toFixed(1)} hosts/s; flat past the limit: ≥ ${FLAT}×)`,
        unit: "ms",
        maxRatio: rising ? 1 : Number((1 / FLAT).toFixed(2)),
      });
    }
    process.stdout.write(
      `deployer RSS: idle ${(idleRss / 2 ** 20).toFixed(0)} MiB, peak while pushing to ${max} hosts ${(peakRss / 2 ** 20).toFixed(0)} MiB\n\n`,
    );
    judged.push({
      what: `deployer peak RSS at ${max} hosts`,
      ours: peakRss / 2 ** 20,
      peer: idleRss / 2 ** 20,
      peerName: "idle deployer",
      unit: "MiB",
      maxRatio: 3,
    });
    report(judged);
  } catch (e) {
    process.stderr.write(`push bench failed: ${(e as Error).stack}\n`);
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // a daemon's directory may still be busy for a moment after its children were stopped
    await Promise.all(daemons.map((d) => d.stop().catch(() => d.stop())));
    user?.remove();
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
