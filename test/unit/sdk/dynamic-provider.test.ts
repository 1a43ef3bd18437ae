/**
 * sdk/dynamic-provider: the loader's search order ($KEYFLEET_ROOT, then the working directory) and
 * per-process cache, and the four resources' provider objects serialised: nothing captured but
 * the module path and the loader. Loaded from dist/ as the serialiser needs real CommonJS.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../../..");
const req = createRequire(join(root, "package.json"));
const pulumi = req("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
const dp = req("./dist/sdk/dynamic-provider.js") as typeof import("../../../sdk/dynamic-provider");

/** A throwaway package root holding `dist/<name>.js` that exports `{ where }`. */
function fakeRoot(name: string, where: string): string {
  const dir = mkdtempSync(join(tmpdir(), "kf-dp-"));
  mkdirSync(join(dir, "dist"));
  writeFileSync(join(dir, "dist", `${name}.js`), `exports.where = ${JSON.stringify(where)};\n`);
  return dir;
}

const savedRoot = process.env["KEYFLEET_ROOT"];
const savedCwd = process.cwd();
const dirs: string[] = [];

afterEach(() => {
  if (savedRoot === undefined) delete process.env["KEYFLEET_ROOT"];
  else process.env["KEYFLEET_ROOT"] = savedRoot;
  process.chdir(savedCwd);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("loadProviderModule", () => {
  it("prefers $KEYFLEET_ROOT over the working directory, then caches per process", () => {
    const name = `m-root-${process.pid}`;
    const a = fakeRoot(name, "root");
    const b = fakeRoot(name, "cwd");
    dirs.push(a, b);
    process.env["KEYFLEET_ROOT"] = a;
    process.chdir(b);
    const mod = dp.loadProviderModule(`dist/${name}`) as { where: string };
    expect(mod.where).toBe("root");
    // cached: the same object even when the file is gone and the root points elsewhere
    rmSync(a, { recursive: true, force: true });
    process.env["KEYFLEET_ROOT"] = b;
    expect(dp.loadProviderModule(`dist/${name}`)).toBe(mod);
  });

  it("falls back to the working directory without $KEYFLEET_ROOT", () => {
    const name = `m-cwd-${process.pid}`;
    const b = fakeRoot(name, "cwd");
    dirs.push(b);
    delete process.env["KEYFLEET_ROOT"];
    process.chdir(b);
    expect((dp.loadProviderModule(`dist/${name}`) as { where: string }).where).toBe("cwd");
  });

  it("throws the require error when the module is nowhere, and caches nothing", () => {
    const name = `m-none-${process.pid}`;
    const b = fakeRoot("other", "x");
    dirs.push(b);
    process.env["KEYFLEET_ROOT"] = b;
    expect(() => dp.loadProviderModule(`dist/${name}`)).toThrow(/Cannot find module/);
    expect((globalThis as Record<string, unknown>)[`__keyfleet:dist/${name}`]).toBeUndefined();
  });
});

describe("lazyProvider serialisation", () => {
  const cases = [
    { file: "recipient", exp: "recipientProvider" },
    { file: "host-key", exp: "hostKeyProvider" },
    { file: "secret-file", exp: "secretFileProvider" },
    { file: "host-env", exp: "hostEnvProvider" },
  ] as const;

  it.each(cases)("$file captures only its module path and the loader", async ({ file, exp }) => {
    const provider = (req(`./dist/sdk/${file}.js`) as Record<string, object>)[exp] as object;
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    expect(sf.containsSecrets).toBe(false);
    // captured values are listed in each closure's `with({ … })`: only the loader and the path
    const captured = new Set(
      [...sf.text.matchAll(/with\(\{ (.*?) \}\)/g)].flatMap((m) =>
        (m[1] ?? "").split(", ").map((kv) => kv.split(":")[0]),
      ),
    );
    captured.delete("this");
    captured.delete("arguments");
    captured.delete("provider"); // the test's own closure
    expect([...captured].sort()).toEqual(["loadProviderModule", "rel"]);
    expect(sf.text).toContain(`rel: "dist/provider/resources/${file}"`);
    for (const method of ["check", "diff", "create", "read", "update", "delete"])
      expect(sf.text).toContain(`/*${method}*/`);
  });
});
