/**
 * Preview overhead: Check + Diff through the REAL dynamic-provider server for N resources
 * (default 1,000), median per resource over several runs, for a given provider against a no-op
 * provider (the floor: gRPC round trips + the server's own work); judges the ratio (bench/judge.ts).
 *
 * Usage: node dist/bench/preview.bench.js [providerModule] [exportName] [N]
 *   providerModule: compiled module exporting the provider object (default: the harness counter
 *   fixture); it may also export `benchInputs(i, dir): { olds, news }` giving prior outputs and new
 *   inputs for resource i (default: counter-shaped inputs). The judged SecretFile figure of issue 13
 * §2 is bench/resources-preview.bench.ts, which follows the engine's own Check/Diff arguments.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ProviderClient } from "../test/harness/engine/provider-client";
import { serializeProvider } from "../test/harness/engine/serialize";
import { median, report } from "./judge";

type Inputs = (i: number, dir: string) => { olds: Record<string, unknown>; news: Record<string, unknown> };
const defaultInputs: Inputs = (i, dir) => ({
  olds: { path: join(dir, `f${i}.txt`), value: "a", secretValue: "", writes: 1 },
  news: { path: join(dir, `f${i}.txt`), value: i % 2 ? "a" : "b" },
});

const noop = {
  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return { inputs: news };
  },
  async diff() {
    return { changes: false };
  },
  async create() {
    return { id: "x" };
  },
};

async function measure(pc: ProviderClient, provider: string, inputs: Inputs, n: number, dir: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const { olds, news } = inputs(i, dir);
    const urn = `urn:pulumi:bench::bench::pulumi-nodejs:dynamic:Resource::r${i}`;
    const checked = await pc.check({ urn, olds, news: { ...news, __provider: provider } });
    await pc.diff({ id: `id${i}`, urn, olds: { ...olds, __provider: provider }, news: checked.inputs });
  }
  return Number(process.hrtime.bigint() - t0) / 1e6 / n;
}

async function main(): Promise<void> {
  const modPath = resolve(process.argv[2] ?? join(__dirname, "../test/harness/engine/fixtures/counter-resource.js"));
  const exportName = process.argv[3] ?? "counterProvider";
  const n = Number(process.argv[4] ?? 1000);
  const mod = require(modPath) as Record<string, unknown>;
  const target = mod[exportName];
  if (typeof target !== "object" || target === null)
    throw new Error(`${modPath} has no provider object export ${exportName}`);
  const inputs = (typeof mod["benchInputs"] === "function" ? mod["benchInputs"] : defaultInputs) as Inputs;
  const ours = (await serializeProvider(target, exportName)).text;
  const floor = (await serializeProvider(noop, "noop")).text;
  const pc = await ProviderClient.start({ cwd: resolve(__dirname, "../..") });
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-preview-")); // after the server started: a failed start leaves no dir
  try {
    await pc.configure();
    await measure(pc, ours, inputs, Math.min(n, 100), dir); // warm-up
    await measure(pc, floor, inputs, Math.min(n, 100), dir);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < 5; r++) {
      a.push(await measure(pc, ours, inputs, n, dir));
      b.push(await measure(pc, floor, inputs, n, dir));
    }
    const ma = median(a);
    const mb = median(b);
    console.log(`preview Check+Diff, ${n} resources, median of 5 runs, per resource:`);
    console.log(`  ${exportName.padEnd(18)} ${ma.toFixed(3)} ms`);
    console.log(`  no-op provider     ${mb.toFixed(3)} ms (floor: server round trips)`);
    report([
      {
        what: `Check+Diff per resource (${exportName})`,
        ours: ma,
        peer: mb,
        peerName: "no-op provider (floor)",
        unit: "ms",
        maxRatio: 2,
      },
    ]);
  } finally {
    await pc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
