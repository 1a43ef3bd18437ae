/**
 * Preview overhead of SecretFile (issue 13 §2): Check + Diff through the real dynamic-provider
 * server over gRPC for 1,000 SecretFile resources (no managed values, so no decryption), against
 * the same calls on a no-op dynamic provider through the same server (the floor: gRPC, the
 * server's provider cache and the marshalling of its own inputs and state).
 *
 * Both providers go through the engine's own sequence, as test/harness/engine/steps.ts drives it:
 * Check + Create once for every resource to make the state, then each preview run sends, per
 * resource, Check (olds = the prior checked inputs) and Diff (olds = the prior outputs, oldInputs
 * = the prior inputs). Each side carries its own `__provider` text and its own state: SecretFile's
 * outputs (recipients, digests, …) and the no-op's empty ones. Runs alternate between the two.
 *
 * Prints the median ms per resource of the runs for both, and judges the ratio (bench/judge.ts).
 * A third, unjudged line sends the no-op SecretFile's exact payloads (its state, and a `__provider`
 * of the same length), to tell the provider's own work from the marshalling of what it carries.
 * BENCH_N (default 1000) sets the number of resources, BENCH_RUNS (default 7) the runs.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ProviderClient } from "../test/harness/engine/provider-client";
import type { PropertyMap } from "../test/harness/engine/marshal";
import { serializeProvider } from "../test/harness/engine/serialize";
import { secretFileProvider } from "../sdk/secret-file";
import { generateX25519 } from "../provider/age";
import { median, report } from "./judge";

const N = Number(process.env["BENCH_N"] ?? 1000);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 7);
/** Issue 13 §2: SecretFile Check + Diff at most 1.2× the no-op provider through the same server. */
const MAX_OVER_FLOOR = 1.2;
const root = resolve(__dirname, "../..");

/**
 * CPU ms used so far by the process `pid` (user + system, from /proc; Linux only, else NaN). Printed
 * beside the wall times: on a busy machine CPU time tells the provider server's own work apart.
 */
function cpuMsOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks at USER_HZ 100
  } catch {
    return Number.NaN;
  }
}

/** The floor: a dynamic provider that does nothing. */
const noop = {
  async check(_olds: unknown, news: unknown) {
    return { inputs: news };
  },
  async diff() {
    return { changes: false };
  },
  async create() {
    return { id: "x", outs: {} };
  },
};

/** One resource's state as the engine keeps it: the checked inputs and the outputs of Create. */
interface Prior {
  inputs: PropertyMap;
  outputs: PropertyMap;
}

async function main(): Promise<void> {
  const alice = generateX25519();
  const client = await ProviderClient.start({ cwd: root, env: { KEYFLEET_ROOT: root, SOPS_AGE_KEY: alice.identity } });
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-preview-")); // after the server started: a failed start leaves no dir
  try {
    await client.configure();
    const ours = (await serializeProvider(secretFileProvider, "secret-file")).text;
    const floor = (await serializeProvider(noop, "noop")).text;
    const urn = (i: number) => `urn:pulumi:bench::keyfleet::pulumi-nodejs:dynamic:Resource::f${i}`;
    const news = (i: number, p: string): PropertyMap => ({
      __provider: p,
      path: join(dir, `f${i}.yaml`),
      recipients: [{ name: "alice", recipient: alice.recipient }],
      recipientLabels: ["alice"],
      auditLog: join(dir, "audit.jsonl"),
    });
    /** Check + Create for every resource (SecretFile writes its 1,000 files here). */
    async function up(p: string): Promise<Prior[]> {
      const state: Prior[] = [];
      for (let i = 0; i < N; i++) {
        const c = await client.check({ urn: urn(i), news: news(i, p) });
        state.push({
          inputs: c.inputs,
          outputs: (await client.create({ urn: urn(i), properties: c.inputs })).properties,
        });
      }
      return state;
    }
    const oursState = await up(ours);
    const floorState = await up(floor);
    // info only: the no-op carrying SecretFile's payloads (same state, a provider text of the same length)
    const padded = `${floor}\n//${"x".repeat(Math.max(0, ours.length - floor.length - 3))}`;
    const swap = (m: PropertyMap): PropertyMap => ({ ...m, __provider: padded });
    const carryState = oursState.map((s) => ({ inputs: swap(s.inputs), outputs: swap(s.outputs) }));

    /** CPU ms per resource of each side's timed runs: [bench process (engine stand-in), provider server]. */
    const cpu = new Map<string, [number, number]>();
    /** One preview of all N resources; ms per resource. */
    async function previewRun(p: string, state: Prior[], counted = true): Promise<number> {
      const c0 = process.cpuUsage();
      const s0 = cpuMsOf(client.pid);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) {
        const prior = state[i] as Prior;
        const c = await client.check({ urn: urn(i), olds: prior.inputs, news: news(i, p) });
        const d = await client.diff({
          id: `f${i}`,
          urn: urn(i),
          olds: prior.outputs,
          news: c.inputs,
          oldInputs: prior.inputs,
        });
        if (c.failures.length > 0 || d.changes !== "none") throw new Error(`unexpected check or diff on f${i}`);
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6 / N;
      const c1 = process.cpuUsage(c0);
      const [b, srv] = cpu.get(p) ?? [0, 0];
      if (counted)
        cpu.set(p, [b + (c1.user + c1.system) / 1000 / N / RUNS, srv + (cpuMsOf(client.pid) - s0) / N / RUNS]);
      return ms;
    }
    // warm-up: one run of each, not counted
    await previewRun(ours, oursState, false);
    await previewRun(floor, floorState, false);
    await previewRun(padded, carryState, false);
    const oursMs: number[] = [];
    const floorMs: number[] = [];
    const carryMs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      oursMs.push(await previewRun(ours, oursState));
      floorMs.push(await previewRun(floor, floorState));
      carryMs.push(await previewRun(padded, carryState));
    }
    const o = median(oursMs);
    const f = median(floorMs);
    const c = median(carryMs);
    const out = (s: string): boolean => process.stdout.write(`${s}\n`);
    out(`SecretFile preview (Check+Diff through the dynamic-provider server, ${N} resources, median of ${RUNS} runs)`);
    out(`  keyfleet SecretFile                        : ${o.toFixed(3)} ms/resource`);
    out(`  no-op dynamic provider (floor)             : ${f.toFixed(3)} ms/resource`);
    out(`  no-op carrying SecretFile's payloads (info): ${c.toFixed(3)} ms/resource`);
    out(
      `  overhead over the floor ${(o - f).toFixed(3)} ms/resource, ${(o - c).toFixed(3)} of it beyond carrying SecretFile's payloads (its own Check + Diff)`,
    );
    const cpuLine = (p: string): string => {
      const [b, srv] = cpu.get(p) ?? [Number.NaN, Number.NaN];
      return `stand-in engine ${b.toFixed(3)} + provider server ${srv.toFixed(3)}`;
    };
    out(`  CPU ms/resource (mean): SecretFile ${cpuLine(ours)}; floor ${cpuLine(floor)}; carrying ${cpuLine(padded)}`);
    out(`  __provider text: SecretFile ${ours.length} chars, no-op ${floor.length} chars`);
    report([
      {
        what: `SecretFile Check+Diff per resource (${N})`,
        ours: o,
        peer: f,
        peerName: "no-op provider (floor)",
        unit: "ms",
        maxRatio: MAX_OVER_FLOOR,
      },
    ]);
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
