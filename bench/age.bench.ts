/**
 * Benchmark: wrapping a 32-byte sops data key for 21 recipients (21 separate armored age files, as
 * sops stores one per recipient), then unwrapping. Compares, in the same run:
 *  - ours: encryptDataKeysSync (what sops encryption calls: one armored file per recipient, the
 *    batch's randomness drawn in one call) / decryptDataKeySync (node:crypto X25519, own age format);
 *  - age-encryption 0.3.1: Encrypter.addRecipient("age1…") + armor.encode, Decrypter + armor.decode;
 *  - the age CLI: one process per sops file with `-r` × 21 (the floor for shelling out).
 *  - the floor: node:crypto's own X25519 doing only what age needs of it: to wrap, per recipient an
 *    ephemeral key from 32 random bytes, the Diffie-Hellman and the ephemeral public-key export
 *    (issue 13; judged ≤ 1.3× at 1, 21 and 200 recipients); to unwrap, one Diffie-Hellman per file.
 * Prints medians of several samples; judges the ratios ours / peer (bench/judge.ts).
 */
import { spawnSync } from "node:child_process";
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from "node:crypto";
import { existsSync } from "node:fs";
import { Decrypter, Encrypter, armor } from "age-encryption";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  SshEd25519Identity,
  X25519Identity,
  decryptDataKeySync,
  encryptDataKeysSync,
  generateX25519,
  parseIdentities,
  parseRecipient,
  type AgeIdentity,
  type AgeRecipient,
} from "../provider/age";
import { median, report, type Comparison } from "./judge";

const N = 21;
const SAMPLES = 7;

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

/**
 * Medians of `a` and `b` (ms per call) from CURVE_SAMPLES paired samples: each sample times `iters`
 * calls of one then of the other, the order alternating, so a shift in machine load hits both alike.
 */
async function measurePair(iters: number, a: () => unknown, b: () => unknown): Promise<[number, number]> {
  const one = (f: () => unknown): number => {
    const t = performance.now();
    for (let i = 0; i < iters; i++) f();
    return (performance.now() - t) / iters;
  };
  for (let i = 0; i < Math.max(2, iters / 4); i++) {
    a();
    b();
  }
  const as: number[] = [];
  const bs: number[] = [];
  for (let s = 0; s < CURVE_SAMPLES; s++) {
    if (s % 2 === 0) {
      as.push(one(a));
      bs.push(one(b));
    } else {
      bs.push(one(b));
      as.push(one(a));
    }
  }
  return [median(as), median(bs)];
}
const CURVE_SAMPLES = 15;

function progress(s: string): void {
  if (process.env.BENCH_DEBUG) process.stderr.write(s + "\n");
}

function row(label: string, ms: number, base?: number): void {
  const ratio = base === undefined ? "" : `  ${(ms / base).toFixed(1)}× ours`;
  process.stdout.write(`  ${label.padEnd(58)} ${ms.toFixed(3).padStart(9)} ms${ratio}\n`);
}

/**
 * Overhead allowed over the floor: ours also derives keys (HKDF), seals the file key and the 32-byte
 * payload (ChaCha20-Poly1305), MACs the header and armors the file; the floor does only X25519.
 */
const WRAP_OVER_FLOOR = 1.3;
const UNWRAP_OVER_FLOOR = 6;
const judged: Comparison[] = [];

/** node:crypto's key object for 32 raw X25519 public bytes. */
function rawPublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") },
    format: "jwk",
  });
}

/** node:crypto's key object for an age1… recipient (made before timing: the floor does no parsing). */
function publicKeyObject(recipient: string): KeyObject {
  const raw = (parseRecipient(recipient) as unknown as { publicKey?: Uint8Array }).publicKey;
  if (!raw) throw new Error("bench: X25519 recipient without publicKey");
  return rawPublicKey(raw);
}

const JWK_ZERO_X = Buffer.alloc(32).toString("base64url");

/** The X25519 floor for `keys`: a key from 32 random bytes, DH and public export, per recipient. */
function floorWrapAll(keys: readonly KeyObject[]): unknown[] {
  return keys.map((pub) => {
    const priv = createPrivateKey({
      key: { kty: "OKP", crv: "X25519", d: randomBytes(32).toString("base64url"), x: JWK_ZERO_X },
      format: "jwk",
    });
    const ss = diffieHellman({ privateKey: priv, publicKey: pub });
    return [ss, createPublicKey(priv).export({ format: "jwk" }).x];
  });
}

/** Wrap against the floor at 1, 21 and 200 recipients (how the cost grows), judged at each. */
async function wrapCurve(): Promise<void> {
  process.stdout.write(
    `\nwrap against the X25519 floor by recipient count (one armored file each); medians of ${CURVE_SAMPLES} paired samples\n`,
  );
  for (const n of [1, N, 200]) {
    const keys = Array.from({ length: n }, () => generateX25519());
    const rs = keys.map((k) => parseRecipient(k.recipient));
    const pubs = keys.map((k) => publicKeyObject(k.recipient));
    const dataKey = randomBytes(32);
    const iters = Math.max(2, Math.round(600 / n));
    const [o, f] = await measurePair(
      iters,
      () => encryptDataKeysSync(dataKey, rs),
      () => floorWrapAll(pubs),
    );
    row(`ours, ${n} × X25519 (floor ${f.toFixed(3)} ms)`, o, f);
    judged.push({
      what: `wrap for ${n} X25519 recipient${n > 1 ? "s" : ""}`,
      ours: o,
      peer: f,
      peerName: "node:crypto X25519 (floor)",
      unit: "ms",
      maxRatio: WRAP_OVER_FLOOR,
    });
  }
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

  process.stdout.write(
    `wrap a 32-byte data key for ${N} recipients (${N} armored files) = one sops file; medians of ${SAMPLES}\n`,
  );
  const oursX = await measure(50, () => encryptDataKeysSync(dataKey, xRecipients));
  const oursS = await measure(50, () => encryptDataKeysSync(dataKey, sshRecipients));
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
  // the floor (issue 13): node:crypto's X25519 work alone, per recipient an ephemeral key from 32
  // random bytes, the Diffie-Hellman and the export of the ephemeral public key; nothing else
  const recipientKeys = xKeys.map((k) => publicKeyObject(k.recipient));
  const floorWrap = await measure(50, () => floorWrapAll(recipientKeys));
  row(`ours, ${N} × X25519`, oursX);
  row(`ours, ${N} × ssh-ed25519`, oursS);
  row(`age-encryption Encrypter("age1…") + armor, ${N} × X25519`, typageX, oursX);
  row(`age-encryption Encrypter(our X25519Recipient), ${N} files`, typageOurRecipient, oursX);
  row(`age CLI, one process, -r × ${N} (floor for shelling out)`, cli, oursX);
  row(`node:crypto X25519 key from 32 bytes + DH + export × ${N} (floor)`, floorWrap, oursX);
  judged.push(
    {
      what: `wrap for ${N} X25519 (one sops file)`,
      ours: oursX,
      peer: typageX,
      peerName: "age-encryption",
      unit: "ms",
      maxRatio: 1,
    },
    {
      what: `wrap for ${N} X25519 (one sops file)`,
      ours: oursX,
      peer: cli,
      peerName: "age CLI process",
      unit: "ms",
      maxRatio: 1,
    },
  );

  process.stdout.write(`\nunwrap (one identity, its own file), ×${N} files\n`);
  const xFiles = encryptDataKeysSync(dataKey, xRecipients);
  const sFiles = encryptDataKeysSync(dataKey, sshRecipients);
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
  // node's own identity keys, made before timing; timed: importing each file's 32-byte ephemeral share
  // (as any reader of an age file must) and the Diffie-Hellman
  const idKeys = xKeys.map(() => generateKeyPairSync("x25519").privateKey);
  const shares = xKeys.map(
    () => (parseRecipient(generateX25519().recipient) as unknown as { publicKey: Uint8Array }).publicKey,
  );
  const floorUnwrap = await measure(50, () =>
    idKeys.map((priv, i) => diffieHellman({ privateKey: priv, publicKey: rawPublicKey(shares[i] as Uint8Array) })),
  );
  row(`ours, ${N} × X25519`, unX);
  row(`ours, ${N} × ssh-ed25519`, unS);
  row(`age-encryption Decrypter("AGE-SECRET-KEY-1…"), ${N} × X25519`, unTypage, unX);
  row(`age CLI -d, one file (ratio vs ours per file; × ${N} = ${(unCli * N).toFixed(0)} ms)`, unCli, unX / N);
  row(`node:crypto X25519 share import + DH × ${N} (floor)`, floorUnwrap, unX);
  judged.push(
    {
      what: `unwrap ${N} files (X25519)`,
      ours: unX,
      peer: floorUnwrap,
      peerName: "node:crypto X25519 (floor)",
      unit: "ms",
      maxRatio: UNWRAP_OVER_FLOOR,
    },
    {
      what: `unwrap ${N} files (X25519)`,
      ours: unX,
      peer: unTypage,
      peerName: "age-encryption",
      unit: "ms",
      maxRatio: 1,
    },
    {
      what: "unwrap one file (X25519)",
      ours: unX / N,
      peer: unCli,
      peerName: "age CLI -d process",
      unit: "ms",
      maxRatio: 1,
    },
  );
  await wrapCurve();
  process.stdout.write("\n");
  report(judged);
  void X25519Identity;
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
