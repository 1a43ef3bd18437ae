import { describe, expect, it } from "vitest";
import { parseEnv, renderEnv, RenderError, EnvParseError, type EnvFormat } from "../../../provider/render/index";
import { bashSourceMany } from "./bash-source";

const FORMATS: EnvFormat[] = ["dotenv", "systemd", "json"];

describe("renderEnv: invalid keys", () => {
  const rows: { key: unknown; error: RegExp }[] = [
    { key: "", error: /invalid env key ""/ },
    { key: "1ABC", error: /invalid env key "1ABC"/ },
    { key: "A-B", error: /invalid env key "A-B"/ },
    { key: "A B", error: /invalid env key/ },
    { key: "A=B", error: /invalid env key/ },
    { key: "ÜBER", error: /invalid env key/ },
    { key: "A\nB", error: /invalid env key/ },
    { key: "export A", error: /invalid env key/ },
    { key: "X".repeat(300), error: /invalid env key/ },
    { key: 42, error: /invalid env key number/ },
  ];
  for (const f of FORMATS) {
    for (const r of rows) {
      it(`${f}: ${JSON.stringify(String(r.key)).slice(0, 30)}`, () => {
        expect(() => renderEnv([[r.key as string, "v"]], f)).toThrow(r.error);
        try {
          renderEnv([[r.key as string, "v"]], f);
        } catch (e) {
          expect(e).toBeInstanceOf(RenderError);
        }
      });
    }
  }
  it("duplicate keys are refused in every format", () => {
    for (const f of FORMATS)
      expect(() =>
        renderEnv(
          [
            ["A", "1"],
            ["A", "2"],
          ],
          f,
        ),
      ).toThrow(/duplicate env key A/);
  });
  it("bash special names are refused for dotenv only", () => {
    for (const k of ["RANDOM", "SECONDS", "UID", "_", "SHELLOPTS", "POSIXLY_CORRECT"]) {
      expect(() => renderEnv([[k, "1"]], "dotenv")).toThrow(/special to bash/);
      expect(renderEnv([[k, "1"]], "systemd")).toBe(`${k}='1'\n`);
    }
  });
  it("unknown format is refused", () => {
    expect(() => renderEnv([["A", "1"]], "yaml" as EnvFormat)).toThrow(/unknown env format "yaml"/);
  });
});

describe("renderEnv: values", () => {
  const SECRET = "s3cr3t-'\"$\\";
  const rows: { value: string; format: EnvFormat; error: RegExp }[] = [
    { value: "a\0b", format: "dotenv", error: /NUL/ },
    { value: "a\0b", format: "systemd", error: /NUL/ },
    { value: "a\0b", format: "json", error: /NUL/ },
    { value: "a\uD800b", format: "json", error: /lone UTF-16 surrogate/ },
    { value: "a\rb", format: "dotenv", error: /carriage return/ },
    { value: "ends\\", format: "dotenv", error: /ends with a backslash/ },
    { value: "it's $HOME", format: "dotenv", error: /single quote and "\$"/ },
    { value: 'it\'s "q"', format: "dotenv", error: /single quote and "\\""/ },
    { value: "it's \\", format: "dotenv", error: /single quote and "\\\\"/ },
    { value: "it's `x`", format: "dotenv", error: /single quote and "`"/ },
    { value: SECRET, format: "dotenv", error: /cannot both read back identically/ },
  ];
  for (const r of rows) {
    it(`${r.format} refuses ${JSON.stringify(r.value)}`, () => {
      let err: unknown;
      try {
        renderEnv([["K", r.value]], r.format);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RenderError);
      expect((err as Error).message).toMatch(r.error);
      expect((err as RenderError).key).toBe("K");
      // the message names the key, never the value
      expect((err as Error).message).not.toContain(r.value);
    });
  }

  const tricky = [
    "",
    " ",
    "  lead",
    "trail  ",
    "\ttab\t",
    "a\nb",
    "\n",
    "line1\nline2\n",
    "#not a comment",
    "a #b",
    "$HOME",
    "${HOME}",
    "$(id)",
    "`id`",
    "back\\slash",
    "\\n",
    "\\",
    'dq"in',
    '"',
    "it's",
    "'",
    "''",
    "unicode ✓ ünï 🎉",
    "a=b=c",
    "; semi",
    "export X=1",
    "\u00a0nbsp\u00a0",
    "\\\n",
    "it's\nmulti",
    "x'y'z",
    "!bang",
    "*glob?",
    "~tilde",
  ];
  const cases = tricky.map((v, i) => [`K${i}`, v] as [string, string]);
  for (const f of FORMATS) {
    it(`${f}: every tricky value either round-trips through its parser or is refused`, () => {
      for (const [k, v] of cases) {
        let text: string;
        try {
          text = renderEnv([[k, v]], f);
        } catch (e) {
          expect(e).toBeInstanceOf(RenderError);
          continue;
        }
        expect(parseEnv(text, f)).toEqual([[k, v]]);
      }
    });
  }
  it("dotenv: tricky values read back identically with a real bash source", () => {
    const ok = cases.flatMap(([k, v]) => {
      try {
        return [{ k, v, text: renderEnv([[k, v]], "dotenv") }];
      } catch {
        return [];
      }
    });
    expect(ok.length).toBeGreaterThan(cases.length - 8);
    const res = bashSourceMany(ok.map((c) => ({ text: c.text, keys: [c.k] })));
    res.forEach((r, i) => expect(r).toEqual({ values: [ok[i]!.v] }));
  });
  it("systemd and json write every tricky value", () => {
    for (const [k, v] of cases) {
      expect(parseEnv(renderEnv([[k, v]], "systemd"), "systemd")).toEqual([[k, v]]);
      expect(parseEnv(renderEnv([[k, v]], "json"), "json")).toEqual([[k, v]]);
    }
  });
  it("quoting choice is stable and readable", () => {
    expect(
      renderEnv(
        [
          ["A", "x y"],
          ["B", "it's"],
        ],
        "dotenv",
      ),
    ).toBe(`A='x y'\nB="it's"\n`);
    expect(
      renderEnv(
        [
          ["A", "x y"],
          ["B", "it's $x"],
          ["C", "a\\b"],
        ],
        "systemd",
      ),
    ).toBe(`A='x y'\nB="it's \\$x"\nC="a\\\\b"\n`);
    expect(renderEnv([], "dotenv")).toBe("");
    expect(renderEnv([], "json")).toBe("{}\n");
  });
});

describe("parseEnv: compose and systemd rules", () => {
  it("compose: comments, export, quotes, trimming", () => {
    const t = "# c\nexport A=plain  \nB = 'x # y'\nC=\"multi\nline\\n\"  # trailing comment\n\nD=\n";
    expect(parseEnv(t, "dotenv")).toEqual([
      ["A", "plain"],
      ["B", "x # y"],
      ["C", "multi\nline\n"],
      ["D", ""],
    ]);
  });
  it("systemd: comments, continuation, escapes, concatenation", () => {
    const t = "# c\n; c2\n  A = unq\\\n uoted  \nB=\"a\\$b\\qc\"'lit'\nC=' sp '\nD=x\\ y\n";
    expect(parseEnv(t, "systemd")).toEqual([
      ["A", "unq uoted"],
      ["B", "a$b\\qclit"],
      ["C", " sp "],
      ["D", "x y"],
    ]);
  });
  const bad: { text: string; format: EnvFormat; error: RegExp }[] = [
    { text: "A='x", format: "dotenv", error: /line 1: value of A: unterminated/ },
    { text: "\n\nA-B=1", format: "dotenv", error: /line 3: invalid key/ },
    { text: "NOEQ\n", format: "dotenv", error: /has no "="/ },
    { text: "A=$X", format: "dotenv", error: /interpolated/ },
    { text: 'A="$X"', format: "dotenv", error: /interpolated/ },
    { text: "A='x' junk", format: "dotenv", error: /unexpected text/ },
    { text: 'A="x\\q"', format: "dotenv", error: /unsupported escape/ },
    { text: 'A="x', format: "systemd", error: /unterminated/ },
    { text: "NOEQ\n", format: "systemd", error: /has no "="/ },
    { text: "1A=x\n", format: "systemd", error: /invalid key/ },
    { text: "A='a\\b'\n", format: "systemd", error: /backslash inside single quotes/ },
    { text: "[1]", format: "json", error: /must be an object/ },
    { text: '{"A":1}', format: "json", error: /not a string/ },
    { text: "{", format: "json", error: /invalid JSON/ },
  ];
  it("parse errors never echo text that is not a key name (it may be part of a value)", () => {
    const secret = "s3cr3t-Value_9f2";
    const texts: [string, EnvFormat][] = [
      [`A='x'\n${secret}\n`, "dotenv"],
      [`A=x\n${secret} tail=1\n`, "dotenv"],
      [`A=x\n${secret}\n`, "systemd"],
      [`${secret}.x=1\n`, "systemd"],
      [`${secret}.x='a\\b'\n`, "systemd"],
      [`${secret}.x="a\n`, "systemd"],
      [`{"A": ${secret}}`, "json"],
      [`{"A": "x"${secret}}`, "json"],
      [`{"A": "${secret}" x}`, "json"],
      [secret, "json"],
    ];
    for (const [text, format] of texts) {
      let msg = "";
      try {
        parseEnv(text, format);
      } catch (e) {
        expect(e).toBeInstanceOf(EnvParseError);
        msg = (e as Error).message;
      }
      expect(msg, text).not.toBe("");
      expect(msg, text).not.toContain(secret.slice(0, 6));
      expect(msg, text).not.toContain(`'${secret[0]}'`);
    }
    expect(() => parseEnv("NOEQ\n", "dotenv")).toThrow(/key NOEQ has no "="/);
  });
  for (const r of bad) {
    it(`${r.format} refuses ${JSON.stringify(r.text)}`, () => {
      expect(() => parseEnv(r.text, r.format)).toThrow(EnvParseError);
      expect(() => parseEnv(r.text, r.format)).toThrow(r.error);
    });
  }
});
