/**
 * Issue 9 §4: every sops parser bounds hostile input with a typed error naming the file (and line
 * where there is one): yaml alias bombs (go-yaml's count and ratio), deep nesting (checked on the
 * CST before the yaml Composer recurses), duplicate keys (yaml, json, dotenv), megabyte values
 * (linear base64 and ENC parsing), malformed age entries (each tried, the bad ones named).
 * Each parser has a table of {input, error} rows; the ENC parser gets property tests (SLOW=1: more).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateX25519, parseIdentities, parseRecipient } from "../../../provider/age/index.js";
import { decryptBytes, encryptBytes, parseEnc } from "../../../provider/sops/cipher.js";
import {
  decrypt,
  encrypt,
  MAX_SOPS_FILE_BYTES,
  NoIdentityError,
  parseSopsConfig,
  SopsCryptoError,
  SopsParseError,
  storeFor,
  type SopsFormat,
} from "../../../provider/sops/index.js";
import { allowedAliasRatio, MAX_YAML_DEPTH } from "../../../provider/sops/stores/yaml-limits.js";
import { isKeyfleetError } from "../../../provider/errors.js";

const SLOW = process.env.SLOW === "1";

/** The 1.9 KB billion-laughs document of the issue: 9 levels of 9 aliases (9^9 leaves if expanded). */
function aliasBomb(): string {
  const l = "abcdefghi";
  let s = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n`;
  for (let i = 1; i < 9; i++)
    s += `${l[i]}: &${l[i]} [${Array(9)
      .fill("*" + l[i - 1])
      .join(",")}]\n`;
  return s;
}

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("no error");
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

describe("yaml store: bad input table", () => {
  const rows: { name: string; input: string; error: RegExp; line?: number }[] = [
    {
      name: "alias bomb (9 levels x 9)",
      input: aliasBomb(),
      error: /^bomb\.yaml: invalid yaml: document contains excessive aliasing/,
    },
    {
      name: "10,000 nested flow [",
      input: "x: " + "[".repeat(10_000) + "\n",
      error: /^bomb\.yaml:1: invalid yaml: nested more than 200 levels deep/,
      line: 1,
    },
    {
      name: "10,000 nested flow {",
      input: "x: " + "{a: ".repeat(10_000) + "\n",
      error: /nested more than 200 levels deep/,
    },
    {
      name: "deep block nesting",
      input: Array.from({ length: 300 }, (_, i) => " ".repeat(i) + `k${i}:`).join("\n") + " 1\n",
      error: /nested more than 200 levels deep/,
    },
    {
      name: "self-referencing alias",
      input: "a: &a [*a, *a]\n",
      error: /nested more than 200 levels deep|excessive aliasing/,
    },
    {
      name: "duplicate key",
      input: "a: 1\nb: 2\na: 3\n",
      error: /^bomb\.yaml:3: invalid yaml: mapping key "a" already defined/,
      line: 3,
    },
    {
      name: "file over the cap",
      input: "a: " + "x".repeat(MAX_SOPS_FILE_BYTES) + "\n",
      error: /larger than 67108864 bytes/,
    },
  ];
  it.each(rows)("$name", ({ input, error, line }) => {
    for (const parse of [
      (t: string) => storeFor("yaml").parsePlain(t, "bomb.yaml"),
      (t: string) => storeFor("yaml").parseEncrypted(t, "bomb.yaml"),
    ]) {
      const { value: e, ms } = timed(() => caught(() => parse(input)));
      expect(e).toBeInstanceOf(SopsParseError);
      expect(e.message).toMatch(error);
      if (line) expect((e as SopsParseError).line).toBe(line);
      // bounded: ~0.05-0.5 s on an idle machine (the issue asks < 1 s); unbounded it ran for minutes.
      // A generous bound, since CI shares its cores with other test files
      expect(ms).toBeLessThan(10_000);
    }
  });

  it("the alias bomb is refused with little memory, also behind a valid sops block (fast path)", () => {
    const sopsBlock = 'sops:\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: x\n    version: 3.13.2\n';
    const before = process.memoryUsage().heapUsed;
    const e = caught(() => storeFor("yaml").parseEncrypted(aliasBomb() + sopsBlock, "bomb.yaml"));
    expect(e.message).toMatch(/excessive aliasing/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(100 * 1024 * 1024);
  });

  it("moderate aliases (yaml anchors in real configs) still parse, as go-yaml allows them", () => {
    const text = "base: &b {host: db, port: 5432}\n" + Array.from({ length: 50 }, (_, i) => `svc${i}: *b\n`).join("");
    const p = storeFor("yaml").parsePlain(text, "ok.yaml");
    expect(p.tree[0]?.items.length).toBe(51);
    // exactly the nesting cap is accepted
    const deep = "x: " + "[".repeat(MAX_YAML_DEPTH - 1) + "]".repeat(MAX_YAML_DEPTH - 1) + "\n";
    expect(() => storeFor("yaml").parsePlain(deep, "ok.yaml")).not.toThrow();
  });

  it("go-yaml's alias ratio: 0.99 up to 400,000 nodes, 0.10 from 4,000,000, linear between", () => {
    expect(allowedAliasRatio(1000)).toBe(0.99);
    expect(allowedAliasRatio(400_000)).toBe(0.99);
    expect(allowedAliasRatio(2_200_000)).toBeCloseTo(0.545, 3);
    expect(allowedAliasRatio(4_000_000)).toBe(0.1);
  });
});

describe(".sops.yaml: bad input table", () => {
  const rows: { name: string; input: string; error: RegExp }[] = [
    {
      name: "alias bomb",
      input: aliasBomb() + "creation_rules:\n  - age: age1x\n",
      error: /^\/r\/\.sops\.yaml: invalid yaml: document contains excessive aliasing/,
    },
    {
      name: "10,000 nested [",
      input: "creation_rules: " + "[".repeat(10_000) + "\n",
      error: /^\/r\/\.sops\.yaml:1: invalid yaml: nested more than 200 levels deep/,
    },
  ];
  it.each(rows)("$name", ({ input, error }) => {
    const { value: e, ms } = timed(() => caught(() => parseSopsConfig(input, "/r/.sops.yaml")));
    expect(e).toBeInstanceOf(SopsParseError);
    expect(e.message).toMatch(error);
    expect(e.message).toMatch(/fix \.sops\.yaml|in \.sops\.yaml/);
    expect(ms).toBeLessThan(10_000); // generous, as above
  });
});

describe("json and dotenv stores: bad input table", () => {
  const rows: { format: SopsFormat; input: string; error: RegExp; line: number }[] = [
    {
      format: "json",
      input: '{"a": "1",\n "b": 2,\n "a": "3"}',
      error: /^f:3: invalid json: duplicate key "a"; remove or rename the duplicate key$/,
      line: 3,
    },
    { format: "json", input: '{"x": {"k": 1, "k": 2}}', error: /duplicate key "k"/, line: 1 },
    { format: "json", input: "[".repeat(10_000), error: /^f:1: invalid json: nesting too deep/, line: 1 },
    { format: "json", input: '{"a": "unterminated', error: /unterminated string/, line: 1 },
    { format: "json", input: '{"a": "x\u0001"}', error: /control character in string/, line: 1 },
    {
      format: "dotenv",
      input: "A=1\nB=2\nA=3\n",
      error: /^f:3: duplicate key "A"; remove or rename the duplicate key$/,
      line: 3,
    },
  ];
  it.each(rows)("$format $input", ({ format, input, error, line }) => {
    const e = caught(() => storeFor(format).parsePlain(input, "f"));
    expect(e).toBeInstanceOf(SopsParseError);
    expect(e.message).toMatch(error);
    expect((e as SopsParseError).line).toBe(line);
  });

  it("a 4 MB json string is read in linear time", () => {
    const v = "v".repeat(4_000_000) + '\\"' + "w".repeat(1000);
    const { value, ms } = timed(() => storeFor("json").parsePlain(`{"big": "${v}"}`, "f"));
    const item = value.tree[0]?.items[0];
    expect(item?.kind === "entry" && item.value.kind === "scalar" ? (item.value.value as string).length : 0).toBe(
      4_001_001,
    );
    expect(ms).toBeLessThan(20_000); // linear: ~0.1 s idle; the old per-character append took seconds and 300 MB
  });
});

describe("ENC values: bad input table and properties", () => {
  const key = new Uint8Array(32).fill(3);
  const good = encryptBytes(Buffer.from("hello"), "str", key, "a:");
  const rows: { input: string; error: RegExp }[] = [
    { input: "ENC[AES256_GCM,data:,iv:AAAA,tag:AAAA,type:str]", error: /malformed encrypted value/ },
    { input: good.replace("type:str]", "type:]"), error: /malformed encrypted value/ },
    { input: good.replace("type:str]", "type:nope]"), error: /unknown type/ },
    { input: good.replace(",iv:", ",iv:*"), error: /invalid base64 in the iv/ },
    { input: good.replace(/data:[^,]+/, "data:AAA"), error: /invalid base64 in the data/ },
    { input: good.replace(/data:[^,]+/, "data:AB=="), error: /invalid base64 in the data/ }, // non-canonical padding bits
    { input: good.replace(/data:([^,]+)/, "data:$1,iv:AAAA"), error: /invalid base64/ },
    { input: good.replace(/tag:[^,]+/, "tag:AAAA"), error: /tag of an encrypted value is not 16 bytes/ },
    {
      input: "ENC[AES256_GCM,data:" + "A".repeat(5_000_000) + "=,iv:x,tag:y,type:str]",
      error: /invalid base64 in the data/,
    },
  ];
  it.each(rows)("$input", ({ input, error }) => {
    const e = caught(() => parseEnc(input));
    expect(e).toBeInstanceOf(SopsCryptoError);
    expect(e.message).toMatch(error);
  });

  it("a 4.7 MB ENC value parses (the old base64 regex overflowed the stack)", () => {
    const plain = Buffer.alloc(3_600_000, 0x61);
    const enc = encryptBytes(plain, "str", key, "big:");
    expect(Buffer.from(decryptBytes(enc, key, "big:").bytes).equals(plain)).toBe(true);
  });

  // (sops never writes an empty data part: empty strings are stored as "", see encryptValue)
  it("property: every ENC string we write parses back; any other string is a typed error", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.constantFrom("str", "int", "bytes", "comment"),
        (bytes, type) => {
          const enc = encryptBytes(bytes, type as "str", key, "k:");
          expect(Buffer.from(decryptBytes(enc, key, "k:").bytes).equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: SLOW ? 2000 : 200 },
    );
    const mutate = fc
      .tuple(fc.nat(good.length), fc.string({ maxLength: 6 }), fc.nat(8))
      .map(([at, ins, del]) => good.slice(0, at) + ins + good.slice(at + del));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), mutate), (s) => {
        try {
          parseEnc(s);
        } catch (e) {
          expect(e).toBeInstanceOf(SopsCryptoError);
        }
      }),
      { numRuns: SLOW ? 20_000 : 2_000 },
    );
  });
});

describe("values at the file-size cap", () => {
  const id = generateX25519();
  const ids = parseIdentities(id.identity, "test");
  const r = parseRecipient(id.recipient);
  const wrap = (format: SopsFormat, v: string): string =>
    format === "yaml" ? `big: ${v}\n` : format === "json" ? JSON.stringify({ big: v }) : `BIG=${v}\n`;

  it("property: what encrypt writes up to the cap, decrypt reads; over the cap encrypt refuses", async () => {
    // base64 makes the encrypted file 4/3 of the value plus ~1 KB of metadata: pick sizes just under
    // and just over the cap (SLOW=1: more formats and sizes)
    const under = Math.floor(((MAX_SOPS_FILE_BYTES - 4096) * 3) / 4);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<SopsFormat>("yaml", "json", "dotenv"),
        fc.integer({ min: under - 3_000_000, max: under }),
        async (format, n) => {
          const v = "y".repeat(n);
          const out = await encrypt(wrap(format, v), { format, recipients: [r], file: "big" });
          expect(Buffer.byteLength(out)).toBeLessThanOrEqual(MAX_SOPS_FILE_BYTES);
          const d = await decrypt(out, { format, identities: ids, file: "big" });
          expect((d.leaves[0]?.value as string).length).toBe(n);
        },
      ),
      { numRuns: SLOW ? 6 : 1 },
    );
    const over = Math.ceil((MAX_SOPS_FILE_BYTES * 3) / 4) + 10;
    await expect(
      encrypt(wrap("dotenv", "y".repeat(over)), { format: "dotenv", recipients: [r], file: "big.env" }),
    ).rejects.toThrow(/big\.env would be \d+ bytes encrypted, over the 67108864-byte limit/);
  }, 240_000);
});

describe("age entries", () => {
  const me = generateX25519();
  const other = generateX25519();
  const ids = parseIdentities(me.identity, "test key");

  async function fileWith(entries: (real: string) => string): Promise<string> {
    const text = await encrypt("a: hello\n", {
      format: "yaml",
      recipients: [parseRecipient(me.recipient)],
      file: "s.yaml",
    });
    // sops 3.13 order inside an entry: enc, then recipient
    const real = / {4}age:\n((?: {8}- enc: \|\n(?: {12}.*\n)+ {10}recipient: .*\n))/.exec(text)?.[1] as string;
    return text.replace(real, entries(real));
  }
  const bogus = (label: string, enc: string) => `        - enc: |\n            ${enc}\n          recipient: ${label}\n`;

  it.each([
    ["not armor", "not armor"],
    [
      "bad base64 armor",
      "-----BEGIN AGE ENCRYPTED FILE-----\n            ***\n            -----END AGE ENCRYPTED FILE-----",
    ],
  ])("a malformed entry placed first (%s) does not block the others", async (_n, enc) => {
    const text = await fileWith((real) => bogus(other.recipient, enc) + real);
    const d = await decrypt(text, { format: "yaml", identities: ids, file: "s.yaml" });
    expect(d.leaves[0]?.value).toBe("hello");
  });

  it("when nothing opens, the bad entries are named (index and label), never key material", async () => {
    const text = await fileWith(() => bogus(other.recipient, "not armor"));
    const e = await decrypt(text, { format: "yaml", identities: ids, file: "s.yaml" }).then(
      () => new Error("decrypted"),
      (x: unknown) => x as Error,
    );
    expect(e).toBeInstanceOf(NoIdentityError);
    expect(e.message).toMatch(/unreadable age entries: age\[0\] \(age1\w+\): invalid age armor/);
    expect(e.message).not.toContain("AGE-SECRET-KEY");
  });

  it("999 foreign entries before ours decrypt in bounded time; more than 1,000 are refused", async () => {
    const foreign = await encrypt("a: x\n", { format: "yaml", recipients: [parseRecipient(other.recipient)] });
    const entry = / {8}- enc: \|\n(?: {12}.*\n)+ {10}recipient: .*\n/.exec(foreign)?.[0] as string;
    const ok = await fileWith((real) => entry.repeat(999) + real);
    const t0 = performance.now();
    expect((await decrypt(ok, { format: "yaml", identities: ids })).leaves[0]?.value).toBe("hello");
    expect(performance.now() - t0).toBeLessThan(20_000); // ~1 s on an idle laptop; generous here
    const tooMany = await fileWith((real) => bogus(other.recipient, "x").repeat(10_000) + real);
    const t1 = performance.now();
    const e = await decrypt(tooMany, { format: "yaml", identities: ids, file: "m.yaml" }).then(
      () => new Error("decrypted"),
      (x: unknown) => x as Error,
    );
    expect(isKeyfleetError(e)).toBe(true);
    expect(e.message).toMatch(/m\.yaml has 10001 age entries, more than the 1000 keyfleet tries/);
    expect(performance.now() - t1).toBeLessThan(10_000);
  }, 60_000);
});
