/**
 * Property tests (fast-check): wrap then unwrap round-trips for random keys and data keys, through
 * our format and through age-encryption's Encrypter/Decrypter with our recipients/identities.
 * `SLOW=1` runs ten times as many cases.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decrypter, Encrypter, armor as typageArmor, type Identity, type Recipient } from "age-encryption";
import {
  SshEd25519Identity,
  X25519Identity,
  decryptDataKeySync,
  encryptAgeSync,
  decryptAgeSync,
  encryptDataKeySync,
  encryptDataKeysSync,
  parseRecipient,
} from "../../../provider/age";
import { ed25519 } from "@noble/curves/ed25519.js";

const RUNS = process.env.SLOW === "1" ? 500 : 50;
const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

function sshIdentity(seed: Uint8Array): SshEd25519Identity {
  return new SshEd25519Identity(seed, ed25519.getPublicKey(seed), "property");
}

describe("wrap → unwrap round trips", () => {
  it("x25519: random identity and data key", () => {
    fc.assert(
      fc.property(key32, fc.uint8Array({ minLength: 0, maxLength: 64 }), (scalar, dataKey) => {
        const id = new X25519Identity(scalar, "property");
        const r = parseRecipient(id.recipient().toString());
        const armored = encryptDataKeySync(dataKey, r);
        expect(Buffer.from(decryptDataKeySync(armored, [id]) as Uint8Array).equals(Buffer.from(dataKey))).toBe(true);
        const other = new X25519Identity(createHash("sha256").update(scalar).digest(), "other");
        expect(decryptDataKeySync(armored, [other])).toBeNull();
      }),
      { numRuns: RUNS },
    );
  });

  it("ssh-ed25519: random seed and data key", () => {
    fc.assert(
      fc.property(key32, key32, (seed, dataKey) => {
        const id = sshIdentity(seed);
        const r = parseRecipient(id.recipient().toString() + " comment");
        expect(r.kind).toBe("ssh-ed25519");
        const armored = encryptDataKeySync(dataKey, r);
        expect(Buffer.from(decryptDataKeySync(armored, [id]) as Uint8Array).equals(Buffer.from(dataKey))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("a batch: file i opens with identity i only, and no two files share an ephemeral share", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key32, fc.boolean()), { minLength: 1, maxLength: 6 }), key32, (keys, dataKey) => {
        const ids = keys.map(([seed, ssh], i) => (ssh ? sshIdentity(seed) : new X25519Identity(seed, `batch ${i}`)));
        const files = encryptDataKeysSync(
          dataKey,
          ids.map((id) => parseRecipient(id.recipient().toString())),
        );
        expect(files).toHaveLength(ids.length);
        const shares = new Set<string>();
        files.forEach((f, i) => {
          expect(Buffer.from(decryptDataKeySync(f, [ids[i] as X25519Identity]) as Uint8Array)).toEqual(
            Buffer.from(dataKey),
          );
          const stanza = Buffer.from(f.split("\n").slice(1, -2).join(""), "base64").toString("latin1").split("\n")[1];
          shares.add((stanza as string).split(" ").pop() as string);
          const j = (i + 1) % ids.length;
          const sameKey = ids[j]?.recipient().toString() === ids[i]?.recipient().toString();
          if (!sameKey) expect(decryptDataKeySync(f, [ids[j] as X25519Identity])).toBeNull();
        });
        expect(shares.size).toBe(files.length);
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });
  it("multi-chunk payloads round-trip (STREAM chunk boundaries)", () => {
    fc.assert(
      fc.property(key32, fc.constantFrom(0, 1, 65535, 65536, 65537, 131072, 200000), (scalar, n) => {
        const id = new X25519Identity(scalar, "property");
        const plain = Buffer.alloc(n, n & 0xff);
        const out = decryptAgeSync(encryptAgeSync(plain, [id.recipient()]), [id]);
        expect(Buffer.from(out as Uint8Array).equals(plain)).toBe(true);
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });

  it("interoperates with age-encryption's Encrypter/Decrypter both ways", async () => {
    await fc.assert(
      fc.asyncProperty(key32, key32, fc.uint8Array({ minLength: 0, maxLength: 100 }), async (scalar, seed, data) => {
        const x = new X25519Identity(scalar, "p");
        const s = sshIdentity(seed);
        // theirs → ours
        const e = new Encrypter();
        e.addRecipient(x.recipient().toString());
        e.addRecipient(s.recipient() satisfies Recipient);
        const file = await e.encrypt(data);
        expect(Buffer.from(decryptAgeSync(file, [s]) as Uint8Array).equals(Buffer.from(data))).toBe(true);
        expect(Buffer.from(decryptAgeSync(file, [x]) as Uint8Array).equals(Buffer.from(data))).toBe(true);
        // ours → theirs
        const d = new Decrypter();
        d.addIdentity(s satisfies Identity);
        const armored = encryptDataKeySync(data, s.recipient());
        expect(Buffer.from(await d.decrypt(typageArmor.decode(armored))).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });
});
