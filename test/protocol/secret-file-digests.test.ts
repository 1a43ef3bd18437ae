/**
 * Per-key digests through the real dynamic-provider server: rotate one value from outside
 * (`keyfleet set` does exactly this setValues), then the engine's Read / Diff / Update of the
 * SecretFile, then the Diff of two HostEnvs fed through the SDK's `selectedDigests`: only the
 * one selecting the edited key changes. Loads the tsc-built provider from dist/.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../provider/age";
import { setValues } from "../../provider/sops";
import { normalise, type HostEnvInputs } from "../../provider/resources/host-env-inputs";
import type { HostEnvOutputs } from "../../provider/resources/host-env";
import type { ProviderClient as ProviderClientT } from "../harness/engine/provider-client";
import { distRequire, ProviderClient, root, serializeProvider } from "../from-dist";

const { secretFileProvider } = distRequire("./dist/sdk/secret-file.js") as typeof import("../../sdk/secret-file");
const { hostEnvProvider, selectedDigests } = distRequire(
  "./dist/sdk/host-env.js",
) as typeof import("../../sdk/host-env");

type Props = Record<string, unknown>;
const HOSTKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const alice = generateX25519();
const urn = (n: string) => `urn:pulumi:test::keyfleet::pulumi-nodejs:dynamic:Resource::${n}`;

describe("SecretFile per-key digests through the provider server", () => {
  let client: ProviderClientT;
  let sfText: string;
  let heText: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kf-sfdp-"));
    sfText = (await serializeProvider(secretFileProvider, "secret-file")).text;
    heText = (await serializeProvider(hostEnvProvider, "host-env")).text;
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

  it("an outside set of A: Read and Diff show it, Update moves only A's digest, a HostEnv using only B does not change", async () => {
    const path = join(dir, "app.yaml");
    const news: Props = {
      __provider: sfText,
      path,
      recipients: [{ name: "alice", recipient: alice.recipient }],
      recipientLabels: ["alice"],
      auditLog: join(dir, "audit.jsonl"),
    };
    // A and B live in the file but are not managed through `values`
    const c = await client.check({ urn: urn("sf"), news: { ...news, values: { A: "a-one", B: "b-one" } } });
    expect(c.failures).toEqual([]);
    await client.create({ urn: urn("seed"), properties: c.inputs });
    const checked = await client.check({ urn: urn("sf"), news });
    const s0 = await client.create({ urn: urn("sf"), properties: checked.inputs });
    const d0 = s0.properties["valueDigests"] as Record<string, string>;
    expect(Object.keys(d0).sort()).toEqual(["A", "B"]);

    // `keyfleet set A` from outside Pulumi
    const edited = await setValues(readFileSync(path, "utf8"), {
      format: "yaml",
      identities: parseIdentities(alice.identity, "test"),
      changes: [{ path: ["A"], value: "a-two" }],
    });
    writeFileSync(path, edited);

    const r = await client.read({ id: s0.id, urn: urn("sf"), properties: s0.properties });
    const rd = r.properties["valueDigests"] as Record<string, string>;
    expect(r.properties["fileSha256"]).not.toBe(s0.properties["fileSha256"]);
    expect(rd["A"]).not.toBe(d0["A"]);
    expect(rd["B"]).toBe(d0["B"]);

    expect((await client.diff({ id: s0.id, urn: urn("sf"), olds: s0.properties, news: checked.inputs })).changes).toBe(
      "some",
    );
    const u = await client.update({ id: s0.id, urn: urn("sf"), olds: s0.properties, news: checked.inputs });
    const ud = u.properties["valueDigests"] as Record<string, string>;
    expect(ud["A"]).not.toBe(d0["A"]);
    expect(ud["B"]).toBe(d0["B"]);
    expect(ud).toEqual(rd);
    expect((await client.diff({ id: s0.id, urn: urn("sf"), olds: u.properties, news: checked.inputs })).changes).toBe(
      "none",
    );

    // HostEnvs fed as the SDK feeds them: selectedDigests of the SecretFile's outputs
    const sel = (keys: string[], p: Props) =>
      selectedDigests(
        keys,
        p["keyNames"] as string[],
        p["valueDigests"] as Record<string, string>,
        p["fileSha256"] as string,
        p["format"] as string,
      );
    const heInputs = (keys: string[], p: Props): Props => ({
      __provider: heText,
      connection: { host: "10.0.0.1", port: 22, user: "deploy", privateKey: "KEY", hostKey: HOSTKEY },
      path: "/etc/app/app.env",
      sources: [{ path, format: "yaml", keys, secretFile: true }],
      sourceDigests: [sel(keys, p)],
    });
    const heState = (keys: string[]): Props => {
      const n = normalise(heInputs(keys, s0.properties) as unknown as HostEnvInputs);
      const o: HostEnvOutputs = {
        ...n,
        host: n.connection.host,
        port: n.connection.port,
        user: n.connection.user,
        owner: "deploy",
        group: "deploy",
        sourceFiles: [""],
        keyNames: keys,
        hostFingerprint: "",
        contentDigest: "x",
        writtenDigest: "x",
        restarted: false,
        drift: [],
      };
      return { __provider: heText, ...o } as unknown as Props;
    };
    const heDiff = async (name: string, keys: string[]) => {
      const hc = await client.check({ urn: urn(name), olds: heState(keys), news: heInputs(keys, u.properties) });
      expect(hc.failures).toEqual([]);
      return (await client.diff({ id: name, urn: urn(name), olds: heState(keys), news: hc.inputs })).changes;
    };
    expect(sel(["B"], u.properties)).toEqual(sel(["B"], s0.properties));
    expect(await heDiff("host-b", ["B"])).toBe("none");
    expect(await heDiff("host-a", ["A"])).toBe("some");
    expect(await heDiff("host-ab", ["A", "B"])).toBe("some");
  });
});
