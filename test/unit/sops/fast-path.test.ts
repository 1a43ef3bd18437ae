// The yaml fast path (verified sops block, data part through the yaml parser) must give exactly what
// the full parse gives, and must step aside for anything outside the sops 3.13 layout.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateX25519, parseIdentities, parseRecipient } from "../../../provider/age/index.js";
import {
  decryptWithDataKey,
  encryptWithDataKey,
  replaceAgeEntries,
  loadEncrypted,
} from "../../../provider/sops/core.js";
import { decrypt, encrypt, updateRecipients } from "../../../provider/sops/ops.js";
import { emitSopsBlock, parseFull, yamlStore } from "../../../provider/sops/stores/yaml.js";
import { fastSplit } from "../../../provider/sops/stores/yaml-fast.js";
import { metadataToPlain, parseMetadata } from "../../../provider/sops/metadata.js";
import { isKeyfleetError } from "../../../provider/errors.js";

const key = new Uint8Array(32).fill(9);
const plainArb = fc
  .array(
    fc.tuple(
      fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/).filter((k) => k !== "sops"),
      fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.integer(),
        fc.boolean(),
        fc.constant("multi\nline\n"),
        fc.constant("2024-01-02"),
      ),
      fc.boolean(),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((rows) => {
    const seen = new Set<string>();
    return rows
      .filter(([k]) => !seen.has(k) && seen.add(k))
      .map(([k, v, withComment]) => `${withComment ? "# note " + k + "\n" : ""}${k}: ${JSON.stringify(v)}\n`)
      .join("");
  });
const rulesArb = fc.constantFrom(
  {},
  { encryptedRegex: "^key" },
  { unencryptedSuffix: "_plain" },
  { macOnlyEncrypted: true, encryptedSuffix: "_secret" },
);
const ageArb = fc.array(
  fc.record({
    recipient: fc.constantFrom("age1aaa", "age1bbb", "age1ccc"),
    enc: fc.constantFrom("-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n", "x"),
  }),
  { minLength: 1, maxLength: 4 },
);

function bothWays(text: string): { fast: unknown; full: unknown; used: boolean } {
  const used = fastSplit(text, emitSopsBlock) !== undefined;
  return { fast: yamlStore.parseEncrypted(text), full: parseFull(text), used };
}

describe("yaml fast path", () => {
  it("gives the same tree and metadata as the full parse on random files in our layout (and is used)", () => {
    fc.assert(
      fc.property(plainArb, rulesArb, ageArb, (plain, rules, age) => {
        const text = encryptWithDataKey(plain, "yaml", key, { age, rules });
        const { fast, full, used } = bothWays(text);
        expect(used).toBe(true);
        expect(fast).toEqual(full);
      }),
      { numRuns: 200 },
    );
  });

  it("re-keying many real files: single parse + re-emit equals the full parse + re-emit, byte for byte", async () => {
    const ks = Array.from({ length: 3 }, () => generateX25519());
    const rs = ks.map((k) => parseRecipient(k.recipient));
    const ids = parseIdentities((ks[0] as { identity: string }).identity, "k0");
    const extra = parseRecipient(generateX25519().recipient);
    for (let i = 0; i < 40; i++) {
      const plain =
        `# top ${i}\n` +
        Array.from({ length: 1 + (i % 7) }, (_, j) => `k${j}: v${i}-${j}\nlist${j}:\n  - a\n  - ${j}\n`).join("");
      const text = await encrypt(plain, { format: "yaml", recipients: rs });
      const r = await updateRecipients(text, { format: "yaml", identities: ids, recipients: [...rs, extra] });
      const full = parseFull(text);
      const meta = parseMetadata(full.meta);
      const fresh = loadEncrypted(r.text, "yaml").meta.age.slice(-1);
      const viaFull = yamlStore.emitEncrypted(full.tree, metadataToPlain({ ...meta, age: [...meta.age, ...fresh] }));
      expect(r.text).toBe(viaFull);
      expect(r.text).toBe(replaceAgeEntries(text, "yaml", [...meta.age, ...fresh]));
      expect(r.text.startsWith(text.slice(0, text.indexOf("\nsops:\n")))).toBe(true);
    }
  });

  it("steps aside for CRLF, comments or odd scalars in the sops block, multi-document files and a data key named sops", async () => {
    const text = encryptWithDataKey("a: 1\nb: two\n", "yaml", key, { age: [{ recipient: "age1aaa", enc: "x" }] });
    expect(fastSplit(text, emitSopsBlock)).toBeDefined();
    const variants = [
      text.replace(/\n/g, "\r\n"),
      text.replace("    version:", "    # hi\n    version:"),
      text.replace(/version: (.*)/, "version: '$1'"),
      text.replace(/version: (.*)/, "version: $1 # c"),
      text.replace("sops:\n", "sops:\n    extra: &a x\n"),
      "a: 0\n---\n" + text,
      text.slice(0, -1),
    ];
    for (const v of variants) {
      expect(fastSplit(v, emitSopsBlock)).toBeUndefined();
      let fast: unknown;
      let full: unknown;
      try {
        fast = yamlStore.parseEncrypted(v);
      } catch (e) {
        fast = isKeyfleetError(e) ? e.message : e;
      }
      try {
        full = parseFull(v);
      } catch (e) {
        full = isKeyfleetError(e) ? e.message : e;
      }
      expect(fast).toEqual(full);
    }
    // a `sops` key in the data part: the full parse's duplicate-key error, not a silent pick
    const dup = "sops: 1\n" + text;
    expect(fastSplit(dup, emitSopsBlock)).toBeDefined();
    expect(() => yamlStore.parseEncrypted(dup)).toThrow(/invalid yaml/);
  });

  it("decrypt output is the same through both paths (comments, lists, block scalars)", async () => {
    const k = generateX25519();
    const ids = parseIdentities(k.identity, "k");
    const plain =
      "# head\ndb:\n    user: alice # inline\n    pass: |\n        multi\n        line\nlist:\n    - 1\n    - x\n# tail\n";
    const text = await encrypt(plain, { format: "yaml", recipients: [parseRecipient(k.recipient)] });
    expect(fastSplit(text, emitSopsBlock)).toBeDefined();
    const d = await decrypt(text, { format: "yaml", identities: ids });
    const full = parseFull(text);
    const viaFull = decryptWithDataKey(text, "yaml", d.dataKey, {
      parsed: { tree: full.tree, meta: parseMetadata(full.meta) },
    });
    expect(d.emit()).toBe(viaFull.emit());
    expect(d.leaves).toEqual(viaFull.leaves);
    expect(d.emit()).toContain("# inline");
  });
});
