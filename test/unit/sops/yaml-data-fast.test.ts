// The simple-body fast path (yaml-data-fast.ts) must give exactly the full parse's tree, or step aside.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entry, mapping, scalar, type Mapping, type Node } from "../../../provider/sops/tree.js";
import { parseFull } from "../../../provider/sops/stores/yaml.js";
import { emitYamlDocument } from "../../../provider/sops/stores/yaml-emit.js";
import { parseSimpleBody } from "../../../provider/sops/stores/yaml-data-fast.js";

const ENC = "ENC[AES256_GCM,data:bm90IGEgc2VjcmV0,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:BBBBBBBBBBBBBBBBBBBBBB==,type:str]";
/** Strings a yaml reader may take for something else, or that need quotes. */
const tricky = fc.constantFrom(
  ENC,
  "5432",
  "true",
  "no",
  "null",
  "~",
  "0x1F",
  "1e3",
  ".inf",
  "2024-01-02",
  "a: b",
  "- x",
  "x ",
  " x",
  "-",
  "?",
  "a:b",
  "http://h:1/p",
  "[x]",
  "",
  "plain words",
  "üñï",
);
/**
 * Documents whose keys come from `keys` and leaves from `leaf`, nested a few levels; a sequence
 * directly in a sequence (`- - x`) only with `seqInSeq`.
 */
function docs(keys: fc.Arbitrary<string>, leaf: fc.Arbitrary<Node>, seqInSeq = true): fc.Arbitrary<Mapping> {
  const { node } = fc.letrec<{ node: Node; map: Mapping; item: Node }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      tie("map"),
      fc.array(tie("item"), { minLength: 1, maxLength: 3 }).map((items) => ({ kind: "seq" as const, items })),
    ),
    item: seqInSeq ? tie("node") : fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("map")),
    map: fc
      .uniqueArray(fc.tuple(keys, tie("node")), { minLength: 1, maxLength: 4, selector: ([k]) => k })
      .map((rows) => mapping(rows.map(([k, v]) => entry(k, v)))),
  }));
  return fc
    .uniqueArray(
      fc.tuple(
        keys.filter((k) => k !== "sops"),
        node,
      ),
      { minLength: 1, maxLength: 5, selector: ([k]) => k },
    )
    .map((rows) => mapping(rows.map(([k, v]) => entry(k, v))));
}
/** Plain keys (a prefix keeps off words yaml reads as booleans or null: `n`, `no`, `on`...). */
const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).map((w) => `k_${w}`);
const mixed = docs(
  fc.oneof(word, tricky),
  fc.oneof(
    fc.constant(scalar(ENC)),
    tricky.map((s) => scalar(s)),
    fc.oneof(fc.bigInt({ min: -5n, max: 5n }), fc.boolean()).map((v) => scalar(v)),
  ),
);
const encrypted = docs(word, fc.constantFrom(scalar(ENC), scalar("plain words"), scalar("a:b")), false);

describe("yaml simple-body fast path", () => {
  it("gives the full parse's tree for any emitted document it accepts", () => {
    fc.assert(
      fc.property(mixed, (root) => {
        const body = emitYamlDocument(root);
        const fast = parseSimpleBody(body);
        if (fast !== undefined) expect(fast).toEqual(parseFull(body).tree[0]);
      }),
      { numRuns: 400 },
    );
  });

  it("accepts encrypted-looking documents (string leaves, plain keys), with the full parse's tree", () => {
    fc.assert(
      fc.property(encrypted, (root) => {
        const body = emitYamlDocument(root);
        const fast = parseSimpleBody(body);
        expect(fast, body).toBeDefined();
        expect(fast).toEqual(parseFull(body).tree[0]);
        expect(fast).toEqual(root);
      }),
      { numRuns: 300 },
    );
    const allEnc = mapping([
      entry(
        "db",
        mapping([entry("user", scalar(ENC)), entry("hosts", { kind: "seq", items: [scalar(ENC), scalar(ENC)] })]),
      ),
      entry("list", { kind: "seq", items: [mapping([entry("a", scalar(ENC)), entry("b", scalar(ENC))])] }),
      entry("port", scalar(ENC)),
    ]);
    const body = emitYamlDocument(allEnc);
    expect(parseSimpleBody(body)).toEqual(parseFull(body).tree[0]);
  });

  it("steps aside for comments, quotes, other indents, duplicate or sops keys, empty values and typed scalars", () => {
    const steps = [
      "a: x # c\n",
      "# c\na: x\n",
      "a: 'x'\n",
      'a: "x"\n',
      "a:\n  b: x\n",
      "a: x\na: y\n",
      "sops: x\n",
      "a:\n",
      "a: \n",
      "a: 5432\n",
      "a: true\n",
      "a: null\n",
      "a: [x]\n",
      "a: {b: c}\n",
      "a: |\n    x\n",
      "a: &k x\nb: *k\n",
      "a: x\n\nb: y\n",
      "a: x\r\n",
      "- a\n",
      "a:\n    - - x\n",
      "",
    ];
    for (const body of steps) expect(parseSimpleBody(body), JSON.stringify(body)).toBeUndefined();
  });
});
