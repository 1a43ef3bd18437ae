/**
 * Preview overhead of SecretFile (issue 13 §2): Check + Diff through the real dynamic-provider
 * server over gRPC for 1,000 SecretFile resources (no managed values, so no decryption), against
 * the same calls on a no-op dynamic provider through the same server (the floor: gRPC, the
 * server's provider cache and the marshalling of its own inputs and state).
 *
 * SecretFile is measured as a user runs it: keyfleet packed (`npm pack`) and installed with the
 * pinned @pulumi/pulumi into an empty project, offline from the local npm cache (bench/packed.ts).
 * The program side serialises the provider the installed SDK hands to Pulumi, from the project
 * directory, and the provider server runs there too. That is the judged figure. Also printed, not
 * judged: the same resources with the provider a checkout serialises (the `$KEYFLEET_ROOT` loader,
 * sdk/dynamic-provider.ts). With a cold npm cache only the checkout form is measured, and judged.
 *
 * Every side goes through the engine's own sequence, as test/harness/engine/steps.ts drives it:
 * Check + Create once for every resource to make the state, then each preview run sends, per
 * resource, Check (olds = the prior checked inputs) and Diff (olds = the prior outputs, oldInputs
 * = the prior inputs). Each side carries its own `__provider` text and its own state: SecretFile's
 * outputs (recipients, digests, …) and the no-op's empty ones. Runs alternate between the sides.
 *
 * Prints the median ms per resource of the runs for each side, and judges the ratio (bench/judge.ts).
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
import { installOffline, packTarball, pinnedDev } from "./packed";

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

/** One measured side: a serialised provider, its state, and its medians. */
interface Side {
  label: string;
  provider: string;
  state: Prior[];
  ms: number[];
  /** CPU ms per resource summed over the timed runs: [bench process (engine stand-in), provider server]. */
  cpu: [number, number];
}

/**
 * The serialised provider of keyfleet's SecretFile installed in `project`, made as the installed
 * SDK makes it (from the project directory, the working directory by then).
 * @throws Error when the installed SDK did not pick its packaged form (then this bench would
 *   measure the wrong thing)
 */
async function installedProviderText(project: string): Promise<string> {
  const sdk = join(project, "node_modules", "keyfleet", "dist", "sdk");
  const dp = require(join(sdk, "dynamic-provider.js")) as typeof import("../sdk/dynamic-provider");
  const sf = require(join(sdk, "secret-file.js")) as typeof import("../sdk/secret-file");
  const text = (await serializeProvider(dp.resourceProvider(sf.secretFileProvider), "installed secret-file")).text;
  if (!text.includes('require("keyfleet/dist/provider/resources/secret-file.js")'))
    throw new Error(
      `bench: the installed SDK serialised its checkout form (${text.length} chars), not the package form`,
    );
  return text;
}

async function main(): Promise<void> {
  const alice = generateX25519();
  const work = mkdtempSync(join(tmpdir(), "kf-bench-preview-"));
  try {
    const project = installOffline(work, "project", [packTarball(work), pinnedDev("@pulumi/pulumi")])?.dir;
    if (project) process.chdir(project);
    else process.stdout.write("installed layout not measured: the local npm cache is cold (run `npm ci` once)\n");
    const client = await ProviderClient.start({
      cwd: process.cwd(),
      env: { KEYFLEET_ROOT: root, SOPS_AGE_KEY: alice.identity },
    });
    try {
      await client.configure();
      await measureSides(client, work, project, alice.recipient);
    } finally {
      await client.stop();
    }
  } finally {
    process.chdir(root);
    rmSync(work, { recursive: true, force: true });
  }
}

async function measureSides(
  client: ProviderClient,
  work: string,
  project: string | undefined,
  recipient: string,
): Promise<void> {
  const urn = (side: number, i: number): string =>
    `urn:pulumi:bench::keyfleet::pulumi-nodejs:dynamic/keyfleet:SecretFile::s${side}f${i}`;
  const news = (side: number, i: number, p: string): PropertyMap => ({
    __provider: p,
    path: join(work, `s${side}f${i}.yaml`),
    recipients: [{ name: "alice", recipient }],
    recipientLabels: ["alice"],
    auditLog: join(work, "audit.jsonl"),
  });
  /** Check + Create for every resource (SecretFile writes its files here). */
  async function up(side: number, p: string): Promise<Prior[]> {
    const state: Prior[] = [];
    for (let i = 0; i < N; i++) {
      const c = await client.check({ urn: urn(side, i), news: news(side, i, p) });
      state.push({
        inputs: c.inputs,
        outputs: (await client.create({ urn: urn(side, i), properties: c.inputs })).properties,
      });
    }
    return state;
  }
  const texts: [string, string][] = [];
  if (project) texts.push(["keyfleet SecretFile, installed package", await installedProviderText(project)]);
  texts.push(["keyfleet SecretFile, checkout ($KEYFLEET_ROOT)", (await serializeProvider(secretFileProvider)).text]);
  texts.push(["no-op dynamic provider (floor)", (await serializeProvider(noop, "noop")).text]);
  const sides: Side[] = [];
  for (const [label, provider] of texts)
    sides.push({ label, provider, state: await up(sides.length, provider), ms: [], cpu: [0, 0] });

  /** One preview of all N resources of side `s`; ms per resource. */
  async function previewRun(s: number, counted: boolean): Promise<void> {
    const side = sides[s] as Side;
    const c0 = process.cpuUsage();
    const s0 = cpuMsOf(client.pid);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const prior = side.state[i] as Prior;
      const c = await client.check({ urn: urn(s, i), olds: prior.inputs, news: news(s, i, side.provider) });
      const d = await client.diff({
        id: `s${s}f${i}`,
        urn: urn(s, i),
        olds: prior.outputs,
        news: c.inputs,
        oldInputs: prior.inputs,
      });
      if (c.failures.length > 0 || d.changes !== "none") throw new Error(`unexpected check or diff on ${urn(s, i)}`);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / N;
    const c1 = process.cpuUsage(c0);
    if (!counted) return;
    side.ms.push(ms);
    side.cpu[0] += (c1.user + c1.system) / 1000 / N / RUNS;
    side.cpu[1] += (cpuMsOf(client.pid) - s0) / N / RUNS;
  }
  for (let s = 0; s < sides.length; s++) await previewRun(s, false); // warm-up, not counted
  for (let r = 0; r < RUNS; r++) {
    // alternate the order each round, so a drift in machine load hits every side alike
    const order = sides.map((_, s) => s);
    if (r % 2 === 1) order.reverse();
    for (const s of order) await previewRun(s, true);
  }

  const out = (s: string): boolean => process.stdout.write(`${s}\n`);
  const floor = sides[sides.length - 1] as Side;
  const f = median(floor.ms);
  out(`SecretFile preview (Check+Diff through the dynamic-provider server, ${N} resources, median of ${RUNS} runs)`);
  for (const side of sides) {
    const m = median(side.ms);
    out(
      `  ${side.label.padEnd(46)}: ${m.toFixed(3)} ms/resource (${(m / f).toFixed(2)}× floor), __provider ${side.provider.length} chars; ` +
        `CPU ms/resource: stand-in engine ${side.cpu[0].toFixed(3)} + provider server ${side.cpu[1].toFixed(3)}`,
    );
  }
  const judged = sides[0] as Side;
  report([
    {
      what: `${judged.label}: Check+Diff per resource (${N})`,
      ours: median(judged.ms),
      peer: f,
      peerName: "no-op provider (floor)",
      unit: "ms",
      maxRatio: MAX_OVER_FLOOR,
    },
  ]);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
