/**
 * C2SP CCTV age vectors (C2SP/CCTV@1e3d2860 age/testdata, copied to shared/vectors/age/cctv).
 * Every vector whose identity is X25519 runs twice: through our own age parser
 * (decryptAgeSync / dearmor) and through age-encryption's Decrypter with OUR X25519Identity.
 * Only vectors needing a passphrase (scrypt) or a post-quantum hybrid identity are skipped, and
 * they are counted.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Decrypter, armor as typageArmor } from "age-encryption";
import { AgeFormatError, dearmor, decryptAgeSync, generateX25519, parseX25519Identity } from "../../../provider/age";

const DIR = join(__dirname, "../../../../shared/vectors/age/cctv/testdata");

interface Vector {
  name: string;
  expect: string;
  payload?: string;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  file: Buffer;
}

function load(name: string): Vector {
  const raw = readFileSync(join(DIR, name));
  const sep = raw.indexOf("\n\n");
  const head = raw.subarray(0, sep).toString("latin1").split("\n");
  let file: Buffer = raw.subarray(sep + 2);
  const v: Vector = { name, expect: "", identities: [], passphrases: [], armored: false, file };
  for (const l of head) {
    const i = l.indexOf(": ");
    const k = l.slice(0, i);
    const val = l.slice(i + 2);
    if (k === "expect") v.expect = val;
    else if (k === "payload") v.payload = val;
    else if (k === "identity") v.identities.push(val);
    else if (k === "passphrase") v.passphrases.push(val);
    else if (k === "armored") v.armored = val === "yes";
    else if (k === "compressed") file = inflateSync(file);
  }
  v.file = file;
  return v;
}

const all = readdirSync(DIR).sort().map(load);
// Vectors with no identity line (e.g. `empty`) fail before any identity is consulted; they run with
// a fresh X25519 identity.
for (const v of all)
  if (v.identities.length === 0 && v.passphrases.length === 0) v.identities.push(generateX25519().identity);
const runnable = all.filter(
  (v) => v.passphrases.length === 0 && v.identities.every((i) => i.startsWith("AGE-SECRET-KEY-1")),
);
const skipped = all.filter((v) => !runnable.includes(v));

function sha(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

describe("CCTV age vectors", () => {
  it("covers every vector except scrypt/hybrid ones needing identities we do not implement", () => {
    for (const v of skipped) expect(v.name).toMatch(/^(scrypt|hybrid|armor_scrypt|armor_hybrid)/);
    expect(all.length).toBe(143);
    expect(runnable.length).toBe(98);
    process.stdout.write(`CCTV: ${runnable.length} vectors run, ${skipped.length} skipped (scrypt/hybrid)\n`);
  });

  describe.each(runnable.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const ids = v.identities.map((s, i) => parseX25519Identity(s, `cctv ${v.name} identity ${i + 1}`));

    it(`ours: ${v.expect}`, () => {
      const run = (): Buffer | null => decryptAgeSync(v.armored ? dearmor(v.file.toString("latin1")) : v.file, ids);
      if (v.expect === "success") {
        const out = run();
        expect(out).not.toBeNull();
        expect(sha(out as Buffer)).toBe(v.payload);
      } else if (v.expect === "no match") {
        expect(run()).toBeNull();
      } else {
        expect(run).toThrow(AgeFormatError);
      }
    });

    it(`age-encryption Decrypter with our identity: ${v.expect}`, async () => {
      const d = new Decrypter();
      for (const id of ids) d.addIdentity(id);
      const run = async (): Promise<Uint8Array> =>
        d.decrypt(v.armored ? typageArmor.decode(v.file.toString("latin1")) : v.file);
      if (v.expect === "success") expect(sha(await run())).toBe(v.payload);
      else await expect(run()).rejects.toThrow();
    });
  });
});
