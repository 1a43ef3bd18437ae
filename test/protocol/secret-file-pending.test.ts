/**
 * `pendingRotations` through the real dynamic-provider server: removing a recipient makes the keys
 * it could read pending (names only, in the serialised state), and a new value set through the
 * provider clears its key. Loads the tsc-built provider from dist/.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519 } from "../../provider/age";
import type { ProviderClient as ProviderClientT } from "../harness/engine/provider-client";
import { distRequire, ProviderClient, root, serializeProvider } from "../from-dist";

const { secretFileProvider } = distRequire("./dist/sdk/secret-file.js") as typeof import("../../sdk/secret-file");

type Props = Record<string, unknown>;
const alice = generateX25519();
const bob = generateX25519();
const urn = (n: string) => `urn:pulumi:test::keyfleet::pulumi-nodejs:dynamic:Resource::${n}`;

describe("SecretFile pendingRotations through the provider server", () => {
  let client: ProviderClientT;
  let sfText: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-sfpp-"));
    sfText = (await serializeProvider(secretFileProvider, "secret-file")).text;
    client = await ProviderClient.start({
      cwd: root,
      env: { KEYFLEET_ROOT: root, SOPS_AGE_KEY: alice.identity, SOPS_AGE_KEY_FILE: undefined, HOME: dir },
    });
    await client.configure();
  });
  afterAll(async () => {
    await client?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a removed recipient leaves its keys pending until the provider sets new values", async () => {
    const base: Props = {
      __provider: sfText,
      path: join(dir, "app.yaml"),
      recipientLabels: ["alice"],
      auditLog: join(dir, "audit.jsonl"),
    };
    const a = { name: "alice", recipient: alice.recipient };
    const b = { name: "bob", recipient: bob.recipient };
    const v1 = { DB_PASSWORD: "proto-pw-one", API_TOKEN: "proto-tok-one" };
    const c0 = await client.check({ urn: urn("sf"), news: { ...base, recipients: [a, b], values: v1 } });
    const s0 = await client.create({ urn: urn("sf"), properties: c0.inputs });
    expect(s0.properties["pendingRotations"]).toEqual([]);

    const c1 = await client.check({
      urn: urn("sf"),
      olds: s0.properties,
      news: { ...base, recipients: [a], values: v1 },
    });
    const s1 = await client.update({ id: s0.id, urn: urn("sf"), olds: s0.properties, news: c1.inputs });
    expect(s1.properties["pendingRotations"]).toEqual(["API_TOKEN", "DB_PASSWORD"]);

    const c2 = await client.check({
      urn: urn("sf"),
      olds: s1.properties,
      news: { ...base, recipients: [a], values: { ...v1, API_TOKEN: "proto-tok-two" } },
    });
    const s2 = await client.update({ id: s0.id, urn: urn("sf"), olds: s1.properties, news: c2.inputs });
    expect(s2.properties["pendingRotations"]).toEqual(["DB_PASSWORD"]);

    const seen =
      JSON.stringify([s0.properties, s1.properties, s2.properties]) + readFileSync(join(dir, "audit.jsonl"), "utf8");
    for (const v of ["proto-pw-one", "proto-tok-one", "proto-tok-two"]) expect(seen).not.toContain(v);
  });
});
