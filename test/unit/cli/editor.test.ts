/** The editor command of `keyfleet edit`: shell-like word splitting (no expansion) and the variable order. */
import { describe, expect, it } from "vitest";
import { editorCommand, splitWords } from "../../../cli/editor";
import { errorHeader, HEADER_MARK, stripHeader } from "../../../cli/edit-session";
import { isKeyfleetError } from "../../../provider/errors";

describe("splitWords", () => {
  const rows: { input: string; words: string[] }[] = [
    { input: "vi", words: ["vi"] },
    { input: "  code   --wait  ", words: ["code", "--wait"] },
    { input: "'/opt/my editor/ed' -n", words: ["/opt/my editor/ed", "-n"] },
    { input: '"a \\"b\\" \\\\ \\$x" c', words: ['a "b" \\ $x', "c"] },
    { input: '"keep \\n as is"', words: ["keep \\n as is"] },
    { input: "a\\ b c", words: ["a b", "c"] },
    { input: "emacs -nw $HOME;rm -rf x `id`", words: ["emacs", "-nw", "$HOME;rm", "-rf", "x", "`id`"] },
    { input: "x''y \"\"", words: ["xy", ""] },
    { input: "a\tb\nc", words: ["a", "b", "c"] },
  ];
  for (const r of rows)
    it(`splits ${JSON.stringify(r.input)}`, () => expect(splitWords(r.input, "$EDITOR")).toEqual(r.words));

  const bad: { input: string; error: RegExp }[] = [
    { input: "'open", error: /^\$EDITOR: unterminated single quote; fix the quoting in \$EDITOR/ },
    { input: 'vi "open', error: /unterminated double quote/ },
    { input: "vi \\", error: /trailing backslash/ },
  ];
  for (const b of bad) {
    it(`refuses ${JSON.stringify(b.input)}`, () => {
      let err: unknown;
      try {
        splitWords(b.input, "$EDITOR");
      } catch (e) {
        err = e;
      }
      expect(isKeyfleetError(err) && (err as { code: string }).code).toBe("EDITOR");
      expect((err as Error).message).toMatch(b.error);
    });
  }
});

describe("editorCommand", () => {
  it("takes $SOPS_EDITOR, then $VISUAL, then $EDITOR, then vi; blank values are skipped", () => {
    expect(editorCommand({ SOPS_EDITOR: "a 1", VISUAL: "b", EDITOR: "c" })).toEqual({
      argv: ["a", "1"],
      from: "$SOPS_EDITOR",
    });
    expect(editorCommand({ SOPS_EDITOR: " ", VISUAL: "b", EDITOR: "c" }).argv).toEqual(["b"]);
    expect(editorCommand({ EDITOR: "c --x" }).argv).toEqual(["c", "--x"]);
    expect(editorCommand({ EDITOR: "''" }).argv).toEqual([""]);
    expect(editorCommand({})).toEqual({ argv: ["vi"], from: "the default (vi)" });
  });
});

describe("error header", () => {
  it("is comment lines that say how to give up, and is stripped exactly", () => {
    const h = errorHeader("line 3: bad indentation\nsecond line");
    expect(
      h
        .split("\n")
        .filter(Boolean)
        .every((l) => l.startsWith(HEADER_MARK)),
    ).toBe(true);
    expect(h).toContain("quit without saving to give up");
    const body = Buffer.from("a: 1\n# keyfleet edit: stays (not at the top)\n");
    expect(stripHeader(Buffer.concat([Buffer.from(h), body])).equals(body)).toBe(true);
    expect(stripHeader(body).equals(body)).toBe(true);
    expect(stripHeader(Buffer.from(HEADER_MARK + "no newline")).length).toBe(0);
  });
});
