/**
 * The npm package: `npm pack` ships only sdk, provider and cli (JavaScript and .d.ts), and the packed
 * tarball installed into an empty project gives a working `keyfleet` command and `require("keyfleet")`.
 *
 * The install is `npm install <tgz> --offline` (no network). When the local npm cache lacks the
 * dependencies (ENOTCACHED, as on a machine whose node_modules was copied in), the test installs the
 * tarball as npm lays it out: the package extracted to node_modules/keyfleet and each of its declared
 * `dependencies` (only those) linked from this repository's node_modules. A runtime import missing
 * from `dependencies` then fails the same way it would for a user. Packs the dist/ that `npm test`
 * built (scripts are skipped: a prepack rebuild would rewrite dist/ under the other test files).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const root = join(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "kf-pack-"));
const project = join(work, "project");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string; version: string; bin: Record<string, string>; dependencies: Record<string, string> };
const npmEnv = { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
let files: string[] = [];
let tarball = "";
let installedBy = "";

function npm(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("npm", args, { cwd, env: npmEnv, encoding: "utf8", timeout: 45_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** npm's layout without npm: the package under node_modules/keyfleet, its declared dependencies linked. */
function installByHand(): void {
  const unpack = join(work, "unpack");
  mkdirSync(unpack);
  execFileSync("tar", ["-xzf", tarball, "-C", unpack]);
  mkdirSync(join(project, "node_modules"), { recursive: true });
  renameSync(join(unpack, "package"), join(project, "node_modules", pkg.name));
  for (const dep of Object.keys(pkg.dependencies)) {
    const to = join(project, "node_modules", dep);
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(join(root, "node_modules", dep), to, "dir");
  }
  mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
  for (const [name, rel] of Object.entries(pkg.bin)) symlinkSync(join("..", pkg.name, rel), join(project, "node_modules", ".bin", name));
}

beforeAll(() => {
  const packed = npm(["pack", "--json", "--ignore-scripts", "--pack-destination", work], root);
  expect(packed.status, packed.stderr).toBe(0);
  const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  files = (info[0]?.files ?? []).map((f) => f.path);
  tarball = join(work, info[0]?.filename ?? "");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "kf-empty-project", version: "1.0.0", private: true }));
  const r = npm(["install", tarball, "--offline", "--ignore-scripts", "--no-package-lock"], project);
  if (r.status === 0) installedBy = "npm install --offline";
  else {
    // only a cold cache is a reason to fall back; any other npm failure is a failure of the package
    expect(r.stderr).toMatch(/ENOTCACHED/);
    rmSync(join(project, "node_modules"), { recursive: true, force: true });
    installByHand();
    installedBy = "extracted, dependencies linked";
  }
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm package", () => {
  it("ships sdk, provider and cli with their types, and nothing from test, bench or examples", () => {
    expect(files).toContain("package.json");
    expect(files).toContain("dist/sdk/index.js");
    expect(files).toContain("dist/sdk/index.d.ts");
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("dist/provider/resources/secret-file.js");
    expect(files).toContain("dist/provider/errors.d.ts");
    const outside = files.filter((f) => f !== "package.json" && !/^README/.test(f) && !/^LICEN[CS]E/.test(f) && !/^dist\/(sdk|provider|cli)\/.*\.(js|d\.ts)$/.test(f));
    expect(outside).toEqual([]);
    // every module of the three fronts has its declaration file next to it
    const js = files.filter((f) => f.endsWith(".js"));
    expect(js.filter((f) => !files.includes(f.replace(/\.js$/, ".d.ts")))).toEqual([]);
  });

  it("installs into an empty project; the keyfleet command runs", () => {
    expect(installedBy).not.toBe("");
    const bin = join(project, "node_modules", ".bin", "keyfleet");
    expect(existsSync(bin)).toBe(true);
    const r = spawnSync(process.execPath, [bin, "--help"], { cwd: project, encoding: "utf8", timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/keyfleet/);
    expect(r.stdout).toMatch(/updatekeys/);
  });

  it("require(\"keyfleet\") gives the SDK, and the provider modules the dynamic providers load are there", () => {
    const script = [
      'const k = require("keyfleet");',
      'const p = require("keyfleet/dist/provider/resources/secret-file");',
      'console.log(JSON.stringify({ SecretFile: typeof k.SecretFile, HostEnv: typeof k.HostEnv, Fleet: typeof k.Fleet, create: typeof p.create, where: require.resolve("keyfleet") }));',
    ].join("\n");
    const r = spawnSync(process.execPath, ["-e", script], { cwd: project, encoding: "utf8", timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() as string) as Record<string, string>;
    expect(out).toMatchObject({ SecretFile: "function", HostEnv: "function", Fleet: "function", create: "function" });
    expect(out["where"]).toBe(join(project, "node_modules", "keyfleet", "dist", "sdk", "index.js"));
    expect(readdirSync(join(project, "node_modules", "keyfleet", "dist")).sort()).toEqual(["cli", "provider", "sdk"]);
  });
});
