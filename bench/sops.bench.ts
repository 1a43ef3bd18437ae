/**
 * sops benchmark: 1000 yaml files × 20 keys × 20 X25519 recipients in a tmp dir.
 * (a) add one recipient to every file (read, unwrap, wrap, re-emit, atomic write) vs the floor for a
 *     tool that shells out once per file: one `age -a -r NEW` process per file wrapping the data key
 *     (run on 100 files and scaled ×10; said in the output);
 * (b) decrypt every file (MAC verified); (c) peak RSS. Medians of 3 runs.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseIdentities, parseRecipient } from "../provider/age/index.js";
import { decrypt, encrypt, updateRecipients, writeFileAtomic } from "../provider/sops/index.js";

const FILES = Number(process.env.SOPS_BENCH_FILES ?? 1000);
const KEYS = 20;
const RECIPIENTS = 20;
const CLI_SUBSET = Math.min(100, FILES);
const RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kf-sops-bench-"));
  try {
    const keys = Array.from({ length: RECIPIENTS }, () => generateX25519());
    const recipients = keys.map((k) => parseRecipient(k.recipient));
    const ids = parseIdentities((keys[0] as { identity: string }).identity, "bench key 0");
    const plain = Array.from({ length: KEYS }, (_, i) => `key_${i}: value-${i}-${"x".repeat(24)}`).join("\n") + "\n";
    const paths: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < FILES; i++) {
      const p = join(dir, `f${i}.yaml`);
      writeFileSync(p, await encrypt(plain, { format: "yaml", recipients }));
      paths.push(p);
    }
    process.stdout.write(`fixture: ${FILES} yaml files × ${KEYS} keys × ${RECIPIENTS} recipients in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const originals = paths.map((p) => readFileSync(p, "utf8"));

    const addTimes: number[] = [];
    const decTimes: number[] = [];
    const cliTimes: number[] = [];
    const writeTimes: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      paths.forEach((p, i) => writeFileSync(p, originals[i] as string));
      const newcomer = parseRecipient(generateX25519().recipient);
      const all = [...recipients, newcomer];
      let t = performance.now();
      let writeMs = 0;
      for (const p of paths) {
        const r = await updateRecipients(readFileSync(p, "utf8"), { format: "yaml", identities: ids, recipients: all, file: p });
        if (r.added.length !== 1 || r.rotated) throw new Error("bench: unexpected updateRecipients result");
        const w = performance.now();
        writeFileAtomic(p, r.text);
        writeMs += performance.now() - w;
      }
      addTimes.push(performance.now() - t);
      writeTimes.push(writeMs);

      t = performance.now();
      let leaves = 0;
      for (const p of paths) leaves += (await decrypt(readFileSync(p, "utf8"), { format: "yaml", identities: ids, file: p })).leaves.length;
      decTimes.push(performance.now() - t);
      if (leaves !== FILES * KEYS) throw new Error("bench: wrong leaf count");

      const dk = Buffer.alloc(32, run);
      t = performance.now();
      for (let i = 0; i < CLI_SUBSET; i++) execFileSync("/usr/bin/age", ["-a", "-r", newcomer.toString()], { input: dk });
      cliTimes.push(((performance.now() - t) * FILES) / CLI_SUBSET);
    }
    const add = median(addTimes) / 1000;
    const cli = median(cliTimes) / 1000;
    const dec = median(decTimes) / 1000;
    const rssMb = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(`(a) add one recipient to ${FILES} files: keyfleet ${add.toFixed(2)} s (target ≤ 3 s) | age CLI loop, one process per file: ${cli.toFixed(2)} s (measured on ${CLI_SUBSET} files, scaled ×${(FILES / CLI_SUBSET).toFixed(0)}) | ratio age-CLI/keyfleet ${(cli / add).toFixed(1)}×\n`);
    process.stdout.write(`    of which atomic writes (fsync file + dir, rename): ${(median(writeTimes) / 1000).toFixed(2)} s; compute-only ratio age-CLI/keyfleet ${(cli / (add - median(writeTimes) / 1000)).toFixed(1)}×\n`);
    process.stdout.write(`(b) decrypt ${FILES} files (MAC verified): keyfleet ${dec.toFixed(2)} s (target ≤ 2 s)\n`);
    process.stdout.write(`(c) peak RSS ${rssMb.toFixed(0)} MB (target ≤ 300 MB)\n`);
    process.stdout.write(`runs: add ${addTimes.map((x) => (x / 1000).toFixed(2)).join(", ")} s; decrypt ${decTimes.map((x) => (x / 1000).toFixed(2)).join(", ")} s; cli ${cliTimes.map((x) => (x / 1000).toFixed(2)).join(", ")} s\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`sops bench failed: ${String(e)}\n`);
  process.exit(1);
});
