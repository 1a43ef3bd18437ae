/**
 * Benchmark: wrapping a 32-byte sops data key for 21 recipients (21 separate armored age files, as
 * sops stores one per recipient), then unwrapping. Compares, in the same run:
 *  - ours: encryptDataKeySync / decryptDataKeySync (node:crypto X25519, own age format);
 *  - age-encryption 0.3.1: Encrypter.addRecipient("age1…") + armor.encode, Decrypter + armor.decode;
 *  - the age CLI: one process per sops file with `-r` × 21 (the floor for shelling out).
 * Prints medians of several samples and ratios. Target: ours ≤ 3 ms per sops file for 21 X25519.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { Decrypter, Encrypter, armor } from "age-encryption";
import { ed25519 } from "@noble/curves/ed25519.js";
import { SshEd25519Identity, X25519Identity, decryptDataKeySync, encryptDataKeySync, generateX25519, parseIdentities, parseRecipient, type AgeIdentity, type AgeRecipient } from "../provider/age";

const N = 21;
const SAMPLES = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median ms per call of `f` over SAMPLES samples of `iters` calls each (after a warm-up). */
async function measure(iters: number, f: () => unknown): Promise<number> {
  progress(`measure ${iters}`);
  for (let i = 0; i < Math.max(2, iters / 4); i++) await f();
  const xs: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t = performance.now();
    for (let i = 0; i < iters; i++) await f();
    xs.push((performance.now() - t) / iters);
  }
  return median(xs);
}

function progress(s: string): void {
  if (process.env.BENCH_DEBUG) process.stderr.write(s + "\n");
}

function row(label: string, ms: number, base?: number): void {
  const ratio = base === undefined ? "" : `  ${(ms / base).toFixed(1)}× ours`;
  process.stdout.write(`  ${label.padEnd(58)} ${ms.toFixed(3).padStart(9)} ms${ratio}\n`);
}

async function main(): Promise<void> {
  const dataKey = randomBytes(32);
  const xKeys = Array.from({ length: N }, () => generateX25519());
  const xRecipients: AgeRecipient[] = xKeys.map((k) => parseRecipient(k.recipient));
  const xIds: AgeIdentity[] = xKeys.map((k, i) => parseIdentities(k.identity, `bench ${i}`)[0] as AgeIdentity);
  const sshIds = Array.from({ length: N }, (_, i) => {
    const seed = randomBytes(32);
    return new SshEd25519Identity(seed, ed25519.getPublicKey(seed), `bench ssh ${i}`);
  });
  const sshRecipients: AgeRecipient[] = sshIds.map((id) => parseRecipient(id.recipient().toString()));

  process.stdout.write(`wrap a 32-byte data key for ${N} recipients (${N} armored files) = one sops file; medians of ${SAMPLES}\n`);
  const oursX = await measure(50, () => xRecipients.map((r) => encryptDataKeySync(dataKey, r)));
  const oursS = await measure(50, () => sshRecipients.map((r) => encryptDataKeySync(dataKey, r)));
  const typageX = await measure(2, async () => {
    const out: string[] = [];
    for (const k of xKeys) {
      const e = new Encrypter();
      e.addRecipient(k.recipient);
      out.push(armor.encode(await e.encrypt(dataKey)));
    }
    return out;
  });
  const typageOurRecipient = await measure(10, async () => {
    const out: string[] = [];
    for (const r of xRecipients) {
      const e = new Encrypter();
      e.addRecipient(r);
      out.push(armor.encode(await e.encrypt(dataKey)));
    }
    return out;
  });
  let cli = Number.NaN;
  if (existsSync("/usr/bin/age")) {
    const args = ["-a", ...xKeys.flatMap((k) => ["-r", k.recipient])];
    cli = await measure(3, () => {
      const r = spawnSync("/usr/bin/age", args, { input: dataKey, timeout: 30_000 });
      if (r.status !== 0) throw new Error(`age exited ${r.status}: ${r.stderr}`);
    });
  }
  row(`ours, ${N} × X25519`, oursX);
  row(`ours, ${N} × ssh-ed25519`, oursS);
  row(`age-encryption Encrypter("age1…") + armor, ${N} × X25519`, typageX, oursX);
  row(`age-encryption Encrypter(our X25519Recipient), ${N} files`, typageOurRecipient, oursX);
  row(`age CLI, one process, -r × ${N} (floor for shelling out)`, cli, oursX);
  process.stdout.write(`  target ≤ 3 ms per sops file for ${N} X25519: ${oursX <= 3 ? "met" : "MISSED"} (${oursX.toFixed(2)} ms)\n`);

  process.stdout.write(`\nunwrap (one identity, its own file), ×${N} files\n`);
  const xFiles = xRecipients.map((r) => encryptDataKeySync(dataKey, r));
  const sFiles = sshRecipients.map((r) => encryptDataKeySync(dataKey, r));
  const unX = await measure(50, () => xFiles.map((f, i) => decryptDataKeySync(f, [xIds[i] as AgeIdentity])));
  const unS = await measure(50, () => sFiles.map((f, i) => decryptDataKeySync(f, [sshIds[i] as AgeIdentity])));
  const unTypage = await measure(2, async () => {
    for (let i = 0; i < N; i++) {
      const d = new Decrypter();
      d.addIdentity((xKeys[i] as { identity: string }).identity);
      await d.decrypt(armor.decode(xFiles[i] as string));
    }
  });
  let unCli = Number.NaN;
  if (existsSync("/usr/bin/age")) {
    const { writeFileSync, mkdtempSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const d = mkdtempSync(join(tmpdir(), "kf-bench-"));
    try {
      writeFileSync(join(d, "k"), (xKeys[0] as { identity: string }).identity + "\n", { mode: 0o600 });
      unCli = await measure(3, () => {
        const r = spawnSync("/usr/bin/age", ["-d", "-i", join(d, "k")], { input: xFiles[0], timeout: 30_000 });
        if (r.status !== 0) throw new Error(`age -d exited ${r.status}`);
      });
    } finally {
      rmSync(d, { recursive: true, force: true }); // holds an identity: removed even when age fails
    }
  }
  row(`ours, ${N} × X25519`, unX);
  row(`ours, ${N} × ssh-ed25519`, unS);
  row(`age-encryption Decrypter("AGE-SECRET-KEY-1…"), ${N} × X25519`, unTypage, unX);
  row(`age CLI -d, one file (ratio vs ours per file; × ${N} = ${(unCli * N).toFixed(0)} ms)`, unCli, unX / N);
  void X25519Identity;
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
