/**
 * The leak gate's engine: the multi-pattern matcher against a naive search (property test), the
 * encoded forms of a value (base64 at each alignment, URL, hex), the skip rules, the split-line
 * fork, and the structure rule.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MultiMatcher } from "../../../provider/access/scan/matcher";
import { base64Core, encodedForms, skipValue, DEFAULT_SKIP } from "../../../provider/access/scan/encodings";
import { scanBuffer } from "../../../provider/access/scan/content";
import { coveringRule, globRegex, notSopsReason } from "../../../provider/access/scan/structure";

const runs = process.env.SLOW ? 2000 : 200;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function naive(text: Uint8Array, pats: Uint8Array[]): string[] {
  const out: string[] = [];
  pats.forEach((p, pi) => {
    if (!p.length) return;
    for (let i = 0; i + p.length <= text.length; i++)
      if (p.every((b, k) => text[i + k] === b)) out.push(`${i + p.length - 1}:${pi}`);
  });
  return out.sort();
}

describe("MultiMatcher", () => {
  it("finds exactly what a naive search finds (small alphabet, overlapping patterns)", () => {
    const sym = fc.constantFrom(97, 98, 99, 10);
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ minLength: 0, maxLength: 7 }).map((a) => a.map((b) => [97, 98, 99, 10][b % 4] as number)),
          { minLength: 1, maxLength: 30 },
        ),
        fc.array(sym, { maxLength: 300 }),
        (pats, text) => {
          const m = new MultiMatcher(pats);
          const got: string[] = [];
          m.run(Uint8Array.from(text), 0, text.length, 0, (end, p) => got.push(`${end}:${p}`));
          expect(got.sort()).toEqual(naive(Uint8Array.from(text), pats));
          const scanned: string[] = [];
          m.scan(
            Uint8Array.from(text),
            (end, p) => scanned.push(`${end}:${p}`),
            () => undefined,
          );
          expect(scanned.sort()).toEqual(naive(Uint8Array.from(text), pats));
        },
      ),
      { numRuns: runs },
    );
  });

  it("handles every byte value and deep (sparse) states", () => {
    const pats = [Uint8Array.from({ length: 40 }, (_, i) => (i * 37) % 256), Uint8Array.from([255, 0, 255, 0, 1])];
    const text = new Uint8Array(1000);
    text.set(pats[0] as Uint8Array, 100);
    text.set(pats[1] as Uint8Array, 900);
    const got: string[] = [];
    new MultiMatcher(pats).run(text, 0, text.length, 0, (end, p) => got.push(`${end}:${p}`));
    expect(got).toEqual(["139:0", "904:1"]);
  });
});

describe("encoded forms", () => {
  it("the base64 core of a value is inside the base64 of any text holding it, at every alignment", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 6, maxLength: 40 }),
        fc.uint8Array({ maxLength: 5 }),
        fc.uint8Array({ maxLength: 5 }),
        (value, pre, post) => {
          const whole = Buffer.concat([pre, value, post]).toString("base64");
          expect(whole).toContain(base64Core(value, (pre.length % 3) as 0 | 1 | 2));
        },
      ),
      { numRuns: runs },
    );
  });

  it("lists verbatim, base64 (both alphabets), hex (both cases) and URL forms", () => {
    const v = "p@ss word/+?x~!";
    const forms = encodedForms(v);
    const byEnc = (e: string) => forms.filter((f) => f.encoding === e).map((f) => Buffer.from(f.bytes).toString());
    expect(byEnc("verbatim")).toEqual([v]);
    expect(byEnc("hex")).toEqual([Buffer.from(v).toString("hex"), Buffer.from(v).toString("hex").toUpperCase()]);
    expect(byEnc("url-encoded")).toContain(encodeURIComponent(v));
    expect(byEnc("url-encoded")).toContain("p%40ss+word%2F%2B%3Fx~!");
    expect(byEnc("url-encoded")).toContain("p%40ss%20word%2F%2B%3Fx~%21");
    expect(Buffer.from(v).toString("base64")).toContain(byEnc("base64")[0]);
    expect(Buffer.from(v).toString("base64url")).toContain(
      base64Core(Buffer.from(v), 0).replace(/\+/g, "-").replace(/\//g, "_"),
    );
  });

  it("skip rules: short values, booleans and small numbers by default; configurable", () => {
    expect(skipValue("short")).toBe(true);
    expect(skipValue("longenough")).toBe(false);
    expect(skipValue("true")).toBe(true);
    expect(skipValue("12345")).toBe(true);
    expect(skipValue("12345678")).toBe(false);
    expect(skipValue("short", { ...DEFAULT_SKIP, minLength: 4 })).toBe(false);
    expect(skipValue("FALSE", { ...DEFAULT_SKIP, minLength: 1, skipBooleans: false })).toBe(false);
    expect(skipValue("123", { minLength: 1, skipBooleans: true, minNumberDigits: 1 })).toBe(false);
  });
});

describe("split across a line break inside a quoted string", () => {
  const value = "abcdefghijklmnop";
  const m = new MultiMatcher([enc(value)]);
  const hits = (text: string) => scanBuffer(m, enc(text)).map((h) => `${h.start}:${h.split}`);
  it.each([
    ["in-string break", `x = "abcdefgh\n    ijklmnop"\n`],
    ["backslash continuation", `x = "abcdefgh\\\n    ijklmnop"\n`],
    ["CRLF", `x = "abcdefgh\r\n    ijklmnop"\r\n`],
    ["backslash continuation with CRLF", `x = "abcdefgh\\\r\n    ijklmnop"\r\n`],
    ["concatenation with +", `x = "abcdefgh" +\n    "ijklmnop"\n`],
    ["implicit concatenation", `x = ('abcdefgh'\n     'ijklmnop')\n`],
    ["concatenation with a leading +", `x = "abcdefgh"\n  + "ijklmnop"\n`],
  ])("%s is found, at the start of the value", (_n, text) => {
    expect(hits(text)).toEqual([`${text.indexOf("abcdefgh")}:true`]);
  });
  it.each([
    ["a break outside any string", `abcdefgh\nijklmnop\n`],
    ["a string closed before the break", `"x" abcdefgh\n  ijklmnop\n`],
    ["a list of strings (comma)", `["abcdefgh",\n "ijklmnop"]\n`],
  ])("%s is not a split value", (_n, text) => {
    expect(hits(text)).toEqual([]);
  });
  it("a verbatim value on one line is found once, not as split", () => {
    expect(hits(`a\n"${value}"\n`)).toEqual(["3:false"]);
  });
});

describe("structure rule", () => {
  const cfg = {
    rules: [
      { pathRegex: "^config/prod\\.yaml$", age: [], keyGroups: 1, rules: {}, index: 0 },
      { age: [], keyGroups: 1, rules: {}, index: 1 },
    ],
    relToConfig: (p: string) => p,
  };
  it.each([
    ["config/prod.yaml", ".sops.yaml creation rule 1 (path_regex ^config/prod\\.yaml$)"],
    [".env", "the *.env* rule"],
    ["app/.env.production", "the *.env* rule"],
    ["prod.env.yaml", "the *.env* rule"],
    ["secrets/db.yaml", "the secrets/** rule"],
    ["deploy/secrets/x.json", "the secrets/** rule"],
    ["src/main.ts", undefined],
    [".sops.yaml", undefined],
  ])("%s → %s (a rule without path_regex covers nothing)", (path, want) => {
    expect(coveringRule(path, cfg)).toBe(want);
  });
  it("--allow-plain globs exempt paths", () => {
    expect(coveringRule("app/.env.example", { ...cfg, allowPlain: ["**/.env.example"] })).toBeUndefined();
    expect(globRegex("secrets/*.md").test("secrets/readme.md")).toBe(true);
    expect(globRegex("secrets/*.md").test("secrets/a/readme.md")).toBe(false);
  });
  it("plaintext and metadata without mac are not sops files; the reason never quotes content", () => {
    expect(notSopsReason("A=supersecretvalue\n", ".env")).toMatch(/plaintext/);
    const noMac =
      "a: ENC[AES256_GCM,data:xx,iv:yy,tag:zz,type:str]\nsops:\n  age: []\n  lastmodified: '2024-01-01T00:00:00Z'\n  version: 3.8.1\n";
    const r = notSopsReason(noMac, "secrets/a.yaml");
    expect(r).toBeDefined();
    expect(r).not.toContain("ENC[");
  });
});
