/**
 * Differential oracles for the sops stores: `../shared/tools/yaml-oracle` (real go-yaml v3) and
 * `../shared/tools/ini-oracle` (real go-ini), built once from Debian's Go packages with their own
 * build.sh and cached under node_modules/.cache/keyfleet-oracles/<hash of main.go>. Parallel test
 * workers build into private temp names and rename, so a cached binary is always complete.
 * `.ci/run` installs golang-go, golang-gopkg-yaml.v3-dev and golang-gopkg-ini.v1-dev.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(__dirname, "../..");
/** Where the shared tools live: the repository's sibling `shared/` (override with KEYFLEET_SHARED_TOOLS). */
const TOOLS = process.env["KEYFLEET_SHARED_TOOLS"] ?? resolve(REPO, "../shared/tools");

/** Which oracle. */
export type OracleName = "yaml-oracle" | "ini-oracle";

/**
 * Path of the built oracle binary, building it on first use (about 10 s).
 * @throws Error naming the missing tool or package when it cannot be built
 */
export function oracleBinary(name: OracleName): string {
  const src = join(TOOLS, name);
  const main = join(src, "main.go");
  if (!existsSync(main))
    throw new Error(`oracle source ${main} not found; set KEYFLEET_SHARED_TOOLS to the shared/tools directory`);
  const hash = createHash("sha256")
    .update(readFileSync(main))
    .update(readFileSync(join(src, "build.sh")))
    .digest("hex")
    .slice(0, 16);
  const dir = join(REPO, "node_modules", ".cache", "keyfleet-oracles");
  const out = join(dir, `${name}-${hash}`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync("sh", [join(src, "build.sh"), tmp], { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `building ${name} failed (needs golang-go and the Debian go-yaml v3 / go-ini packages): ${err.stderr?.toString() || err.message}`,
    );
  }
  return out;
}

/** Runs an oracle on `input` (extra argv, e.g. the yaml indent) and returns its stdout. */
export function runOracle(name: OracleName, input: string, args: string[] = []): string {
  return execFileSync(oracleBinary(name), args, { input, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }).toString(
    "utf8",
  );
}
