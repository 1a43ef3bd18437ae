/**
 * Interop with the real Go `age` CLI (Debian's age, installed by .ci/run) and OpenSSH's ssh-keygen,
 * on keys generated inside the test. Never skipped: a missing binary fails with a clear message.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decryptDataKey,
  encryptDataKey,
  encryptAgeSync,
  encryptDataKeysSync,
  parseIdentities,
  parseRecipient,
  sshFingerprint,
  sshToAgeIdentity,
  sshToAgeRecipient,
} from "../../provider/age";

const AGE = "/usr/bin/age";
const AGE_KEYGEN = "/usr/bin/age-keygen";
const SSH_KEYGEN = "/usr/bin/ssh-keygen";

function sh(cmd: string, args: string[], input?: Buffer | string): SpawnSyncReturns<Buffer> {
  const r = spawnSync(cmd, args, { input, timeout: 30_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr.toString()}`);
  return r;
}

let dir = "";
let xKeys = "";
let xRecipient = "";
let sshKey = "";
let sshPub = "";

beforeAll(() => {
  for (const b of [AGE, AGE_KEYGEN, SSH_KEYGEN]) {
    if (!existsSync(b))
      throw new Error(
        `${b} is missing: install Debian's age and openssh-client (.ci/run does) to run the age interop tests`,
      );
  }
  dir = mkdtempSync(join(tmpdir(), "kf-age-interop-"));
  xKeys = join(dir, "keys.txt");
  sh(AGE_KEYGEN, ["-o", xKeys]);
  xRecipient = sh(AGE_KEYGEN, ["-y", xKeys]).stdout.toString().trim();
  sshKey = join(dir, "id_ed25519");
  sh(SSH_KEYGEN, ["-q", "-t", "ed25519", "-N", "", "-C", "interop@test", "-f", sshKey]);
  sshPub = readFileSync(sshKey + ".pub", "utf8");
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("ours → age -d", () => {
  it("X25519 recipient from age-keygen", async () => {
    const key = randomBytes(32);
    const f = join(dir, "x.age");
    writeFileSync(f, await encryptDataKey(key, parseRecipient(xRecipient)));
    expect(sh(AGE, ["-d", "-i", xKeys, f]).stdout.equals(key)).toBe(true);
  });
  it("ssh-ed25519 recipient from ssh-keygen", async () => {
    const key = randomBytes(32);
    const f = join(dir, "s.age");
    writeFileSync(f, await encryptDataKey(key, parseRecipient(sshPub)));
    expect(sh(AGE, ["-d", "-i", sshKey, f]).stdout.equals(key)).toBe(true);
  });
  it("a batch (one CSPRNG draw for every file) gives files age -d opens, each with its own key", () => {
    const key = randomBytes(32);
    const files = encryptDataKeysSync(key, [
      parseRecipient(xRecipient),
      parseRecipient(sshPub),
      parseRecipient(xRecipient),
    ]);
    expect(new Set(files).size).toBe(3);
    const ids = [xKeys, sshKey, xKeys];
    files.forEach((armored, i) => {
      const f = join(dir, `batch-${i}.age`);
      writeFileSync(f, armored);
      expect(sh(AGE, ["-d", "-i", ids[i] as string, f]).stdout.equals(key)).toBe(true);
    });
    // the ssh-ed25519 file is not for the X25519 key
    expect(spawnSync(AGE, ["-d", "-i", xKeys, join(dir, "batch-1.age")], { timeout: 30_000 }).status).not.toBe(0);
  });
  it("binary multi-recipient, multi-chunk file", () => {
    const plain = randomBytes(150_000);
    const f = join(dir, "big.age");
    writeFileSync(f, encryptAgeSync(plain, [parseRecipient(sshPub), parseRecipient(xRecipient)]));
    expect(sh(AGE, ["-d", "-i", xKeys, f]).stdout.equals(plain)).toBe(true);
    expect(sh(AGE, ["-d", "-i", sshKey, f]).stdout.equals(plain)).toBe(true);
  });
  it("ssh-to-age converted recipient opens with the converted identity in age", async () => {
    const key = randomBytes(32);
    const f = join(dir, "conv.age");
    writeFileSync(f, await encryptDataKey(key, parseRecipient(sshToAgeRecipient(sshPub))));
    const conv = join(dir, "conv.txt");
    writeFileSync(conv, sshToAgeIdentity(readFileSync(sshKey, "utf8")) + "\n");
    expect(sh(AGE, ["-d", "-i", conv, f]).stdout.equals(key)).toBe(true);
    expect(sh(AGE_KEYGEN, ["-y", conv]).stdout.toString().trim()).toBe(sshToAgeRecipient(sshPub));
  });
});

describe("age -r / -R → ours", () => {
  it("age -a -r age1… decrypts with our X25519 identity", async () => {
    const key = randomBytes(32);
    const armored = sh(AGE, ["-a", "-r", xRecipient], key).stdout.toString();
    const ids = parseIdentities(readFileSync(xKeys, "utf8"), xKeys);
    expect(Buffer.from((await decryptDataKey(armored, ids)) as Uint8Array).equals(key)).toBe(true);
  });
  it("age -a -R id_ed25519.pub decrypts with our ssh-ed25519 identity", async () => {
    const key = randomBytes(32);
    const armored = sh(AGE, ["-a", "-R", sshKey + ".pub"], key).stdout.toString();
    const ids = parseIdentities(readFileSync(sshKey, "utf8"), sshKey);
    expect(Buffer.from((await decryptDataKey(armored, ids)) as Uint8Array).equals(key)).toBe(true);
    const other = parseIdentities(readFileSync(xKeys, "utf8"), xKeys);
    expect(await decryptDataKey(armored, other)).toBeNull();
  });
});

describe("fingerprints match ssh-keygen -lf", () => {
  it("ed25519 key generated here and the rsa/ed25519 test keys", () => {
    const fp = (f: string): string => sh(SSH_KEYGEN, ["-lf", f]).stdout.toString().split(" ")[1] as string;
    expect(sshFingerprint(sshPub)).toBe(fp(sshKey + ".pub"));
    const rsa = join(dir, "id_rsa");
    sh(SSH_KEYGEN, ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa]);
    expect(sshFingerprint(readFileSync(rsa + ".pub", "utf8"))).toBe(fp(rsa + ".pub"));
    expect(() => parseRecipient(readFileSync(rsa + ".pub", "utf8"))).toThrow(/ssh-rsa/);
  });
});
