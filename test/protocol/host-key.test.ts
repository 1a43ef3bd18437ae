/**
 * HostKey through the real dynamic-provider server against a real sshd on 127.0.0.1.
 * Loads the tsc-built provider from dist/ (run `npx tsc -p tsconfig.json` first; `npm test` does).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import type { ProviderClient as ProviderClientT } from "../harness/engine/provider-client";
import { distRequire, distSshd, ProviderClient, root, serializeProvider } from "../from-dist";

const { startSshd } = distSshd();
const { hostKeyProvider } = distRequire("./dist/sdk/host-key.js") as typeof import("../../sdk/host-key");

const URN = "urn:pulumi:test::keyfleet::pulumi-nodejs:dynamic:Resource::web-1";
type Host = Awaited<ReturnType<typeof startSshd>>;

function keygenFingerprint(pubFile: string): string {
  return execFileSync("ssh-keygen", ["-lf", pubFile], { encoding: "utf8" }).split(" ")[1] as string;
}

describe("HostKey protocol (real sshd)", () => {
  let host: Host;
  let client: ProviderClientT;
  let providerText: string;
  beforeAll(async () => {
    host = await startSshd();
    providerText = (await serializeProvider(hostKeyProvider, "host-key")).text;
    client = await ProviderClient.start({ cwd: root, env: { KEYFLEET_ROOT: root } });
    await client.configure();
  });
  afterAll(async () => {
    await client?.stop();
    await host?.stop();
  });
  const news = (extra: Record<string, unknown>) => ({
    __provider: providerText,
    name: "web-1",
    host: host.host,
    port: host.port,
    ...extra,
  });

  it("creates with expectedFingerprint; fingerprint equals ssh-keygen -lf", async () => {
    const fp = keygenFingerprint(host.hostKeyFile + ".pub");
    const c = await client.check({ urn: URN, news: news({ expectedFingerprint: fp }) });
    expect(c.failures).toEqual([]);
    const r = await client.create({ urn: URN, properties: c.inputs });
    expect(r.properties["fingerprint"]).toBe(fp);
    expect(r.properties["sshRecipient"]).toBe(host.hostKeyLine);
    expect(r.properties["recipient"]).toMatch(/^age1[0-9a-z]{58}$/);
    expect(r.properties["recipient"]).toBe(r.properties["ageRecipient"]);
  });

  it("refuses a wrong expectedFingerprint, naming both fingerprints", async () => {
    const fp = keygenFingerprint(host.hostKeyFile + ".pub");
    const wrong = "SHA256:" + "A".repeat(43);
    const c = await client.check({ urn: URN, news: news({ expectedFingerprint: wrong }) });
    const err = await client.create({ urn: URN, properties: c.inputs }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(wrong);
    expect(err?.message).toContain(fp);
  });

  it("check demands exactly one way to trust, per property", async () => {
    const none = await client.check({ urn: URN, news: news({}) });
    expect(none.failures.map((f) => f.reason).join()).toMatch(/exactly one of publicKey/);
    const two = await client.check({
      urn: URN,
      news: news({ trustOnFirstUse: true, expectedFingerprint: "SHA256:" + "A".repeat(43) }),
    });
    expect(two.failures.length).toBeGreaterThan(0);
    const badPort = await client.check({ urn: URN, news: news({ trustOnFirstUse: true, port: 70000 }) });
    expect(badPort.failures.map((f) => f.property)).toContain("port");
  });

  it("mode ssh gives the native recipient; a pinned key is verified", async () => {
    const c = await client.check({ urn: URN, news: news({ publicKey: host.hostKeyLine, mode: "ssh" }) });
    expect(c.failures).toEqual([]);
    const r = await client.create({ urn: URN, properties: c.inputs });
    expect(r.properties["recipient"]).toBe(host.hostKeyLine);
  });

  it("a replaced host key is drift: read observes it, diff plans an update, update refuses until re-pinned", async () => {
    const c = await client.check({ urn: URN, news: news({ trustOnFirstUse: true }) });
    const created = await client.create({ urn: URN, properties: c.inputs });
    const first = created.properties["fingerprint"] as string;
    const same = await client.read({ id: created.id, urn: URN, properties: created.properties });
    expect((await client.diff({ id: created.id, urn: URN, olds: same.properties, news: c.inputs })).changes).toBe(
      "none",
    );

    await host.replaceHostKey();
    const fresh = keygenFingerprint(host.hostKeyFile + ".pub");
    expect(fresh).not.toBe(first);
    const refreshed = await client.read({ id: created.id, urn: URN, properties: created.properties });
    expect(refreshed.properties["observedFingerprint"]).toBe(fresh);
    expect(refreshed.properties["fingerprint"]).toBe(first); // never followed silently
    expect(refreshed.properties["recipient"]).toBe(created.properties["recipient"]);
    const d = await client.diff({ id: created.id, urn: URN, olds: refreshed.properties, news: c.inputs });
    expect(d.changes).toBe("some");
    const err = await client.update({ id: created.id, urn: URN, olds: refreshed.properties, news: c.inputs }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(first);
    expect(err?.message).toContain(fresh);
    const repinned = await client.check({ urn: URN, news: news({ expectedFingerprint: fresh }) });
    const u = await client.update({ id: created.id, urn: URN, olds: refreshed.properties, news: repinned.inputs });
    expect(u.properties["fingerprint"]).toBe(fresh);
  });
});
