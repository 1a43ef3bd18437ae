/**
 * Runs every benchmark in dist/bench/*.bench.js, one child process each, in name order.
 *
 * Each benchmark measures keyfleet and its peer side by side in the same process run and prints
 * medians and ratios; this runner only sequences them and fails if one fails.
 * `npm run bench -- age` runs only the benchmarks whose file name contains "age".
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const filter = process.argv[2] ?? "";
const dir = __dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.js") && f.includes(filter))
  .sort();
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f.replace(/\.bench\.js$/, "")} ===\n`);
  const r = spawnSync(process.execPath, ["--expose-gc", join(dir, f)], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`benchmark ${f} failed with status ${r.status}\n`);
  }
}
if (files.length === 0) process.stdout.write("no benchmarks found\n");
process.exit(failed ? 1 : 0);
