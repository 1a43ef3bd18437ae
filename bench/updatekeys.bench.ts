/**
 * Scale of files (issue 13 §5): `keyfleet updatekeys -y` over 1,000 and over 10,000 files, as whole
 * processes of the built CLI (`dist/cli/bin.js`), after one recipient is added to the `.sops.yaml`
 * creation rule. Each file is a small realistic sops YAML file: 20 keys, 20 X25519 recipients.
 *
 * Fixture: TEMPLATES distinct files are encrypted with keyfleet's own `encrypt` (each its own data
 * key) and copied round-robin to every path, so the fixture is quick to make; re-keying does the
 * same work for each copy (unwrap with the caller's identity, wrap for the newcomer, re-emit, MAC
 * kept). Before every run the files, the rule and the project's audit log are put back as they were.
 *
 * Judged (bench/judge.ts):
 * - linearity: t10k against the floor 10 × t1k (the 1,000-file time scaled, same run), ≤ 1.2×;
 * - memory: the peak RSS of the 10,000-file process (`process.resourceUsage().maxRSS` of that process, written at its exit)
 *   against the 400 MB limit, ≤ 1×.
 * t1k is the median of SMALL_RUNS runs, t10k of BIG_RUNS (fewer, said in the output).
 * Knobs: UPDATEKEYS_BENCH_SMALL (1000), UPDATEKEYS_BENCH_BIG (10000), UPDATEKEYS_BENCH_SMALL_RUNS (3),
 * UPDATEKEYS_BENCH_BIG_RUNS (1).
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseRecipient } from "../provider/age/index.js";
import { encrypt } from "../provider/sops/index.js";
import { median, report } from "./judge.js";

const SMALL = Number(process.env.UPDATEKEYS_BENCH_SMALL ?? 1000);
const BIG = Number(process.env.UPDATEKEYS_BENCH_BIG ?? 10_000);
const SMALL_RUNS = Number(process.env.UPDATEKEYS_BENCH_SMALL_RUNS ?? 3);
const BIG_RUNS = Number(process.env.UPDATEKEYS_BENCH_BIG_RUNS ?? 1);
const KEYS = 20;
const RECIPIENTS = 20;
const TEMPLATES = 50;
const RSS_LIMIT_MB = 400;
const CLI = join(__dirname, "..", "cli", "bin.js");
/**
 * Loaded into the timed process with `--require`: at exit it writes its own peak RSS (KB) and user
 * and system CPU (µs) from `process.resourceUsage()` to the file named by KF_BENCH_USAGE (no need
 * for GNU time, which a plain machine may lack).
 */
const USAGE_HOOK =
  'process.on("exit", () => { const u = process.resourceUsage(); require("node:fs").writeFileSync(' +
  'process.env.KF_BENCH_USAGE, u.maxRSS + " " + u.userCPUTime + " " + u.systemCPUTime + "\\n"); });\n';

interface Project {
  dir: string;
  files: string[];
  env: NodeJS.ProcessEnv;
}

interface Fixture {
  templates: string[];
  rule: (extra: string[]) => string;
  identity: string;
  secrets: string[];
}

async function makeFixture(): Promise<Fixture> {
  const keys = Array.from({ length: RECIPIENTS }, () => generateX25519());
  const recipients = keys.map((k) => parseRecipient(k.recipient));
  const templates: string[] = [];
  const secrets: string[] = [];
  for (let t = 0; t < TEMPLATES; t++) {
    const values = Array.from({ length: KEYS }, (_, i) => `value-${t}-${i}-${"x".repeat(24)}`);
    secrets.push(...values);
    const plain = values.map((v, i) => `key_${i}: ${v}`).join("\n") + "\n";
    templates.push(await encrypt(plain, { format: "yaml", recipients }));
  }
  const rule = (extra: string[]): string =>
    "creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    age: >-\n      " +
    [...keys.map((k) => k.recipient), ...extra].join(",\n      ") +
    "\n";
  return { templates, rule, identity: (keys[0] as { identity: string }).identity, secrets };
}

function makeProject(root: string, n: number, fx: Fixture): Project {
  const dir = join(root, `p${n}`);
  mkdirSync(join(dir, "secrets"), { recursive: true });
  writeFileSync(join(dir, "key.txt"), fx.identity + "\n", { mode: 0o600 });
  const files = Array.from({ length: n }, (_, i) => `secrets/f${i}.yaml`);
  return { dir, files, env: { ...process.env, SOPS_AGE_KEY_FILE: join(dir, "key.txt") } };
}

/** Puts the files, the rule (20 recipients) and the audit log back as before any run. */
function reset(p: Project, fx: Fixture): void {
  p.files.forEach((f, i) => writeFileSync(join(p.dir, f), fx.templates[i % TEMPLATES] as string));
  writeFileSync(join(p.dir, ".sops.yaml"), fx.rule([]));
  rmSync(join(p.dir, ".keyfleet"), { recursive: true, force: true });
}

interface RunFigures {
  /** Wall milliseconds, spawn to exit. */
  ms: number;
  /** Peak RSS of the CLI process. */
  rssMb: number;
  /** User + system CPU seconds of the CLI process (less disturbed by other load than wall time). */
  cpuS: number;
}

/** One `keyfleet updatekeys -y` over every file after adding a recipient. */
function runOnce(p: Project, fx: Fixture): RunFigures {
  reset(p, fx);
  writeFileSync(join(p.dir, ".sops.yaml"), fx.rule([generateX25519().recipient]));
  const timeOut = join(p.dir, "usage.txt");
  const hook = join(p.dir, "usage-hook.js");
  writeFileSync(hook, USAGE_HOOK);
  const errFile = join(p.dir, "stderr.txt");
  const errFd = openSync(errFile, "w");
  const t = process.hrtime.bigint();
  let r;
  try {
    r = spawnSync(process.execPath, ["--require", hook, CLI, "updatekeys", "-y", ...p.files], {
      cwd: p.dir,
      env: { ...p.env, KF_BENCH_USAGE: timeOut },
      stdio: ["ignore", "ignore", errFd],
      timeout: 600_000,
    });
  } finally {
    closeSync(errFd);
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const err = readFileSync(errFile, "utf8");
  if (r.status !== 0)
    throw new Error(`updatekeys over ${p.files.length} files exited ${r.status}: ${err.slice(-2000)}`);
  const updated = err.split("\n").filter((l) => l.endsWith("(1 added, 0 removed)")).length;
  if (updated !== p.files.length) throw new Error(`updatekeys updated ${updated} of ${p.files.length} files`);
  const leak = fx.secrets.find((s) => err.includes(s));
  if (leak !== undefined) throw new Error("updatekeys printed a secret value");
  const [rssKb, userUs, sysUs] = readFileSync(timeOut, "utf8").trim().split(" ").map(Number);
  return { ms, rssMb: (rssKb ?? Number.NaN) / 1024, cpuS: ((userUs ?? Number.NaN) + (sysUs ?? Number.NaN)) / 1e6 };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "kf-updatekeys-bench-"));
  try {
    const t0 = performance.now();
    const fx = await makeFixture();
    const small = makeProject(root, SMALL, fx);
    const big = makeProject(root, BIG, fx);
    process.stdout.write(
      `fixture: ${TEMPLATES} yaml files × ${KEYS} keys × ${RECIPIENTS} recipients encrypted with keyfleet's encrypt ` +
        `(${((performance.now() - t0) / 1000).toFixed(1)} s), copied round-robin to ${SMALL} and ${BIG} paths\n`,
    );
    const smallRuns: RunFigures[] = [];
    const bigRuns: RunFigures[] = [];
    // interleaved, so that a change in machine load hits both sizes
    for (let i = 0; i < Math.max(SMALL_RUNS, BIG_RUNS); i++) {
      if (i < SMALL_RUNS) smallRuns.push(runOnce(small, fx));
      if (i < BIG_RUNS) bigRuns.push(runOnce(big, fx));
    }
    const t1k = median(smallRuns.map((r) => r.ms)) / 1000;
    const t10k = median(bigRuns.map((r) => r.ms)) / 1000;
    const rss = Math.max(...bigRuns.map((r) => r.rssMb));
    const scale = BIG / SMALL;
    report([
      {
        what: `updatekeys -y × ${BIG} files`,
        ours: t10k,
        peer: scale * t1k,
        peerName: `${scale} × t(${SMALL} files) (floor: linear)`,
        unit: "s",
        maxRatio: 1.2,
      },
      {
        what: `peak RSS, updatekeys × ${BIG}`,
        ours: rss,
        peer: RSS_LIMIT_MB,
        peerName: "limit",
        unit: "MB",
        maxRatio: 1,
      },
    ]);
    const sec = (r: RunFigures): string => `${(r.ms / 1000).toFixed(2)} s`;
    const mb = (r: RunFigures): string => `${r.rssMb.toFixed(0)} MB`;
    const cpu = (r: RunFigures): string => `${r.cpuS.toFixed(2)} s`;
    const runs = (n: number): string => `${n} run${n === 1 ? "" : "s"}`;
    const c1k = median(smallRuns.map((r) => r.cpuS));
    const c10k = median(bigRuns.map((r) => r.cpuS));
    process.stdout.write(
      `t(${SMALL}) median of ${runs(smallRuns.length)}: ${smallRuns.map(sec).join(", ")} (CPU ${smallRuns.map(cpu).join(", ")}; peak RSS ${smallRuns.map(mb).join(", ")})\n` +
        `t(${BIG}) median of ${runs(bigRuns.length)} (fewer: each takes ${scale}× as long): ${bigRuns.map(sec).join(", ")} (CPU ${bigRuns.map(cpu).join(", ")}; peak RSS ${bigRuns.map(mb).join(", ")})\n` +
        `not judged: CPU time (user + system) ${c10k.toFixed(1)} s vs ${scale} × ${c1k.toFixed(2)} s = ${(c10k / (scale * c1k)).toFixed(2)}× (less disturbed by other load than wall time)\n` +
        `each run: a whole \`keyfleet updatekeys -y\` process (dist/cli/bin.js) after one recipient is added to the rule; files, rule and audit log reset before each; peak RSS and CPU from the process's own resourceUsage() at exit\n`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`updatekeys bench failed: ${String(e)}\n`);
  process.exit(1);
});
