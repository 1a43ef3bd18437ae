/**
 * Start-up (issue 13 §4): `keyfleet decrypt`, `exec-env` and `set` of a small YAML sops file, each
 * measured as a whole process (spawn to exit, the built `dist/cli/main.js`), against a bare
 * `node -e 0` in the same run. The four commands are run round-robin, RUNS rounds, so a busy
 * machine slows them alike; each figure is the median. exec-env runs `true` (no shell).
 * Bound: ≤ 1.5× the bare node process, judged on the wall-clock medians. Also printed, not judged:
 * the mean CPU time (user + system) per process, from the children's totals in /proc/self/stat
 * (Linux), which a loaded machine disturbs less than wall time; and each process's peak RSS, from one
 * more run of each command with a `--require` hook that prints `process.resourceUsage().maxRSS` at
 * exit (outside the timed runs).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, report } from "./judge.js";

const RUNS = Number(process.env.STARTUP_BENCH_RUNS ?? 21);
const CLI = join(__dirname, "..", "cli", "bin.js");

/** CPU milliseconds used by waited-for children so far (Linux /proc; NaN elsewhere). */
function childCpuMs(): number {
  try {
    const f = readFileSync("/proc/self/stat", "utf8");
    const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
    // cutime and cstime, fields 16 and 17 (13 and 14 after the command name), in clock ticks of 10 ms
    return (Number(rest[13]) + Number(rest[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Wall milliseconds of one process from spawn to exit, and its CPU milliseconds; throws on a non-zero exit. */
function timed(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  input?: string,
): { wall: number; cpu: number } {
  const c = childCpuMs();
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { cwd, env, input, encoding: "utf8", timeout: 30_000 });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { wall, cpu: childCpuMs() - c };
}

/** Peak RSS in MB of one run of `argv`, reported by the process itself at exit through `hook`. */
function peakRssMb(hook: string, argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): number {
  const r = spawnSync(process.execPath, ["--require", hook, ...argv], { cwd, env, input, encoding: "utf8" });
  const m = /^KF_MAXRSS (\d+)$/m.exec(r.stderr);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function run(): void {
  const dir = mkdtempSync(join(tmpdir(), "kf-startup-"));
  try {
    const env = { ...process.env, SOPS_AGE_KEY_FILE: join(dir, "key.txt") };
    timed([CLI, "keygen", "-o", "key.txt"], dir, env);
    const recipient = /age1[0-9a-z]+/.exec(readFileSync(join(dir, "key.txt"), "utf8"))?.[0] ?? "";
    writeFileSync(join(dir, "plain.yaml"), "db:\n  user: app\n  password: correct-horse\nport: 5432\n");
    const enc = spawnSync(process.execPath, [CLI, "encrypt", "--age", recipient, "plain.yaml"], {
      cwd: dir,
      env,
      encoding: "utf8",
    });
    if (enc.status !== 0) throw new Error(`encrypt failed: ${enc.stderr}`);
    writeFileSync(join(dir, "s.yaml"), enc.stdout);
    const cases: { name: string; argv: string[]; input?: string }[] = [
      { name: "node -e 0", argv: ["-e", "0"] },
      { name: "keyfleet decrypt", argv: [CLI, "decrypt", "s.yaml"] },
      { name: "keyfleet exec-env", argv: [CLI, "exec-env", "s.yaml", "--", "true"] },
      { name: "keyfleet set", argv: [CLI, "set", "s.yaml", '["db"]["password"]'], input: "battery-staple\n" },
    ];
    const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    const cpu = new Map<string, number>(cases.map((c) => [c.name, 0]));
    for (const c of cases) timed(c.argv, dir, env, c.input); // warm the page cache and keyfleet's code cache
    for (let i = 0; i < RUNS; i++) {
      for (const c of cases) {
        const t = timed(c.argv, dir, env, c.input);
        times.get(c.name)?.push(t.wall);
        cpu.set(c.name, (cpu.get(c.name) ?? 0) + t.cpu);
      }
    }
    const hook = join(dir, "rss-hook.js");
    writeFileSync(
      hook,
      'process.on("exit", () => process.stderr.write("KF_MAXRSS " + process.resourceUsage().maxRSS + "\\n"));\n',
    );
    const rss = new Map(cases.map((c) => [c.name, peakRssMb(hook, c.argv, dir, env, c.input)]));
    const floorRss = rss.get("node -e 0") ?? Number.NaN;
    for (const c of cases) {
      const mb = rss.get(c.name) ?? Number.NaN;
      process.stdout.write(
        `peak rss (one run, not judged):     ${c.name.padEnd(17)} ${mb.toFixed(1)} MB (${(mb / floorRss).toFixed(2)}× node -e 0)\n`,
      );
    }
    const floor = median(times.get("node -e 0") ?? []);
    const floorCpu = (cpu.get("node -e 0") ?? 0) / RUNS;
    for (const c of cases) {
      const mean = (cpu.get(c.name) ?? 0) / RUNS;
      process.stdout.write(
        `cpu per process (mean, not judged): ${c.name.padEnd(17)} ${mean.toFixed(1)} ms (${(mean / floorCpu).toFixed(2)}× node -e 0)\n`,
      );
    }
    process.stdout.write(`start-up of a small YAML file, whole processes, medians of ${RUNS} interleaved runs\n`);
    report(
      cases.slice(1).map((c) => ({
        what: c.name,
        ours: median(times.get(c.name) ?? []),
        peer: floor,
        peerName: "node -e 0 (floor)",
        unit: "ms",
        maxRatio: 1.5,
      })),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

run();
