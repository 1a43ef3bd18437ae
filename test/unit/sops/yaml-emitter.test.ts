// The YAML emitter against go-yaml v3 (issue 16, differences 1, 3-7): a table of cases, each citing the
// go-yaml function it follows, checked against the expected text and against the real go-yaml v3 (the
// shared yaml-oracle); then random trees, byte for byte against the oracle (SLOW=1 for more runs).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decryptWithDataKey, encryptWithDataKey } from "../../../provider/sops/core.js";
import { yamlStore } from "../../../provider/sops/stores/yaml.js";
import {
  analyzeScalar,
  isBase60Float,
  isOldBool,
  resolvesToStr,
  stringStyle,
} from "../../../provider/sops/stores/yaml-scalar.js";
import { fromPlain, type Mapping } from "../../../provider/sops/tree.js";
import { runOracle } from "../../harness/oracles.js";

const SLOW = process.env.SLOW === "1";
const emit = (text: string, indent?: number): string =>
  yamlStore.emitPlain(yamlStore.parsePlain(text).tree, { yamlIndent: indent }) as string;

interface Row {
  /** The go-yaml v3 / sops source this row follows. */
  source: string;
  input: string;
  want: string;
  indent?: number;
}

const ROWS: Row[] = [
  // difference 1: indentation
  {
    source:
      "emitterc.go yaml_emitter_increase_indent (mapping inside a sequence item: indent+2; nested mapping: rounded to a multiple of best_indent)",
    input: "a:\n    - b: x\n      c:\n        d: z\n",
    want: "a:\n    - b: x\n      c:\n        d: z\n",
  },
  {
    source: "emitterc.go yaml_emitter_increase_indent with SetIndent(2)",
    input: "a:\n  - b: x\n    c:\n      d: z\n",
    want: "a:\n  - b: x\n    c:\n      d: z\n",
    indent: 2,
  },
  {
    source: "emitterc.go yaml_emitter_increase_indent with SetIndent(3): 3*((5+3)/3) = 6",
    input: "a:\n   - b: 1\n     c:\n      - 2\n",
    want: "a:\n   - b: 1\n     c:\n      - 2\n",
    indent: 3,
  },
  {
    source: "emitterc.go yaml_emitter_emit_block_sequence_item (sequence in sequence after '- ')",
    input: 'a:\n  - - x\n    - "y"\n',
    want: 'a:\n    - - x\n      - "y"\n',
  },
  {
    source: "emitterc.go yaml_emitter_check_empty_mapping / _sequence (flow {} and [])",
    input: "a: {}\nb: []\nc:\n  d: {}\n",
    want: "a: {}\nb: []\nc:\n    d: {}\n",
  },
  // difference 3: comments
  {
    source: "emitterc.go yaml_emitter_process_line_comment (sops >= 3.13 keeps a line comment inline)",
    input: "key: value # note\nother: 1\n",
    want: "key: value # note\nother: 1\n",
  },
  {
    source: "emitterc.go yaml_emitter_process_head_comment (head comments at the key's indent)",
    input: "# top\na:\n    # inner\n    b: 1\nc:\n    - x\n    # before z\n    - z\n",
    want: "# top\na:\n    # inner\n    b: 1\nc:\n    - x\n    # before z\n    - z\n",
  },
  // difference 4: YAML 1.1 booleans and base-60 numbers
  {
    source: "encode.go stringv + resolve.go isOldBool",
    input: 'a: "yes"\nb: "no"\nc: "on"\nd: "off"\ne: "y"\nf: "N"\ng: "Off"\n',
    want: 'a: "yes"\nb: "no"\nc: "on"\nd: "off"\ne: "y"\nf: "N"\ng: "Off"\n',
  },
  {
    source: "encode.go stringv + resolve.go isBase60Float",
    input: 'a: "1:20"\nb: "-1:30:00.5"\nc: "12:60"\nd: "1_0:20"\n',
    want: 'a: "1:20"\nb: "-1:30:00.5"\nc: 12:60\nd: "1_0:20"\n',
  },
  {
    source: 'encode.go stringv: resolve("", s) != !!str is double-quoted',
    input: 'a: "1"\nb: "true"\nc: "~"\nd: ""\ne: "0x1F"\nf: "09"\ng: "2024-01-02"\nh: ".5"\ni: "1e400"\n',
    want: 'a: "1"\nb: "true"\nc: "~"\nd: ""\ne: "0x1F"\nf: "09"\ng: "2024-01-02"\nh: ".5"\ni: 1e400\n',
  },
  {
    source: "emitterc.go yaml_emitter_analyze_scalar + select_scalar_style (indicators → single quotes)",
    input: "a: '- x'\nb: 'k: v'\nc: '#c'\nd: ' lead'\ne: \"it's: x\"\nf: '@x'\ng: a#b\nh: 'a #b'\ni: '---x'\n",
    want: "a: '- x'\nb: 'k: v'\nc: '#c'\nd: ' lead'\ne: 'it''s: x'\nf: '@x'\ng: a#b\nh: 'a #b'\ni: '---x'\n",
  },
  // difference 5: floats
  {
    source: "encode.go floatv: strconv.FormatFloat(f, 'g', -1, 64), .inf/.nan",
    input:
      "a: 1.5e10\nb: 0.00001\nc: 1234567890.0\nd: 1.0\ne: 100000.0\nf: 1000000.0\ng: .inf\nh: -.inf\ni: .nan\nj: 25.4\n",
    want: "a: 1.5e+10\nb: 1e-05\nc: 1.23456789e+09\nd: 1\ne: 100000\nf: 1e+06\ng: .inf\nh: -.inf\ni: .nan\nj: 25.4\n",
  },
  // difference 6: escapes
  {
    source: "emitterc.go yaml_emitter_write_double_quoted_scalar (non-printable, non-BMP, tab)",
    input: 'a: "\\U0001F389"\nb: "a\\tb"\nc: "x\\r"\nd: "\\x07bell"\ne: "\\u0085"\nf: "é ü ✓"\n',
    want: 'a: "\\U0001F389"\nb: "a\\tb"\nc: "x\\r"\nd: "\\abell"\ne: "\\N"\nf: é ü ✓\n',
  },
  {
    source: "emitterc.go is_bom checks the start of the value: a leading BOM escapes every character",
    input: 'a: "\\uFEFFab c"\n',
    want: 'a: "\\uFEFF\\x61\\x62\\x20\\x63"\n',
  },
  {
    source: "emitterc.go yaml_emitter_write_literal_scalar + write_block_scalar_hints",
    input: 'a: "x\\ny\\n"\nb: "x\\ny"\nc: "x\\n\\n"\nd: " x\\ny"\ne: "x \\ny"\n',
    want: 'a: |\n    x\n    y\nb: |-\n    x\n    y\nc: |+\n    x\n\nd: |4-\n     x\n    y\ne: "x \\ny"\n',
  },
  {
    source: "emitterc.go yaml_emitter_check_simple_key / analyze_scalar for keys",
    input: '"yes": 1\n"1": 2\n"a b": 3\n"x\\ty": 4\n',
    want: '"yes": 1\n"1": 2\na b: 3\n"x\\ty": 4\n',
  },
  // difference 7: indent option
  {
    source: "sops stores.yaml.indent → yaml.Encoder.SetIndent(2)",
    input: "a:\n    b:\n        - c: |\n            x\n",
    want: "a:\n  b:\n    - c: |\n        x\n",
    indent: 2,
  },
];

describe("yaml emitter: table of go-yaml v3 cases", () => {
  for (const r of ROWS) {
    it(r.source, () => {
      expect(emit(r.input, r.indent)).toBe(r.want);
      expect(runOracle("yaml-oracle", r.input, [String(r.indent ?? 4)])).toBe(r.want);
    });
  }

  it("resolve.go isOldBool / isBase60Float and resolve's !!str test, directly", () => {
    for (const s of ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF"])
      expect(isOldBool(s)).toBe(true);
    for (const s of ["yES", "true", "nope", ""]) expect(isOldBool(s)).toBe(false);
    for (const s of ["1:20", "+1:20", "-190:20:30.15", "1:2"]) expect(isBase60Float(s)).toBe(true);
    for (const s of ["1:60", "a:20", "1:", ":20", "1.5"]) expect(isBase60Float(s)).toBe(false);
    for (const s of [
      "1",
      "-1",
      "0x10",
      "0o17",
      "0b11",
      "017",
      "1_000",
      "1.5",
      "1e3",
      ".5",
      "true",
      "Null",
      "~",
      "",
      "2001-12-14",
      ".inf",
      "<<",
    ])
      expect(resolvesToStr(s)).toBe(false);
    for (const s of ["1e400", "09x", "abc", "1.2.3", "0x", "-", ".x", "2001-13-01", "yes"])
      expect(resolvesToStr(s)).toBe(true);
  });

  it("emitterc.go yaml_emitter_analyze_scalar flags", () => {
    expect(analyzeScalar("")).toEqual({ blockPlain: true, single: true, block: false });
    expect(analyzeScalar("a\tb")).toEqual({ blockPlain: false, single: false, block: true });
    expect(analyzeScalar("a \nb")).toEqual({ blockPlain: false, single: false, block: false });
    expect(stringStyle("", true)).toBe("double");
    expect(stringStyle("x\ny", true)).toBe("double");
  });

  it("inline comments survive encrypt → decrypt (sops >= 3.13 keeps them on the line)", () => {
    const key = new Uint8Array(32).fill(3);
    const enc = encryptWithDataKey("a: 1 # one\nb:\n    c: x # see\n", "yaml", key, {
      age: [{ recipient: "age1x", enc: "x" }],
    });
    expect(enc).toMatch(/^a: ENC\[[^\]]+\] #ENC\[[^\]]+\]$/m);
    expect(decryptWithDataKey(enc, "yaml", key).emit()).toBe("a: 1 # one\nb:\n    c: x # see\n");
  });
});

const keyArb = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 10 })
  .filter((s) => s !== "sops" && !s.includes("\u0000"));
const tricky = fc.constantFrom(
  "yes",
  "no",
  "on",
  "Off",
  "y",
  "1:20",
  "12:30:45",
  "0x1F",
  "1e3",
  "true",
  "null",
  "~",
  "",
  " a",
  "a ",
  "- x",
  "a: b",
  "#x",
  "x #y",
  "a\tb",
  "\u{1F389}",
  "\u00e9",
  "x\ny",
  "x\ny\n",
  "x\n\n",
  " x\ny",
  "2024-01-02",
  "'q'",
  '"dq"',
  "@a",
  "%p",
  "!t",
  "&a",
  "*a",
  "? q",
  ":x",
  "---",
  "...",
  "1_000",
  "+1",
  ".5",
  "0o7",
  "\u2028",
  "\u0085x",
  "\r",
  "\u00a0",
);
const leaf = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 6 }).filter((s) => !s.includes("\u0000") && !/[\uD800-\uDFFF]/.test(s)),
  tricky,
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.boolean(),
);
// Strings made only of line breaks are left out: go-yaml's Node.Encode round trip (which sops and the
// oracle use) turns "\n" into "", losing the value; keyfleet writes the literal block that keeps it.
const keepsValue = (v: unknown): boolean => !(typeof v === "string" && /^\n+$/.test(v));
const { tree } = fc.letrec((tie) => ({
  tree: fc.dictionary(
    fc.oneof(
      keyArb,
      tricky.filter((s) => s !== "" && !s.includes("\n")),
    ),
    tie("node"),
    { maxKeys: 4, minKeys: 1 },
  ),
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf.filter(keepsValue),
    fc.array(tie("node"), { maxLength: 3 }),
    tie("tree"),
  ),
}));

/** A document as JSON text (valid YAML) that go-yaml reads into the same values; ints beyond 2^53 kept exact. */
function jsonDoc(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `__BIG${x.toString()}__` : x))
    .replace(/"__BIG(-?\d+)__"/g, "$1")
    .replace(
      /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}

describe("yaml emitter: random trees equal go-yaml v3 byte for byte", () => {
  for (const indent of [4, 2]) {
    it(`indent ${indent}: keyfleet's emitter vs yaml-oracle on the same values`, () => {
      const samples = fc.sample(tree, { numRuns: SLOW ? 2000 : 300, seed: 16 + indent });
      const input = samples.map(jsonDoc).join("\n---\n") + "\n";
      const oracle = runOracle("yaml-oracle", input, [String(indent)]).split(/^---\n/m);
      const ours = samples.map((t) => yamlStore.emitPlain([fromPlain(t) as Mapping], { yamlIndent: indent }) as string);
      expect(oracle.length).toBe(samples.length);
      for (let i = 0; i < samples.length; i++) {
        if (ours[i] !== oracle[i])
          expect({ input: jsonDoc(samples[i]), ours: ours[i] }).toEqual({
            input: jsonDoc(samples[i]),
            ours: oracle[i],
          });
      }
    });
  }
});
