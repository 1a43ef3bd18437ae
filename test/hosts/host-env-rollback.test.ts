/**
 * HostEnv partial-failure policy (issue 10 §3), through the real dynamic-provider server and a real
 * sshd: a Create whose restart command fails rolls back (the env file and its restart marker are
 * removed again, because the engine records nothing for a failed Create); an Update whose restart
 * fails keeps the new file and the marker, and the next update retries the restart.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseRecipient } from "../../provider/age";
import { encrypt } from "../../provider/sops";
import { distRequire, distSshd, ProviderClient, root, serializeProvider } from "../from-dist";

const { startSshd } = distSshd();
const { hostEnvProvider } = distRequire("./dist/sdk/host-env.js") as typeof import("../../sdk/host-env");

const URN = "urn:pulumi:test::keyfleet::pulumi-nodejs:dynamic/keyfleet:HostEnv::rollback";
const alice = generateX25519();
let host: Awaited<ReturnType<typeof startSshd>>;
let client: import("../harness/engine/provider-client").ProviderClient;
let dir: string;

beforeAll(async () => {
  host = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "kf-hostenv-rollback-"));
  writeFileSync(
    join(dir, "app.env"),
    await encrypt("TOKEN=rollback-secret-value\n", { format: "dotenv", recipients: [parseRecipient(alice.recipient)] }),
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

it("create with a failing restart rolls back; update with a failing restart keeps the file and retries", async () => {
  const provider = (await serializeProvider(hostEnvProvider, "host-env")).text;
  const path = join(host.dataDir, "rb.env");
  const news = (onChange: string, v: string) => ({
    __provider: provider,
    connection: {
      host: host.host,
      port: host.port,
      user: host.user,
      privateKey: host.clientKeyPem,
      hostKey: host.hostKeyLine,
    },
    path,
    sources: [{ path: join(dir, "app.env"), secretFile: false }],
    env: { V: v },
    onChange,
  });
  const leftovers = () => readdirSync(host.dataDir).filter((f) => f.includes("rb.env"));
  const checked = async (n: Record<string, unknown>) => (await client.check({ urn: URN, news: n })).inputs;

  const err = (await client
    .create({ urn: URN, properties: await checked(news("exit 3", "1")) })
    .catch((e: unknown) => e)) as Error;
  expect(err).toBeInstanceOf(Error);
  // the restart's own message (exit code, how to see its output on the host: never the output) comes first
  expect(err.message).toMatch(
    /restart command after writing \S+rb\.env failed with exit code 3\b.*; create rolled back: \S+rb\.env and its restart marker were removed/s,
  );
  expect(err.message).not.toContain("rollback-secret-value");
  expect(existsSync(path)).toBe(false);
  expect(leftovers()).toEqual([]);

  // a create that succeeds, then an update whose restart fails: the file stays (the engine tracks it)
  const created = await client.create({ urn: URN, properties: await checked(news("true", "1")) });
  const n2 = await checked(news("exit 4", "2"));
  const upd = await client
    .update({ id: created.id, urn: URN, olds: created.properties, news: n2 })
    .catch((e: unknown) => e as Error);
  expect(String(upd)).toMatch(/failed with exit code 4/);
  expect(readFileSync(path, "utf8")).toContain("V='2'");
  expect(leftovers().length).toBe(2); // the file and its pending-restart marker
  // the next update (same content) retries the restart, which now succeeds, and clears the marker
  const ok = await client.update({
    id: created.id,
    urn: URN,
    olds: created.properties,
    news: await checked(news("true", "2")),
  });
  expect(ok.properties["restarted"]).toBe(true);
  expect(leftovers()).toEqual(["rb.env"]);
  await client.delete({ id: created.id, urn: URN, properties: ok.properties });
  expect(existsSync(path)).toBe(false);
}, 120_000);
