/**
 * The CLI and the Pulumi-free core never load `@pulumi/*` (issue 15: @pulumi/pulumi and
 * @pulumi/command are optional peer dependencies, which a CLI-only install does not have).
 *
 * Each check runs in a child process with a preload hook on `Module._load` that records every
 * request for `@pulumi/...` and, at exit, every loaded file under node_modules/@pulumi. Loaded:
 * every module in dist/cli (whatever verbs exist), each verb through the lazy VERBS table, every
 * module of dist/provider, and the shipped executable (bin + bundle) running `--help`, which loads
 * every verb. Uses the dist/ that `npm test` built.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = join(__dirname, "../..");
const dist = join(root, "dist");

/** Every .js file under `dir`, recursively. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(".js"))
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

const HOOK = `
const Module = require("module");
const seen = [];
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (String(request).startsWith("@pulumi/")) seen.push(request + " from " + (parent && parent.filename));
  return load.apply(this, arguments);
};
process.on("exit", () => {
  const files = Object.keys(require.cache).filter((f) => f.split(require("path").sep).join("/").includes("node_modules/@pulumi/"));
  require("fs").writeSync(2, "\\nPULUMI-LOADS " + JSON.stringify({ requests: seen, files, modules: Object.keys(require.cache).length }) + "\\n");
});
`;

function run(
  argv: string[],
  dir: string,
): { status: number | null; loads: { requests: string[]; files: string[]; modules: number }; stderr: string } {
  const r = spawnSync(process.execPath, ["--require", join(dir, "hook.js"), ...argv], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, KEYFLEET_NO_CODE_CACHE: "1" },
  });
  const line = r.stderr.split("\n").find((l) => l.startsWith("PULUMI-LOADS "));
  expect(line, r.stderr).toBeDefined();
  return { status: r.status, loads: JSON.parse((line as string).slice("PULUMI-LOADS ".length)), stderr: r.stderr };
}

describe("no @pulumi/* in the CLI or the core", () => {
  const dir = mkdtempSync(join(tmpdir(), "kf-nopulumi-"));
  writeFileSync(join(dir, "hook.js"), HOOK);

  it("requiring every dist/cli module, every verb and every dist/provider module loads no @pulumi module", () => {
    try {
      // bin.js runs the CLI when loaded; it is checked as a process below
      const cli = jsFiles(join(dist, "cli")).filter((f) => !f.endsWith("bin.js"));
      const provider = jsFiles(join(dist, "provider"));
      expect(cli.length).toBeGreaterThan(10);
      expect(provider.length).toBeGreaterThan(10);
      const script = [
        `for (const f of ${JSON.stringify([...cli, ...provider])}) require(f);`,
        `const { VERBS } = require(${JSON.stringify(join(dist, "cli", "main.js"))});`,
        "Promise.all(Object.values(VERBS).map((load) => load())).then((verbs) => { if (verbs.some((v) => typeof v.run !== 'function')) process.exitCode = 9; });",
      ].join("\n");
      const r = run(["-e", script], dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.loads.modules).toBeGreaterThan(cli.length + provider.length);
      expect(r.loads.requests).toEqual([]);
      expect(r.loads.files).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the keyfleet executable (bin and bundle) loads no @pulumi module, with every verb loaded by --help", () => {
    const d = mkdtempSync(join(tmpdir(), "kf-nopulumi-bin-"));
    try {
      writeFileSync(join(d, "hook.js"), HOOK);
      const r = run([join(dist, "cli", "bin.js"), "--help"], d);
      expect(r.status, r.stderr).toBe(0);
      expect(r.loads.requests).toEqual([]);
      expect(r.loads.files).toEqual([]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("the sdk, by contrast, does load @pulumi/pulumi (the hook sees it)", () => {
    const d = mkdtempSync(join(tmpdir(), "kf-pulumi-sdk-"));
    try {
      writeFileSync(join(d, "hook.js"), HOOK);
      const r = run(["-e", `require(${JSON.stringify(join(dist, "sdk", "index.js"))})`], d);
      expect(r.status, r.stderr).toBe(0);
      expect(r.loads.requests.length).toBeGreaterThan(0);
      expect(r.loads.files.map((f) => relative(root, f)).some((f) => f.includes("@pulumi/pulumi"))).toBe(true);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
