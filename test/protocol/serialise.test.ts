/**
 * Each resource's provider object serialises from dist/ (as pulumi.dynamic.Resource does), captures
 * nothing large or secret, and loads in the real provider server.
 */
import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");
const req = createRequire(join(root, "package.json"));
const pulumi = req("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
const { ProviderClient } = req(
  "./dist/test/harness/engine/provider-client.js",
) as typeof import("../harness/engine/provider-client");

const cases = [
  { file: "recipient", exp: "recipientProvider", module: "dist/provider/resources/recipient" },
  { file: "host-key", exp: "hostKeyProvider", module: "dist/provider/resources/host-key" },
  { file: "secret-file", exp: "secretFileProvider", module: "dist/provider/resources/secret-file" },
  { file: "host-env", exp: "hostEnvProvider", module: "dist/provider/resources/host-env" },
] as const;

describe("provider serialisation", () => {
  it.each(cases)("$file serialises small, without captured state or secrets", async ({ file, exp, module }) => {
    process.env["SOPS_AGE_KEY"] = "AGE-SECRET-KEY-1SHOULDNEVERAPPEARINTHESERIALISEDTEXTXXXXXXXXXXXXXXXXXXXXXXX";
    const mod = req(`./dist/sdk/${file}.js`) as Record<string, object>;
    const provider = mod[exp] as object;
    expect(provider).toBeDefined();
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    expect(sf.containsSecrets).toBe(false);
    expect(sf.text).not.toMatch(/AGE-SECRET-KEY|PRIVATE KEY/);
    expect(sf.text).toContain(module);
    // no captured modules or state: only the methods and the loader
    expect(sf.text.length).toBeLessThan(8000);
    expect(sf.text).not.toMatch(/__pulumi|Output|Resource/);
    delete process.env["SOPS_AGE_KEY"];
  });

  it("the serialised Recipient provider runs in the real provider server", async () => {
    const mod = req("./dist/sdk/recipient.js") as { recipientProvider: object };
    const text = (await pulumi.runtime.serializeFunction(() => mod.recipientProvider, { allowSecrets: true })).text;
    const client = await ProviderClient.start({ cwd: root });
    try {
      await client.configure();
      const c = await client.check({
        urn: "urn:pulumi:t::p::pulumi-nodejs:dynamic:Resource::x",
        news: { __provider: text, name: "x", publicKey: "age1bad" },
      });
      expect(c.failures.map((f) => f.property)).toEqual(["publicKey"]);
    } finally {
      await client.stop();
    }
  });
});
