/**
 * Runs every benchmark in dist/bench/*.bench.js, one child process each, in name order.
 *
 * Each benchmark measures keyfleet and its peer side by side in the same process run and prints
 * medians, and judges each ratio keyfleet / peer against its bound (bench/judge.ts). This runner
 * sequences them; a benchmark that exits 3 had a ratio over its bound, any other failure is a crash.
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
let over = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f.replace(/\.bench\.js$/, "")} ===\n`);
  const r = spawnSync(process.execPath, ["--expose-gc", join(dir, f)], { stdio: "inherit" });
  if (r.status === 3) {
    over++;
    process.stdout.write(`benchmark ${f}: a ratio is over its bound\n`);
  } else if (r.status !== 0) {
    failed++;
    process.stdout.write(`benchmark ${f} failed with status ${r.status}\n`);
  }
}
if (files.length === 0) process.stdout.write("no benchmarks found\n");
process.stdout.write(`\n${files.length} benchmarks: ${failed} failed, ${over} with a ratio over its bound\n`);
process.exit(failed ? 1 : over ? 3 : 0);
