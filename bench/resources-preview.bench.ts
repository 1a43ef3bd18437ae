/**
 * Preview overhead of SecretFile: Check + Diff through the real dynamic-provider server for 1,000
 * SecretFile resources (no managed values, so no decryption), against the same calls on a
 * trivial no-op dynamic provider (the floor: gRPC + provider deserialisation cache + marshalling).
 *
 * Prints the median ms per resource of several runs for both, and judges the ratio (bench/judge.ts).
 * BENCH_N (default 1000) sets the number of resources.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ProviderClient } from "../test/harness/engine/provider-client";
import { serializeProvider } from "../test/harness/engine/serialize";
import { secretFileProvider } from "../sdk/secret-file";
import { generateX25519 } from "../provider/age";
import { median, report } from "./judge";

const N = Number(process.env.BENCH_N ?? 1000);
/** Overhead allowed over the no-op provider: check parses the recipients, diff reads and hashes the file. */
const MAX_OVER_FLOOR = 3;
const RUNS = 5;
const root = resolve(__dirname, "../..");

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

async function main(): Promise<void> {
  const alice = generateX25519();
  const client = await ProviderClient.start({ cwd: root, env: { KEYFLEET_ROOT: root, SOPS_AGE_KEY: alice.identity } });
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-preview-")); // after the server started: a failed start leaves no dir
  try {
    await client.configure();
    const ours = (await serializeProvider(secretFileProvider, "secret-file")).text;
    const floor = (await serializeProvider(noop, "noop")).text;
    const urn = (i: number) => `urn:pulumi:bench::keyfleet::pulumi-nodejs:dynamic:Resource::f${i}`;
    const news = (i: number, p: string) => ({
      __provider: p,
      path: join(dir, `f${i}.yaml`),
      recipients: [{ name: "alice", recipient: alice.recipient }],
      recipientLabels: ["alice"],
      auditLog: join(dir, "audit.jsonl"),
    });
    // state: 1,000 files created through the provider
    const olds: Record<string, unknown>[] = [];
    for (let i = 0; i < N; i++) {
      const c = await client.check({ urn: urn(i), news: news(i, ours) });
      olds.push((await client.create({ urn: urn(i), properties: c.inputs })).properties);
    }
    async function previewRun(p: string, state: (i: number) => Record<string, unknown>): Promise<number> {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) {
        const c = await client.check({ urn: urn(i), olds: state(i), news: news(i, p) });
        const d = await client.diff({ id: `f${i}`, urn: urn(i), olds: state(i), news: c.inputs });
        if (d.changes !== "none") throw new Error(`unexpected diff on f${i}: ${d.changes}`);
      }
      return Number(process.hrtime.bigint() - t0) / 1e6 / N;
    }
    const oursMs: number[] = [];
    const floorMs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      oursMs.push(await previewRun(ours, (i) => olds[i] as Record<string, unknown>));
      floorMs.push(await previewRun(floor, (i) => ({ ...news(i, floor) })));
    }
    const o = median(oursMs);
    const f = median(floorMs);
    process.stdout.write(`SecretFile preview (Check+Diff, ${N} resources, median of ${RUNS} runs)\n`);
    process.stdout.write(`  keyfleet SecretFile : ${o.toFixed(3)} ms/resource\n`);
    process.stdout.write(`  no-op dynamic (floor): ${f.toFixed(3)} ms/resource\n`);
    process.stdout.write(`  overhead ${(o - f).toFixed(3)} ms/resource\n`);
    report([
      {
        what: "SecretFile Check+Diff per resource",
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
