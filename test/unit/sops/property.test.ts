// Property tests on random trees (fast-check; SLOW=1 for more runs) and seeded fuzzing of real files.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decryptWithDataKey, encryptWithDataKey } from "../../../provider/sops/core.js";
import { storeFor, type SopsFormat } from "../../../provider/sops/stores/index.js";
import { fromPlain, type Mapping } from "../../../provider/sops/tree.js";
import { isKeyfleetError } from "../../../provider/errors.js";

const SLOW = process.env.SLOW === "1";
const key = new Uint8Array(32).fill(7);
const keyArb = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 8 })
  .filter((s) => s !== "sops" && !s.includes("\u0000"));
const leaf = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.constant(""),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 0n),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.boolean(),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.dictionary(keyArb, tie("node"), { maxKeys: 4 }),
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("node"), { maxLength: 3 }),
    tie("tree"),
  ),
}));

function norm(v: unknown): unknown {
  if (typeof v === "bigint")
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

describe("random trees round-trip through encrypt → decrypt", () => {
  for (const fmt of ["yaml", "json"] as SopsFormat[]) {
    it(fmt, () => {
      fc.assert(
        fc.property(tree, (t) => {
          const plain = storeFor(fmt).emitPlain([fromPlain(t) as Mapping]) as string;
          const enc = encryptWithDataKey(plain, fmt, key, { age: [{ recipient: "age1x", enc: "x" }] });
          const d = decryptWithDataKey(enc, fmt, key);
          const back = storeFor(fmt).parsePlain(d.emit() as string).tree[0];
          const orig = storeFor(fmt).parsePlain(plain).tree[0];
          expect(norm(JSON.parse(JSON.stringify(back, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))))).toEqual(
            norm(JSON.parse(JSON.stringify(orig, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)))),
          );
        }),
        { numRuns: SLOW ? 1000 : 100, seed: 42 },
      );
    });
  }
  it("dotenv with unicode values and empty strings", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/).filter((k) => !k.startsWith("SOPS_")),
          fc.string({ unit: "grapheme", maxLength: 10 }).filter((s) => !s.includes("\\n") && !s.includes("\r")),
          { maxKeys: 6 },
        ),
        (o) => {
          const plain = Object.entries(o)
            .map(([k, v]) => `${k}=${v.replace(/\n/g, "\\n")}\n`)
            .join("");
          const enc = encryptWithDataKey(plain, "dotenv", key, { age: [{ recipient: "age1x", enc: "x" }] });
          expect(decryptWithDataKey(enc, "dotenv", key).emit()).toBe(plain);
        },
      ),
      { numRuns: SLOW ? 1000 : 100, seed: 7 },
    );
  });
});

describe("fuzz: seeded mutations of real files give only typed errors", () => {
  const VEC = join(__dirname, "../../../../shared/vectors/sops");
  const expected = JSON.parse(readFileSync(join(VEC, "expected.json"), "utf8")) as Record<
    string,
    { format: SopsFormat; data_key_hex: string }
  >;
  const files = Object.entries(expected).map(([n, e]) => ({
    text: readFileSync(join(VEC, n), "utf8"),
    format: e.format,
    key: Buffer.from(e.data_key_hex, "hex"),
  }));
  it(`${SLOW ? 100000 : 10000} mutations`, () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const N = SLOW ? 100000 : 10000;
    const alphabet = "\n :-=[]{}\"'#;,|>&*!%@`\\ENC0aZ\t\u0000\u00e9";
    let ok = 0,
      typed = 0;
    for (let i = 0; i < N; i++) {
      const f = files[rnd(files.length)] as (typeof files)[number];
      let t = f.text;
      for (let m = 1 + rnd(3); m > 0; m--) {
        const p = rnd(t.length + 1);
        const op = rnd(3);
        const ch = alphabet[rnd(alphabet.length)] as string;
        t =
          op === 0
            ? t.slice(0, p) + ch + t.slice(p + 1)
            : op === 1
              ? t.slice(0, p) + t.slice(p + 1 + rnd(20))
              : t.slice(0, p) + ch + t.slice(p);
      }
      try {
        // full decrypt for 1 in 10, parse-only (metadata) otherwise, to stay fast
        if (i % 10 === 0) decryptWithDataKey(t, f.format, f.key);
        else storeFor(f.format).parseEncrypted(t);
        ok++;
      } catch (e) {
        if (!isKeyfleetError(e)) throw new Error(`untyped error on mutation ${i}: ${String(e)}`, { cause: e });
        typed++;
      }
    }
    expect(ok + typed).toBe(N);
    expect(typed).toBeGreaterThan(0);
  }, 120_000);
});
