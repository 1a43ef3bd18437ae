/**
 * Install size (issue 15): the packed keyfleet tarball installed into an empty project with
 * `npm install --offline` (against the local npm cache, no network), before and after:
 * - before: the dependency set keyfleet had before issue 15, i.e. the tarball plus @pulumi/pulumi,
 *   @pulumi/command and ssh2 (now optional peers and a bundled copy), at the pinned versions;
 * - after: the tarball alone (a CLI user's `npm install keyfleet`).
 * Reports packages, apparent bytes, disk usage, install-script warnings and install time. The bounds
 * are the issue's: ≤ 25 packages and ≤ 20 MB after; they are judged as ratios against those
 * budgets. With a cold npm cache (ENOTCACHED) it says so and measures nothing: run `npm ci` once.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { report } from "./judge.js";
import { installOffline, packTarball, pinnedDev } from "./packed.js";

interface Install {
  packages: number;
  bytes: number;
  disk: number;
  scriptWarnings: number;
  ms: number;
}

/** Package count (directories holding a package.json right under a node_modules) and sizes. */
function measure(dir: string): { packages: number; bytes: number; disk: number } {
  let packages = 0;
  let bytes = 0;
  let disk = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        bytes += st.size;
        disk += st.blocks * 512;
        if (e.name === "package.json" && /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+$/.test(d.split(sep).join("/")))
          packages++;
      }
    }
  };
  walk(join(dir, "node_modules"));
  return { packages, bytes, disk };
}

/** Installs `specs` into a fresh empty project offline; undefined when the cache is cold. */
function install(work: string, name: string, specs: string[]): Install | undefined {
  const r = installOffline(work, name, specs);
  if (!r) return undefined;
  const scriptWarnings = r.stderr
    .split("\n")
    .filter((l) => /install-scripts\s+\S+@\S+\s+\(/.test(l) || /install script/i.test(l)).length;
  return { ...measure(r.dir), scriptWarnings, ms: r.ms };
}

function mb(b: number): string {
  return `${(b / 1e6).toFixed(1)} MB`;
}

function run(): void {
  const work = mkdtempSync(join(tmpdir(), "kf-install-"));
  try {
    const tarball = packTarball(work);
    const formerDeps = ["@pulumi/pulumi", "@pulumi/command", "ssh2"].map(pinnedDev);
    const before = install(work, "before", [tarball, ...formerDeps]);
    const after = install(work, "after", [tarball]);
    if (!before || !after) {
      process.stdout.write(
        "install size: not measured: the local npm cache lacks packages (ENOTCACHED); run `npm ci` online once to warm it\n",
      );
      return;
    }
    process.stdout.write(`npm install of the packed tarball into an empty project, offline (local cache)\n`);
    process.stdout.write(
      `before (tarball + ${formerDeps.join(" ")}): ${before.packages} packages, ${mb(before.bytes)} (${mb(before.disk)} on disk), ${before.scriptWarnings} install-script warning lines, ${(before.ms / 1000).toFixed(1)} s\n`,
    );
    process.stdout.write(
      `after (tarball alone, CLI use):  ${after.packages} packages, ${mb(after.bytes)} (${mb(after.disk)} on disk), ${after.scriptWarnings} install-script warning lines, ${(after.ms / 1000).toFixed(1)} s\n`,
    );
    process.stdout.write(
      `after / before: ${(after.packages / before.packages).toFixed(2)}× packages, ${(after.bytes / before.bytes).toFixed(2)}× bytes\n`,
    );
    report([
      {
        what: "CLI install: packages",
        ours: after.packages,
        peer: 25,
        peerName: "budget (issue 15)",
        unit: "pkgs",
        maxRatio: 1,
      },
      {
        what: "CLI install: size",
        ours: after.bytes / 1e6,
        peer: (20 * 1024 * 1024) / 1e6,
        peerName: "budget 20 MiB (issue 15)",
        unit: "MB",
        maxRatio: 1,
      },
    ]);
    if (after.scriptWarnings > 0) {
      process.stdout.write("CLI install printed install-script warnings\n");
      process.exitCode = 3;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

run();
