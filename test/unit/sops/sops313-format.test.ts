// sops 3.13 output beyond the YAML emitter (issue 16, differences 2, 7 and 8): the key order inside
// age entries, the `stores:` indent options of .sops.yaml, and the INI DEFAULT section (go-ini, checked
// against the shared ini-oracle built on the real go-ini).
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptWithDataKey, encryptWithDataKey } from "../../../provider/sops/core.js";
import { parseStoreOptions, storeOptionsFor } from "../../../provider/sops/config.js";
import { storeFor } from "../../../provider/sops/stores/index.js";
import { runOracle } from "../../harness/oracles.js";

const key = new Uint8Array(32).fill(9);
const age = [
  { recipient: "age1first", enc: "-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n" },
  { recipient: "age1second", enc: "-----BEGIN AGE ENCRYPTED FILE-----\nBBBB\n-----END AGE ENCRYPTED FILE-----\n" },
];

describe("difference 2: sops 3.13 sorts the keys inside each age entry (stores.go, enc before recipient)", () => {
  it("yaml: `- enc: |` then `recipient:` at the item's key column", () => {
    const text = encryptWithDataKey("a: 1\n", "yaml", key, { age });
    expect(text).toContain(
      "sops:\n    age:\n        - enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            AAAA\n            -----END AGE ENCRYPTED FILE-----\n          recipient: age1first\n        - enc: |\n",
    );
  });
  it('json: "enc" before "recipient" in every entry', () => {
    const text = encryptWithDataKey('{"a": 1}', "json", key, { age });
    const entries = [...text.matchAll(/\{\n\t\t\t\t"(\w+)": [^\n]*\n\t\t\t\t"(\w+)"/g)].map((m) => [m[1], m[2]]);
    expect(entries).toEqual([
      ["enc", "recipient"],
      ["enc", "recipient"],
    ]);
  });
  it("dotenv and ini were already sorted: __map_enc before __map_recipient", () => {
    for (const fmt of ["dotenv", "ini"] as const) {
      const text = encryptWithDataKey(fmt === "ini" ? "[s]\na = 1\n" : "a=1\n", fmt, key, { age });
      expect(text.indexOf("age__list_0__map_enc")).toBeLessThan(text.indexOf("age__list_0__map_recipient"));
    }
  });
});

describe("difference 7: .sops.yaml stores.yaml.indent / stores.json.indent (sops config.StoresConfig)", () => {
  it("parses the options and rejects bad values with the field named", () => {
    expect(parseStoreOptions("stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 3\n")).toEqual({
      yamlIndent: 2,
      jsonIndent: 3,
    });
    expect(parseStoreOptions("creation_rules: []\n")).toEqual({});
    expect(() => parseStoreOptions("stores:\n  yaml:\n    indent: -1\n")).toThrow(
      /stores\.yaml\.indent must be an integer >= 0/,
    );
    expect(() => parseStoreOptions("stores:\n  json:\n    indent: two\n")).toThrow(/stores\.json\.indent/);
  });
  it("storeOptionsFor finds the governing .sops.yaml above the file", () => {
    const dir = join(tmpdir(), "stores-opt");
    mkdirSync(join(dir, "sub"), { recursive: true });
    writeFileSync(join(dir, ".sops.yaml"), "stores:\n  yaml:\n    indent: 2\n");
    expect(storeOptionsFor(join(dir, "sub", "x.yaml"))).toEqual({ yamlIndent: 2 });
  });
  it("yaml indent 2 applies to data and metadata; json indent N is N spaces (0: none)", () => {
    const y = encryptWithDataKey("a:\n  - b: 1\n    c:\n      d: x\n", "yaml", key, {
      age: [age[0]!],
      stores: { yamlIndent: 2 },
    });
    expect(y).toMatch(
      /^a:\n {2}- b: ENC\[[^\n]+\n {4}c:\n {6}d: ENC\[[^\n]+\nsops:\n {2}age:\n {4}- enc: \|\n {8}-----BEGIN/,
    );
    expect(decryptWithDataKey(y, "yaml", key).emit("yaml")).toBe("a:\n    - b: 1\n      c:\n        d: x\n");
    const j = encryptWithDataKey('{"a": {"b": "x"}}', "json", key, { age: [age[0]!], stores: { jsonIndent: 2 } });
    expect(j.startsWith('{\n  "a": {\n    "b": "ENC[')).toBe(true);
    const d = decryptWithDataKey(j, "json", key, { stores: { jsonIndent: 0 } });
    expect(d.emit()).toBe('{\n"a": {\n"b": "x"\n}\n}\n');
  });
});

describe("difference 8: INI DEFAULT section as go-ini has it", () => {
  const ini = storeFor("ini");
  it('the tree always has DEFAULT, so json output has "DEFAULT": {} (go-ini Sections())', () => {
    const p = ini.parsePlain("[sec]\na = b\n");
    expect(storeFor("json").emitPlain(p.tree)).toBe('{\n\t"DEFAULT": {},\n\t"sec": {\n\t\t"a": "b"\n\t}\n}\n');
  });
  const cases = [
    "top = 1\n; c1\nk2 = v\n[sec]\n; key comment\na = b\nlong_key = x y\n[empty]\n",
    "[sec]\na = b\n",
    "; section comment\n[sec]\na = b\n[two]\n; kc\nx = 1\ny = 2\n",
    "k = v\n[DEFAULT]\nm = n\n[s]\nz = 1\n",
  ];
  for (const c of cases) {
    it(`keys before any section have no [DEFAULT] header; output equals go-ini WriteTo: ${JSON.stringify(c.slice(0, 30))}`, () => {
      const out = ini.emitPlain(ini.parsePlain(c).tree) as string;
      expect(out).not.toContain("[DEFAULT]");
      expect(out).toBe(runOracle("ini-oracle", c));
    });
  }
  it("an encrypted ini keeps DEFAULT keys first without a header and decrypts back", () => {
    const text = encryptWithDataKey("top = 1\n[s]\na = b\n", "ini", key, { age: [age[0]!] });
    expect(text).toMatch(/^top = ENC\[[^\n]+\n\n\[s\]\na = ENC/);
    expect(decryptWithDataKey(text, "ini", key).emit()).toBe("top = 1\n\n[s]\na = b\n");
  });
});
