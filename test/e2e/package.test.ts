/**
 * The npm package: `npm pack` ships only sdk, provider and cli (JavaScript and .d.ts, plus the CLI
 * bundle and the bundled ssh2), and the packed tarball is installed into two empty projects:
 * - CLI only: a working `keyfleet` command, no `@pulumi/*` and no ssh2 installed, ≤ 25 packages and
 *   ≤ 20 MB, no install-script warning; `require("keyfleet")` fails with one error saying how to
 *   install `@pulumi/pulumi` (issue 15);
 * - with `@pulumi/pulumi` (the optional peer dependency): the command runs, and a program gets the
 *   sdk, bound to the project's one copy of `@pulumi/pulumi`.
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
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, sep } from "node:path";

const root = join(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "kf-pack-"));
const project = join(work, "project");
const pulumiProject = join(work, "pulumi-project");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const PULUMI = `@pulumi/pulumi@${pkg.devDependencies["@pulumi/pulumi"]}`;
const npmEnv = {
  ...process.env,
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};
let files: string[] = [];
let tarball = "";
let installedBy = "";
let installedByPulumi = "";
let cliInstallStderr = "";

function npm(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("npm", args, { cwd, env: npmEnv, encoding: "utf8", timeout: 80_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** npm's layout without npm: the package under node_modules/keyfleet, its declared dependencies (and `extra`) linked. */
function installByHand(project: string, extra: string[] = []): void {
  const unpack = mkdtempSync(join(work, "unpack-"));
  execFileSync("tar", ["-xzf", tarball, "-C", unpack]);
  mkdirSync(join(project, "node_modules"), { recursive: true });
  renameSync(join(unpack, "package"), join(project, "node_modules", pkg.name));
  for (const dep of [...Object.keys(pkg.dependencies), ...extra]) {
    const to = join(project, "node_modules", dep);
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(join(root, "node_modules", dep), to, "dir");
  }
  mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
  for (const [name, rel] of Object.entries(pkg.bin))
    symlinkSync(join("..", pkg.name, rel), join(project, "node_modules", ".bin", name));
}

/** Installs the tarball (and `extra` packages) into an empty `dir` offline, or by hand when the npm cache is cold. */
function install(dir: string, extra: string[], scripts: boolean): { by: string; stderr: string } {
  mkdirSync(dir);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "kf-empty-project", version: "1.0.0", private: true }),
  );
  const r = npm(
    ["install", tarball, ...extra, "--offline", "--no-package-lock", ...(scripts ? [] : ["--ignore-scripts"])],
    dir,
  );
  if (r.status === 0) return { by: "npm install --offline", stderr: r.stderr };
  // only a cold cache is a reason to fall back; any other npm failure is a failure of the package
  expect(r.stderr).toMatch(/ENOTCACHED/);
  rmSync(join(dir, "node_modules"), { recursive: true, force: true });
  installByHand(
    dir,
    extra.map((e) => e.replace(/(.)@.*$/, "$1")),
  );
  return { by: "extracted, dependencies linked", stderr: "" };
}

/** Apparent size in bytes and package count (directories with a package.json) of `dir`/node_modules. */
function installed(dir: string): { bytes: number; packages: number; names: string[] } {
  let bytes = 0;
  const names: string[] = [];
  const walk = (d: string, top: string | undefined): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, top);
      else if (e.isFile()) {
        bytes += statSync(p).size;
        if (e.name === "package.json" && /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+$/.test(d.split(sep).join("/")))
          names.push(d.slice(d.lastIndexOf("node_modules") + 13));
      }
    }
  };
  walk(join(dir, "node_modules"), undefined);
  return { bytes, packages: names.length, names: names.sort() };
}

beforeAll(() => {
  const packed = npm(["pack", "--json", "--ignore-scripts", "--pack-destination", work], root);
  expect(packed.status, packed.stderr).toBe(0);
  const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  files = (info[0]?.files ?? []).map((f) => f.path);
  tarball = join(work, info[0]?.filename ?? "");
  const cli = install(project, [], true);
  installedBy = cli.by;
  cliInstallStderr = cli.stderr;
  installedByPulumi = install(pulumiProject, [PULUMI], false).by;
}, 150_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm package", () => {
  it("ships sdk, provider and cli with their types, and nothing from test, bench or examples", () => {
    expect(files).toContain("package.json");
    expect(files).toContain("dist/sdk/index.js");
    expect(files).toContain("dist/sdk/index.d.ts");
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("dist/provider/resources/secret-file.js");
    expect(files).toContain("dist/provider/errors.d.ts");
    expect(files).toContain("dist/cli/bin.js");
    expect(files).toContain("dist/cli/main.bundle.js");
    expect(files).toContain("dist/vendor/ssh2.js");
    const outside = files.filter(
      (f) =>
        f !== "package.json" &&
        f !== "dist/vendor/ssh2.js" &&
        !/^README/.test(f) &&
        !/^LICEN[CS]E/.test(f) &&
        !/^dist\/(sdk|provider|cli)\/.*\.(js|d\.ts)$/.test(f),
    );
    expect(outside).toEqual([]);
    // every module of the three fronts has its declaration file next to it (the bundled ssh2 is no module of ours)
    const js = files.filter((f) => f.endsWith(".js") && f !== "dist/vendor/ssh2.js");
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

  it("CLI only: keygen, encrypt and decrypt work through the installed command, with no @pulumi/* and no ssh2 installed", () => {
    const bin = join(project, "node_modules", ".bin", "keyfleet");
    const env = { ...process.env, SOPS_AGE_KEY_FILE: join(project, "key.txt"), XDG_CACHE_HOME: join(work, "cache") };
    const kf = (args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], { cwd: project, env, encoding: "utf8", timeout: 30_000 });
    expect(kf(["keygen", "-o", "key.txt"]).status).toBe(0);
    const recipient = /age1[0-9a-z]+/.exec(readFileSync(join(project, "key.txt"), "utf8"))?.[0] as string;
    writeFileSync(join(project, "plain.yaml"), "token: lean-install-check\n");
    const enc = kf(["encrypt", "--age", recipient, "plain.yaml"]);
    expect(enc.status, enc.stderr).toBe(0);
    expect(enc.stdout).not.toContain("lean-install-check");
    writeFileSync(join(project, "secret.yaml"), enc.stdout);
    // twice: the first run writes the code cache, the second reads it
    for (let i = 0; i < 2; i++) {
      const dec = kf(["decrypt", "secret.yaml"]);
      expect(dec.status, dec.stderr).toBe(0);
      expect(dec.stdout).toBe("token: lean-install-check\n");
    }
    expect(readdirSync(join(work, "cache", "keyfleet")).some((f) => f.endsWith(".v8cache"))).toBe(true);
    const nm = join(project, "node_modules");
    expect(existsSync(join(nm, "@pulumi"))).toBe(false);
    expect(existsSync(join(nm, "ssh2"))).toBe(false);
  });

  it("CLI only: ≤ 25 packages and ≤ 20 MB, and no install-script warning (when npm did the install)", () => {
    const size = installed(project);
    expect(size.names).toContain("keyfleet");
    if (installedBy !== "npm install --offline") return; // linked dependencies say nothing about npm's tree
    expect(size.packages, size.names.join(" ")).toBeLessThanOrEqual(25);
    expect(size.bytes).toBeLessThanOrEqual(20 * 1024 * 1024);
    expect(cliInstallStderr).not.toMatch(/install.?script/i);
  });

  it('CLI only: require("keyfleet") fails with one error saying how to install @pulumi/pulumi', () => {
    const r = spawnSync(process.execPath, ["-e", 'require("keyfleet")'], {
      cwd: project,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/PulumiPeerMissingError: keyfleet's sdk needs @pulumi\/pulumi/);
    expect(r.stderr).toMatch(/npm install @pulumi\/pulumi/);
    expect(r.stderr).toMatch(/code: 'PEER_MISSING'/);
    expect(r.stderr).not.toMatch(/Cannot find module/);
  });

  it('with @pulumi/pulumi: the command runs, and require("keyfleet") gives the SDK on the project\'s one copy of @pulumi/pulumi', () => {
    expect(installedByPulumi).not.toBe("");
    const bin = join(pulumiProject, "node_modules", ".bin", "keyfleet");
    const help = spawnSync(process.execPath, [bin, "--help"], {
      cwd: pulumiProject,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/updatekeys/);
    const program = [
      'const k = require("keyfleet");',
      'const pulumi = require("@pulumi/pulumi");',
      'const p = require("keyfleet/dist/provider/resources/secret-file");',
      'const path = require("path");',
      'const fromKeyfleet = require.resolve("@pulumi/pulumi", { paths: [path.dirname(require.resolve("keyfleet"))] });',
      'console.log(JSON.stringify({ SecretFile: typeof k.SecretFile, HostEnv: typeof k.HostEnv, Fleet: typeof k.Fleet, create: typeof p.create, output: typeof pulumi.output, where: require.resolve("keyfleet"), pulumi: require.resolve("@pulumi/pulumi"), fromKeyfleet }));',
    ].join("\n");
    writeFileSync(join(pulumiProject, "index.js"), program);
    const r = spawnSync(process.execPath, ["index.js"], { cwd: pulumiProject, encoding: "utf8", timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() as string) as Record<string, string>;
    expect(out).toMatchObject({
      SecretFile: "function",
      HostEnv: "function",
      Fleet: "function",
      create: "function",
      output: "function",
    });
    expect(out["where"]).toBe(join(pulumiProject, "node_modules", "keyfleet", "dist", "sdk", "index.js"));
    // one copy: the sdk resolves the program's @pulumi/pulumi, keyfleet brings none of its own
    expect(out["fromKeyfleet"]).toBe(out["pulumi"]);
    expect(existsSync(join(pulumiProject, "node_modules", "keyfleet", "node_modules", "@pulumi"))).toBe(false);
    expect(readdirSync(join(pulumiProject, "node_modules", "keyfleet", "dist")).sort()).toEqual([
      "cli",
      "provider",
      "sdk",
      "vendor",
    ]);
  });
});
