/**
 * Issue 9 §6: no plaintext outlives a killed command. Real child processes (the tsc-built dist/, as
 * the CLI runs) write with writeFileAtomic, writeFilesAtomic and `keyfleet decrypt --output`, and are
 * SIGKILLed at random points (a bounded loop). Every temp they leave is 0600 (a batch temp that is
 * complete has its target's own mode, see atomic-batch.ts), the targets are old or
 * new (never partial), and the next write into the directory removes the temps of the dead writers
 * but not those of a live one (pid and start time, so a reused pid does not protect a dead writer's).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, cleanupTmp, keygen, kf, ROOT, tmp } from "./cli-helpers";

// The built module, as the CLI loads it.
const atomic = require(join(ROOT, "dist/provider/fs/index.js")) as typeof import("../../provider/fs/index");

afterAll(cleanupTmp);

const TEMP = /\.kf-(\d+)-(\d+)-[0-9a-f]{12}\.tmp$/;
const temps = (d: string) => readdirSync(d).filter((n) => TEMP.test(n));

/**
 * Runs node with `args` and SIGKILLs it `ms` after it prints its first byte (or, with `fromStart`,
 * after it starts); resolves when it is gone. A 60 s guard bounds each run.
 */
function killAfter(
  args: string[],
  ms: number,
  cwd: string,
  env: Record<string, string> = {},
  fromStart = false,
): Promise<void> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, args, {
      cwd,
      stdio: ["ignore", "pipe", "ignore"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    });
    let t = setTimeout(() => c.kill("SIGKILL"), fromStart ? ms : 60_000);
    c.stdout?.once("data", () => {
      if (fromStart) return;
      clearTimeout(t);
      t = setTimeout(() => c.kill("SIGKILL"), ms);
    });
    c.on("exit", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** A seeded generator, so a failure can be replayed (the seed is in the test name). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe("SIGKILL during local writes", () => {
  const seed = Date.now() % 100_000;
  it(`single and batch writers killed at random points (seed ${seed}): temps 0600, files old or new, swept next time`, async () => {
    const d = tmp();
    const rand = rng(seed);
    const old = "old\n";
    const files = Array.from({ length: 40 }, (_, i) => join(d, `f${i}.yaml`));
    for (const f of files) writeFileSync(f, old, { mode: 0o644 });
    const mod = JSON.stringify(join(ROOT, "dist/provider/fs/index.js"));
    // new content: 2 MB of plaintext-like data, so a kill lands mid-write often
    const single = `const a=require(${mod});const v="SECRET-".repeat(300000);process.stdout.write("R");for(let i=0;i<1e6;i++)a.writeFileAtomic(${JSON.stringify(files[0])},v+"\\n",{mode:0o644});`;
    const batch = `const a=require(${mod});const v="SECRET-".repeat(40000);process.stdout.write("R");const fs=${JSON.stringify(files)};(async()=>{for(let i=0;i<1e6;i++)await a.writeFilesAtomic(fs.map(p=>({path:p,data:v+"\\n",mode:0o644})));})();`;
    let left = 0;
    for (let i = 0; i < 8; i++) {
      await killAfter(["-e", i % 2 ? batch : single], 20 + Math.floor(rand() * 300), d);
      const ts = temps(d);
      left += ts.length;
      // single writer: 0600 always; batch: 0600 while written, the target's own mode once complete
      for (const t of ts) expect(i % 2 ? [0o600, 0o644] : [0o600]).toContain(statSync(join(d, t)).mode & 0o777);
      for (const f of files) {
        const c = readFileSync(f, "utf8");
        expect(c === old || (c.startsWith("SECRET-") && c.endsWith("SECRET-\n"))).toBe(true);
        // 0600 only when the kill landed between the rename and the fchmod (more restrictive, never wider)
        expect([0o644, 0o600]).toContain(statSync(f).mode & 0o777);
      }
      // the next write into the directory removes every dead writer's temp
      atomic.writeFileAtomic(join(d, "next.txt"), "x");
      expect(temps(d)).toEqual([]);
    }
    // the loop must have exercised a kill that left temps behind at least once
    expect(left).toBeGreaterThan(0);
  }, 120_000);

  it("a live writer's temps are kept; a reused pid with another start time does not protect a dead writer's", () => {
    const d = tmp();
    const live = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const pid = live.pid as number;
      const start = atomic.processStart(pid) as string;
      expect(start).toMatch(/^\d+$/);
      writeFileSync(join(d, `.a.yaml.kf-${pid}-${start}-0123456789ab.tmp`), "live", { mode: 0o600 });
      writeFileSync(join(d, `.a.yaml.kf-${pid}-${Number(start) + 1}-0123456789ab.tmp`), "reused pid", { mode: 0o600 });
      writeFileSync(join(d, `.a.yaml.kf-4194304-1-0123456789ab.tmp`), "dead", { mode: 0o600 });
      writeFileSync(join(d, ".a.yaml.other.tmp"), "not ours");
      const removed = atomic.sweepDeadTemps(d).sort();
      expect(removed).toEqual(
        [`.a.yaml.kf-${pid}-${Number(start) + 1}-0123456789ab.tmp`, ".a.yaml.kf-4194304-1-0123456789ab.tmp"].sort(),
      );
      expect(readdirSync(d).sort()).toEqual(
        [`.a.yaml.kf-${pid}-${start}-0123456789ab.tmp`, ".a.yaml.other.tmp"].sort(),
      );
    } finally {
      live.kill("SIGKILL");
    }
  });
});

describe("SIGKILL during keyfleet decrypt --output", () => {
  it("leaves at most a 0600 temp, which the next decrypt --output into the directory removes", async () => {
    const d = tmp();
    const home = join(d, "home");
    mkdirSync(home);
    const me = keygen(d, "me", home);
    writeFileSync(join(d, "p.env"), `BIG=${"PLAINTEXT".repeat(400_000)}\n`);
    const enc = kf(["encrypt", "--age", me.recipient, "--output", "s.env", "p.env"], { cwd: d, home });
    expect(enc.code).toBe(0);
    const out = join(d, "out");
    mkdirSync(out);
    const rand = rng(Date.now() % 100_000);
    let left = 0;
    for (let i = 0; i < 6; i++) {
      await killAfter(
        [CLI, "decrypt", "s.env", "--output", join(out, "plain.env")],
        300 + Math.floor(rand() * 900),
        d,
        { HOME: home, SOPS_AGE_KEY_FILE: me.file },
        true,
      );
      const ts = temps(out);
      left += ts.length;
      for (const t of ts) expect(statSync(join(out, t)).mode & 0o777).toBe(0o600);
    }
    const r = spawnSync(process.execPath, [CLI, "decrypt", "s.env", "--output", join(out, "plain.env")], {
      cwd: d,
      env: { PATH: process.env.PATH ?? "", HOME: home, SOPS_AGE_KEY_FILE: me.file },
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(temps(out)).toEqual([]);
    expect(statSync(join(out, "plain.env")).mode & 0o777).toBe(0o600);
    expect(left).toBeGreaterThanOrEqual(0); // timing decides whether a kill lands mid-write; the sweep is asserted above
  }, 120_000);
});
