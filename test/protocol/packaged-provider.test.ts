/**
 * The packaged provider form (sdk/dynamic-provider.ts `resourceProvider`): keyfleet installed in a
 * project's node_modules serialises `Object.create(require("keyfleet/dist/provider/resources/…"))`
 * instead of the six-method loader, and the real dynamic-provider server, run in the project
 * directory as Pulumi runs it, drives a SecretFile through Check → Create → Diff → Update → Read →
 * Delete with it. Also: when the form is chosen (same file from the project, under node_modules) and
 * what a server that cannot resolve the package says.
 *
 * The install is a copy of dist/sdk and dist/provider with package.json under
 * `<tmp>/project/node_modules/keyfleet` (a copy, not a link: the form keys on the real path), and the
 * repository's dependencies linked beside it. Loads dist/ (run `npm run build` first; `npm test` does).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../provider/age";
import { decrypt } from "../../provider/sops";
import type { ProviderClient as ProviderClientT } from "../harness/engine/provider-client";
import { distRequire, ProviderClient, root, serializeProvider } from "../from-dist";

type Props = Record<string, unknown>;
type DynamicProviderModule = typeof import("../../sdk/dynamic-provider");
type SecretFileSdk = typeof import("../../sdk/secret-file");

const REL = "dist/provider/resources/secret-file";
const alice = generateX25519();
const bob = generateX25519();
const urn = (n: string) => `urn:pulumi:test::keyfleet::pulumi-nodejs:dynamic/keyfleet:SecretFile::${n}`;

/** A project under `base` with keyfleet copied into its node_modules and the repo's dependencies linked. */
function installInto(base: string, name: string): string {
  const project = join(base, name);
  const pkg = join(project, "node_modules", "keyfleet");
  mkdirSync(join(pkg, "dist"), { recursive: true });
  cpSync(join(root, "package.json"), join(pkg, "package.json"));
  for (const d of ["sdk", "provider"]) cpSync(join(root, "dist", d), join(pkg, "dist", d), { recursive: true });
  for (const dep of readdirSync(join(root, "node_modules")))
    if (dep !== ".bin" && dep !== "keyfleet")
      symlinkSync(join(root, "node_modules", dep), join(project, "node_modules", dep));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: `kf-${name}`, private: true }));
  return project;
}

/** The installed copy's sdk modules, loaded through node's require from their real paths. */
function installedSdk(project: string): { dp: DynamicProviderModule; sf: SecretFileSdk } {
  const sdk = join(project, "node_modules", "keyfleet", "dist", "sdk");
  return {
    dp: distRequire(join(sdk, "dynamic-provider.js")) as DynamicProviderModule,
    sf: distRequire(join(sdk, "secret-file.js")) as SecretFileSdk,
  };
}

describe("packaged provider form", () => {
  let base: string;
  let project: string;
  let other: string;
  let packaged: string;
  /** The six-method loader form of the same installed copy, as an older keyfleet wrote it to state. */
  let lazyForm: string;
  const savedCwd = process.cwd();

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "kf-pkg-"));
    project = installInto(base, "project");
    other = installInto(base, "other");
    const { dp, sf } = installedSdk(project);
    process.chdir(project); // Pulumi runs the program, and serialises, in the project directory
    try {
      packaged = (await serializeProvider(dp.resourceProvider(sf.secretFileProvider), "secret-file")).text;
      lazyForm = (await serializeProvider(sf.secretFileProvider, "secret-file")).text;
    } finally {
      process.chdir(savedCwd);
    }
  });
  afterAll(() => {
    process.chdir(savedCwd);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("is chosen only for the copy the project itself resolves, under node_modules", () => {
    const { dp } = installedSdk(project);
    const checkout = distRequire("./dist/sdk/dynamic-provider.js") as DynamicProviderModule;
    const mod = dp.packagedProviderModule(REL, project);
    expect(typeof mod?.check).toBe("function");
    expect(typeof mod?.delete).toBe("function");
    expect(dp.packagedProviderModule(REL, base)).toBeUndefined(); // the package is not on base's path
    expect(dp.packagedProviderModule(REL, other)).toBeUndefined(); // `other` resolves its own copy
    expect(checkout.packagedProviderModule(REL, project)).toBeUndefined(); // a checkout is never packaged
    expect(checkout.packagedProviderModule(REL, root)).toBeUndefined();
  });

  it("serialises as one require of the package path, capturing nothing else", () => {
    expect(packaged).toContain(`Object.create(require("keyfleet/${REL}.js"))`);
    expect(packaged.length).toBeLessThan(400);
    const captured = [...packaged.matchAll(/with\(\{ (.*?) \}\)/g)].flatMap((m) =>
      (m[1] ?? "").split(", ").map((kv) => kv.split(":")[0]),
    );
    expect(captured.filter((k) => k !== "this" && k !== "arguments")).toHaveLength(1); // the handler's provider
    expect(packaged).not.toContain("loadProviderModule");
    expect(packaged).not.toContain(root); // no path of this machine
  });

  it("runs a SecretFile's whole life in the real provider server started in the project, from state of the loader form", async () => {
    const dir = mkdtempSync(join(base, "files-"));
    const client: ProviderClientT = await ProviderClient.start({
      cwd: project,
      env: { KEYFLEET_ROOT: undefined, SOPS_AGE_KEY: alice.identity, SOPS_AGE_KEY_FILE: undefined, HOME: dir },
    });
    try {
      await client.configure();
      const news = (rs: [string, string][], provider = packaged): Props => ({
        __provider: provider,
        path: join(dir, "app.yaml"),
        recipients: rs.map(([name, recipient]) => ({ name, recipient })),
        recipientLabels: rs.map(([name]) => name),
        values: { "db.password": "pk9-hunter2" },
        auditLog: join(dir, "audit.jsonl"),
      });
      // created by the loader form (state an older keyfleet wrote), then driven by the packaged form
      expect(lazyForm).toContain("loadProviderModule");
      const old = await client.check({ urn: urn("app"), news: news([["alice", alice.recipient]], lazyForm) });
      expect(old.failures).toEqual([]);
      const made = await client.create({ urn: urn("app"), properties: old.inputs });
      expect(made.properties["__provider"]).toBe(lazyForm);
      expect(made.properties["keyNames"]).toEqual(["db.password"]);
      const c0 = await client.check({ urn: urn("app"), olds: old.inputs, news: news([["alice", alice.recipient]]) });
      expect(c0.failures).toEqual([]);
      expect(c0.inputs["__provider"]).toBe(packaged);
      const same = await client.diff({ id: made.id, urn: urn("app"), olds: made.properties, news: c0.inputs });
      expect(same.changes).toBe("none");

      const two: [string, string][] = [
        ["alice", alice.recipient],
        ["bob", bob.recipient],
      ];
      const c1 = await client.check({ urn: urn("app"), olds: c0.inputs, news: news(two) });
      const d1 = await client.diff({ id: made.id, urn: urn("app"), olds: made.properties, news: c1.inputs });
      expect(d1.changes).toBe("some");
      const up = await client.update({ id: made.id, urn: urn("app"), olds: made.properties, news: c1.inputs });
      const text = readFileSync(join(dir, "app.yaml"), "utf8");
      const forBob = await decrypt(text, { format: "yaml", identities: parseIdentities(bob.identity, "bob") });
      expect(forBob.leaves.map((l) => l.value)).toEqual(["pk9-hunter2"]);

      expect(up.properties["__provider"]).toBe(packaged);
      const read = await client.read({ id: made.id, urn: urn("app"), properties: up.properties });
      expect(read.properties["fileSha256"]).toBe(up.properties["fileSha256"]);
      await client.delete({ id: made.id, urn: urn("app"), properties: read.properties });
      expect(client.stderr).not.toContain("pk9-hunter2");
    } finally {
      await client.stop();
    }
  });

  it("a server that cannot resolve the package fails the call naming the module", async () => {
    const client = await ProviderClient.start({ cwd: base, env: { KEYFLEET_ROOT: undefined } });
    try {
      await client.configure();
      const err = await client
        .check({ urn: urn("lost"), news: { __provider: packaged, path: join(base, "lost.yaml"), recipients: [] } })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(String(err)).toContain(`keyfleet/${REL}.js`);
    } finally {
      await client.stop();
    }
  });
});
