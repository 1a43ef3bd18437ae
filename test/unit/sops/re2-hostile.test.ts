// The linear-time RE2-subset matcher (provider/sops/re2*.ts) against hostile patterns and inputs: a sops
// file's own metadata (encrypted_regex …) and a repository's .sops.yaml (path_regex) choose the pattern,
// so evaluation must never backtrack. Catastrophic-backtracking patterns on long inputs must finish (a
// generous bound as a hang detector, not a speed test), and patterns Go RE2 refuses for size are refused
// with a typed error, as are the constructs compileRe2 refused before.
import { describe, expect, it } from "vitest";
import { generateX25519, parseIdentities, parseRecipient } from "../../../provider/age/index.js";
import { isKeyfleetError } from "../../../provider/errors.js";
import {
  decrypt,
  encrypt,
  matchRule,
  parseSopsConfig,
  setValues,
  updateRecipients,
  SopsArgumentError,
} from "../../../provider/sops/index.js";
import { compileRe2 } from "../../../provider/sops/rules.js";

const A = (n: number): string => "a".repeat(n);

/** Deterministic pseudo-random a/b text (xorshift), for patterns whose DFA would be exponential. */
function abText(n: number, seed = 7): string {
  let x = seed;
  let s = "";
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += x & 1 ? "a" : "b";
  }
  return s;
}

describe("hostile patterns on long inputs finish, with the right answer", () => {
  // [pattern, input, expected]: each would take the backtracking RegExp far beyond any test timeout
  const rows: [string, string, boolean][] = [
    ["(a+)+$", A(40) + "!", false],
    ["(a+)+$", A(100_000) + "!", false],
    ["(a+)+$", A(100_000), true],
    ["(a|a)*b", A(100_000), false],
    ["(a|aa)+$", A(50_000) + "!", false],
    ["(a*)*$", A(100_000) + "!", true], // empty match at the end
    ["^(a*)*$", A(100_000) + "!", false],
    ["(\\w+\\s?)+$", "ab ".repeat(30_000) + "!", false],
    ["(?i)(\\w+\\s?)+$", "Ab ".repeat(30_000) + "ſ", true],
    ["(.*a){20}", A(19) + "b".repeat(100_000), false],
    ["(.*a){20}", "b".repeat(50_000) + A(20), true],
    ["(?s)(.*a){20}x", "a\n".repeat(50_000), false],
    ["(x+x+)+y", "x".repeat(100_000), false],
    ["(?m)^(a+)+$", (A(1000) + "!\n").repeat(50), false],
    ["\\b(\\w+\\b\\s*)+!", "word ".repeat(20_000) + "?", false],
    ["[ab]*a[ab]{20}", abText(20_000), true], // DFA would have 2^21 states: the cache is bounded
    ["[ab]*a[ab]{20}$", "b".repeat(20_000), false],
    // a new DFA state for nearly every character: the cache is dropped 8 times, then the NFA finishes
    ["[ab]*a[ab]{20}$", abText(60_000, 3), abText(60_000, 3)[60_000 - 21] === "a"],
    ["[ab]*a[ab]{20}$", abText(60_000, 4), abText(60_000, 4)[60_000 - 21] === "a"],
    ["(a{1,500}){1,4}b", A(100_000), false],
    ["(?:a?){1000}a{1000}", A(999), false],
    ["(?:a?){1000}a{1000}", A(1000), true],
  ];

  it("each row, under a generous overall bound", () => {
    const t0 = Date.now();
    for (const [p, s, want] of rows) {
      const re = compileRe2(p, "encrypted_regex");
      expect({ p, got: re.test(s) }).toEqual({ p, got: want });
    }
    // a hang detector only: the backtracking RegExp would need years for several rows
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it("(a+)+$ against a^n! for n = 1 … 100000: every length answers false", () => {
    // the backtracking RegExp doubles its work with each extra "a" (n = 40 already hangs it)
    const re = compileRe2("(a+)+$", "encrypted_regex");
    for (let n = 1; n <= 100_000; n *= 10) expect(re.test(A(n) + "!")).toBe(false);
  });
});

describe("refused patterns: typed error naming the field, the pattern and the fix", () => {
  const rows: [string, RegExp][] = [
    ["a{1001}", /repeat count over 1000.*invalid repeat count/],
    ["a{2,1001}", /repeat count over 1000/],
    ["a{1001,}", /repeat count over 1000/],
    ["a{0,99999999999999999999}", /repeat count over 1000/],
    ["((a{1000}){1000})", /too large: over 5000 instructions/],
    ["(?:[a-z]{100}){100}", /too large/],
    ["a{1000}b{1000}c{1000}d{1000}e{1000}f{1000}", /too large/],
    ["x".repeat(6000), /too large/],
    ["(".repeat(1001) + "a" + ")".repeat(1001), /nests groups more than 1000 deep/],
    ["(?=x)y", /lookaround/],
    ["(?!x)y", /lookaround/],
    ["(?<=x)y", /lookaround/],
    ["(?<!x)y", /lookaround/],
    ["(a)\\1", /backreferences/],
    ["(?<n>a)\\k<n>", /backreferences/],
    ["[[:alpha:]]", /POSIX classes/],
    ["a\\z", /\\z/],
    ["\\Aa", /\\z/],
    ["\\Qa.b\\E", /\\z/],
    ["a(?i)b", /inline flags/],
    ["(?i:a)", /inline flags/],
    ["\\pL", /\\pN-style/],
    ["(?U)a+", /\(\?U\)/],
    ["a{", /not a valid regular expression/],
    ["(a", /not a valid regular expression/],
    ["[a", /not a valid regular expression/],
    ["\\#", /not a valid regular expression/],
  ];

  it.each(rows.map(([p, m]) => [p.length > 40 ? `${p.slice(0, 20)}… (${p.length} chars)` : p, p, m] as const))(
    "%s",
    (_name, pattern, message) => {
      let err: unknown;
      try {
        compileRe2(pattern, "encrypted_regex", "secrets/x.yaml");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SopsArgumentError);
      const e = err as SopsArgumentError;
      expect(isKeyfleetError(e)).toBe(true);
      expect(e.message).toMatch(message);
      expect(e.message).toContain(`encrypted_regex ${JSON.stringify(pattern)}`);
      expect(e.file).toBe("secrets/x.yaml");
      expect(e.hint).toMatch(/\w/);
      expect(e.message).toMatch(/^[a-z]/);
      expect(e.message).not.toMatch(/\.$/);
    },
  );

  it("the largest accepted sizes still compile and run", () => {
    expect(compileRe2("a{1000}", "encrypted_regex").test(A(1000))).toBe(true);
    expect(compileRe2("a{1000}", "encrypted_regex").test(A(999))).toBe(false);
    expect(compileRe2("(".repeat(1000) + "a" + ")".repeat(1000), "encrypted_regex").test("xa")).toBe(true);
  });

  it(".sops.yaml path_regex goes through the same checks", () => {
    expect(() => parseSopsConfig("creation_rules:\n  - path_regex: a{1001}\n", "/r/.sops.yaml")).toThrow(
      /creation_rules\[0\]\.path_regex "a\{1001\}" has a repeat count over 1000/,
    );
    const cfg = {
      path: "/r/.sops.yaml",
      dir: "/r",
      rules: parseSopsConfig("creation_rules:\n  - path_regex: (a+)+$\n    age: age1x\n"),
    };
    expect(matchRule(cfg as never, "/r/" + A(60) + "!")).toBeUndefined();
    expect(matchRule(cfg as never, "/r/" + A(60))?.index).toBe(0);
  });
});

describe("end to end: a sops file whose metadata says encrypted_regex: (a+)+$", () => {
  const k = generateX25519();
  const ids = parseIdentities(k.identity, "k");
  const hostileKey = A(40) + "!";
  const plain = `aaa: secret-value-1\n${hostileKey}: clear-value\nnested:\n    ${A(45)}b: clear-too\n`;

  it("encrypt, decrypt, set and updatekeys finish; only matching keys are encrypted", async () => {
    const enc = await encrypt(plain, {
      format: "yaml",
      recipients: [parseRecipient(k.recipient)],
      file: "h.yaml",
      rules: { encryptedRegex: "(a+)+$" },
    });
    expect(enc).toMatch(/^ {4}encrypted_regex: \(a\+\)\+\$$/m);
    expect(enc).toMatch(/^aaa: ENC\[/m);
    expect(enc).toContain(`${hostileKey}: clear-value`);
    expect(enc).not.toContain("secret-value-1");
    const d = await decrypt(enc, { format: "yaml", identities: ids, file: "h.yaml" });
    expect(d.emit()).toBe(plain);
    const set = await setValues(enc, {
      format: "yaml",
      identities: ids,
      file: "h.yaml",
      changes: [{ path: [hostileKey], value: "still-clear" }],
    });
    expect(set).toContain(`${hostileKey}: still-clear`);
    const k2 = generateX25519();
    const up = await updateRecipients(set, {
      format: "yaml",
      identities: ids,
      file: "h.yaml",
      recipients: [parseRecipient(k.recipient), parseRecipient(k2.recipient)],
    });
    const d2 = await decrypt(up.text, {
      format: "yaml",
      identities: parseIdentities(k2.identity, "k2"),
      file: "h.yaml",
    });
    expect(d2.leaves.map((l) => l.value)).toEqual(["secret-value-1", "still-clear", "clear-too"]);
  });

  it("a file edited to carry the hostile pattern decrypts; one with a refused pattern gives the typed error", async () => {
    const enc = await encrypt(plain, {
      format: "yaml",
      recipients: [parseRecipient(k.recipient)],
      file: "h.yaml",
      rules: { encryptedRegex: "^aaa$" },
    });
    const hostile = enc.replace("encrypted_regex: ^aaa$", "encrypted_regex: (a+)+$");
    expect(hostile).not.toBe(enc);
    const d = await decrypt(hostile, { format: "yaml", identities: ids, file: "h.yaml" });
    expect(d.emit()).toBe(plain);
    const refused = enc.replace("encrypted_regex: ^aaa$", "encrypted_regex: (a+){1001}$");
    const err = await decrypt(refused, { format: "yaml", identities: ids, file: "h.yaml" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SopsArgumentError);
    expect((err as Error).message).toMatch(/encrypted_regex "\(a\+\)\{1001\}\$" has a repeat count over 1000/);
    expect((err as SopsArgumentError).file).toBe("h.yaml");
    expect((err as Error).message).not.toContain("secret-value-1");
  });
});
