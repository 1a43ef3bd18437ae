/**
 * Drives the REAL @pulumi/pulumi dynamic-provider server through the harness ProviderClient, as the
 * engine does: Configure → Check → Diff → Create → Read → Update → Delete, with a counter provider
 * that writes real files. Loads tsc-built CommonJS from dist/ (serialisation needs it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";

const root = resolve(__dirname, "../..");
const load = createRequire(join(root, "package.json"));
const dist = (p: string): unknown => load(join(root, "dist/test/harness/engine", p));

type PC = import("../harness/engine/provider-client").ProviderClient;
const { ProviderClient } = dist("provider-client.js") as typeof import("../harness/engine/provider-client");
const { serializeProvider, ProviderSerializationError } = dist(
  "serialize.js",
) as typeof import("../harness/engine/serialize");
const { UNKNOWN, secret } = dist("marshal.js") as typeof import("../harness/engine/marshal");
const { counterProvider } = dist(
  "fixtures/counter-resource.js",
) as typeof import("../harness/engine/fixtures/counter-resource");

const URN = "urn:pulumi:dev::proj::pulumi-nodejs:dynamic/keyfleet-test:Counter::c";
let pc: PC;
let dir: string;
let provider: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kf-engine-provider-"));
  provider = (await serializeProvider(counterProvider)).text;
  pc = await ProviderClient.start({ cwd: root });
});
afterAll(async () => {
  await pc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("ProviderClient against the real dynamic-provider server", () => {
  it("configure reports what the dynamic provider accepts", async () => {
    expect(await pc.configure()).toEqual({ acceptSecrets: false, supportsPreview: false });
    expect(pc.pid).toBeGreaterThan(0);
  });

  it("serialised provider captures only the implementation path", () => {
    expect(provider).toContain("exports.handler");
    expect(provider).toContain(join(root, "dist/test/harness/engine/fixtures/counter.js"));
  });

  it("check reports per-property failures and skips unknowns", async () => {
    const bad = await pc.check({ urn: URN, news: { __provider: provider, path: "relative.txt", value: 3 } });
    expect(bad.failures.map((f) => f.property).sort()).toEqual(["path", "value"]);
    const unknown = await pc.check({ urn: URN, news: { __provider: provider, path: UNKNOWN, value: UNKNOWN } });
    expect(unknown.failures).toEqual([]);
    expect(unknown.inputs["path"]).toBe(UNKNOWN);
  });

  it("full lifecycle writes, reads, updates and deletes a real file", async () => {
    const path = join(dir, "c.txt");
    const news = { __provider: provider, path, value: "v1", secretValue: secret("s3cr3t-lifecycle") };
    const checked = await pc.check({ urn: URN, olds: {}, news });
    expect(checked.failures).toEqual([]);
    // secrets were stripped on the wire, as the engine does for a provider without acceptSecrets
    expect(checked.inputs["secretValue"]).toBe("s3cr3t-lifecycle");
    expect(existsSync(path)).toBe(false);

    const created = await pc.create({ urn: URN, properties: checked.inputs });
    expect(created.id).toBe(path);
    expect(created.properties["writes"]).toBe(1);
    expect(created.properties["__provider"]).toBe(provider);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ value: "v1", secretValue: "s3cr3t-lifecycle", writes: 1 });

    const same = await pc.diff({
      id: created.id,
      urn: URN,
      olds: created.properties,
      news: checked.inputs,
      oldInputs: checked.inputs,
    });
    expect(same).toMatchObject({ changes: "none", replaces: [] });

    // an edit outside Pulumi shows up in Read
    writeFileSync(path, JSON.stringify({ value: "edited", secretValue: "s3cr3t-lifecycle", writes: 7 }));
    const read = await pc.read({ id: created.id, urn: URN, properties: created.properties, inputs: checked.inputs });
    expect(read.id).toBe(path);
    expect(read.properties).toMatchObject({ value: "edited", writes: 7 });

    const news2 = { ...checked.inputs, value: "v2" };
    const checked2 = await pc.check({ urn: URN, olds: checked.inputs, news: news2 });
    const d = await pc.diff({
      id: path,
      urn: URN,
      olds: read.properties,
      news: checked2.inputs,
      oldInputs: checked.inputs,
    });
    expect(d).toMatchObject({ changes: "some", replaces: [], deleteBeforeReplace: false });
    const updated = await pc.update({
      id: path,
      urn: URN,
      olds: read.properties,
      news: checked2.inputs,
      oldInputs: checked.inputs,
    });
    expect(updated.properties["writes"]).toBe(8);
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ value: "v2", writes: 8 });

    const moved = await pc.diff({
      id: path,
      urn: URN,
      olds: updated.properties,
      news: { ...checked2.inputs, path: join(dir, "d.txt") },
    });
    expect(moved.replaces).toEqual(["path"]);

    await pc.delete({ id: path, urn: URN, properties: updated.properties, oldInputs: checked2.inputs });
    expect(existsSync(path)).toBe(false);
    const gone = await pc.read({ id: path, urn: URN, properties: updated.properties });
    expect(gone.id).toBe("");
  });

  it("preview is check + diff with unknowns and touches nothing", async () => {
    const path = join(dir, "p.txt");
    const olds = { __provider: provider, path, value: "a", secretValue: "", writes: 1 };
    const checked = await pc.check({ urn: URN, olds, news: { __provider: provider, path, value: UNKNOWN } });
    expect(checked.failures).toEqual([]);
    const d = await pc.diff({ id: path, urn: URN, olds, news: checked.inputs });
    expect(d.changes).toBe("some");
    expect(existsSync(path)).toBe(false);
  });

  it("a provider error comes back with its message", async () => {
    await expect(
      pc.create({ urn: URN, properties: { __provider: provider, path: join(dir, "no/such/dir/x.txt"), value: "v" } }),
    ).rejects.toThrow(/provider Create failed: .*ENOENT/);
  });

  it("a provider that captures something unserialisable fails with a clear error", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { privateKey } = generateKeyPairSync("ed25519");
    // captures a native KeyObject, and lives in a vite-transformed file: either makes serialisation fail
    const bad = {
      async create() {
        return { id: String(privateKey.type), outs: {} };
      },
    };
    const err = await serializeProvider(bad, "bad-provider").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderSerializationError);
    expect(String((err as Error).message)).toMatch(
      /^dynamic provider bad-provider cannot be serialised: .*capture nothing/s,
    );
  });

  it("stop kills the server by pid", async () => {
    const other = await ProviderClient.start({ cwd: root });
    const pid = other.pid;
    await other.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
