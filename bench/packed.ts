/**
 * keyfleet as a user installs it: the packed tarball (`npm pack`, the package.json `files`) installed
 * into an empty project with `npm install --offline` against the local npm cache, no network. Used by
 * the install-size bench and by the preview bench's installed layout.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The repository root (this file runs from dist/bench/). */
export const REPO_ROOT = join(__dirname, "..", "..");

/** npm's environment for these runs: no audit, fund or update-notifier requests. */
export const NPM_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};

/** Packs the built repository (without running its scripts) into `dest`; returns the tarball's path. */
export function packTarball(dest: string): string {
  const packed = spawnSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dest], {
    cwd: REPO_ROOT,
    env: NPM_ENV,
    encoding: "utf8",
  });
  if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  return join(dest, (JSON.parse(packed.stdout) as { filename: string }[])[0]?.filename ?? "");
}

/** What an offline install printed and took. */
export interface OfflineInstall {
  /** The project directory. */
  dir: string;
  /** npm's stderr. */
  stderr: string;
  /** Wall milliseconds of `npm install`. */
  ms: number;
}

/**
 * Installs `specs` into a fresh empty project `work/name`, offline.
 * @returns undefined when the local npm cache lacks a package (ENOTCACHED): run `npm ci` online once
 * @throws Error for any other npm failure
 */
export function installOffline(work: string, name: string, specs: readonly string[]): OfflineInstall | undefined {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `kf-${name}`, version: "1.0.0", private: true }));
  const t = process.hrtime.bigint();
  const r = spawnSync("npm", ["install", ...specs, "--offline", "--no-package-lock"], {
    cwd: dir,
    env: NPM_ENV,
    encoding: "utf8",
    timeout: 300_000,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) {
    if (/ENOTCACHED/.test(r.stderr)) return undefined;
    throw new Error(`npm install ${specs.join(" ")} failed: ${r.stderr.slice(-2000)}`);
  }
  return { dir, stderr: r.stderr, ms };
}

/** `name@version` for a devDependency pinned in the repository's package.json. */
export function pinnedDev(name: string): string {
  const pkg = require(join(REPO_ROOT, "package.json")) as { devDependencies: Record<string, string> };
  const v = pkg.devDependencies[name];
  if (v === undefined) throw new Error(`bench: ${name} is not a devDependency`);
  return `${name}@${v}`;
}
