/**
 * HostEnv fault injection through the real dynamic-provider server: during 12 updates the sshd
 * child serving the provider's connection is killed (SIGKILL or SIGTERM) at a random moment. A
 * poller parses the remote file the whole time: it is always the previous or the new version, never
 * partial or empty; after each faulted update, the next update converges. Counts are printed.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseRecipient } from "../../provider/age";
import { encrypt } from "../../provider/sops";
import { parseEnv } from "../../provider/render";
import { distRequire, distSshd, ProviderClient, root, serializeProvider } from "../from-dist";

const { startSshd } = distSshd();
const { hostEnvProvider } = distRequire("./dist/sdk/host-env.js") as typeof import("../../sdk/host-env");

const URN = "urn:pulumi:test::keyfleet::pulumi-nodejs:dynamic:Resource::faults";
type Host = Awaited<ReturnType<typeof startSshd>>;
const alice = generateX25519();
// ~44 KiB value so a kill often lands mid-transfer
const BIG = "big-" + randomBytes(32 * 1024).toString("base64");

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

let host: Host;
let client: import("../harness/engine/provider-client").ProviderClient;
let dir: string;
beforeAll(async () => {
  host = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "kf-hostenv-faults-"));
  writeFileSync(
    join(dir, "big.env"),
    await encrypt(`BIG=${BIG}\n`, { format: "dotenv", recipients: [parseRecipient(alice.recipient)] }),
  );
  client = await ProviderClient.start({
    cwd: root,
    env: { KEYFLEET_ROOT: root, SOPS_AGE_KEY: alice.identity, SOPS_AGE_KEY_FILE: undefined, HOME: dir },
  });
  await client.configure();
}, 60_000);
afterAll(async () => {
  await client?.stop();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("12 updates with the sshd child killed mid-push: never partial, always converges", async () => {
  const providerText = (await serializeProvider(hostEnvProvider, "host-env")).text;
  const path = join(host.dataDir, "app.env");
  const news = (v: number) => ({
    __provider: providerText,
    connection: {
      host: host.host,
      port: host.port,
      user: host.user,
      privateKey: host.clientKeyPem,
      hostKey: host.hostKeyLine,
    },
    path,
    sources: [{ path: join(dir, "big.env"), secretFile: false }],
    env: { V: String(v) },
  });
  const version = (): number | undefined => {
    const m = new Map(parseEnv(readFileSync(path, "utf8"), "dotenv"));
    return m.get("BIG") === BIG && m.size === 2 ? Number(m.get("V")) : undefined;
  };
  const seed = Number(process.env["FAULT_SEED"] ?? Date.now() % 100000);
  const rand = rng(seed);
  const t0 = Date.now();
  let state = await client.create({ urn: URN, properties: news(0) });
  const pushMs = Math.max(5, Date.now() - t0);
  let current = 0;
  const bad: string[] = [];
  let reads = 0;
  const poll = setInterval(() => {
    try {
      const v = version();
      reads++;
      if (v === undefined) bad.push("unparseable or partial");
    } catch (e) {
      bad.push((e as Error).message.slice(0, 80));
    }
  }, 5);
  const counts = { updates: 0, sigkill: 0, sigterm: 0, faultedFailed: 0, faultedSucceeded: 0, sawOld: 0, sawNew: 0 };
  try {
    for (let i = 1; i <= 12; i++) {
      counts.updates++;
      const upd = client.update({ id: state.id, urn: URN, olds: state.properties, news: news(i) }).then(
        (r: { properties: Record<string, unknown> }) => r,
        () => undefined,
      );
      await new Promise((r) => setTimeout(r, Math.floor(rand() * pushMs * 1.6)));
      const sig = rand() < 0.5 ? "SIGKILL" : "SIGTERM";
      if (sig === "SIGKILL") counts.sigkill++;
      else counts.sigterm++;
      for (const pid of host.childPids()) {
        try {
          process.kill(pid, sig);
        } catch {
          /* exited */
        }
      }
      const r = await upd;
      if (r) counts.faultedSucceeded++;
      else counts.faultedFailed++;
      const seen = version();
      expect(seen === current || seen === i, `update ${i} (seed ${seed}) left ${seen}`).toBe(true);
      if (seen === i) counts.sawNew++;
      else counts.sawOld++;
      if (r) expect(seen).toBe(i);
      // converge: the next apply brings the host to version i
      const again = await client.update({
        id: state.id,
        urn: URN,
        olds: r?.properties ?? state.properties,
        news: news(i),
      });
      state = { id: state.id, properties: again.properties };
      expect(version()).toBe(i);
      current = i;
    }
  } finally {
    clearInterval(poll);
  }
  console.log(
    `HostEnv fault injection (seed ${seed}, clean push ${pushMs} ms): ${JSON.stringify({ ...counts, pollerReads: reads, partialOrEmptySeen: bad.length })}`,
  );
  expect(bad).toEqual([]);
  expect(reads).toBeGreaterThan(20);
  expect(readdirSync(host.dataDir).filter((f) => f.includes(".kftmp."))).toEqual([]);
  expect(existsSync(path)).toBe(true);
}, 120_000);
