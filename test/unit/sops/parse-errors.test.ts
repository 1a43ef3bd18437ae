/**
 * Parse errors say what to fix: a broken .sops.yaml points at creation_rules (not at "a valid sops
 * file"), and a yaml/json syntax error names the line and asks for the syntax fix, without the
 * parser's dangling colon.
 */
import { describe, expect, it } from "vitest";
import { parseSopsConfig, SopsParseError, storeFor } from "../../../provider/sops/index.js";

function caught(fn: () => unknown): SopsParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SopsParseError);
    return e as SopsParseError;
  }
  throw new Error("no error");
}

describe("parse error messages", () => {
  it.each([
    ["creation_rules:\n  - path_regex: x\n    age: *alice,*bob\n", /\.sops\.yaml:3: invalid yaml: .*column \d+;/],
    ["creation_rules: 5\n", /creation_rules must be a list/],
    ["creation_rules:\n  - 7\n", /creation_rules\[0\] must be a mapping/],
    ["creation_rules:\n  - age: [1]\n", /age must be a string or a list of strings/],
  ])(".sops.yaml %j", (text, error) => {
    const e = caught(() => parseSopsConfig(text, "/r/.sops.yaml"));
    expect(e.message).toMatch(error);
    expect(e.message).toContain("fix .sops.yaml: creation_rules is a list of mappings");
    expect(e.message).not.toContain("valid sops file");
    expect(e.message).not.toMatch(/:;/);
  });

  it("yaml and json syntax errors name the line and the fix", () => {
    const y = caught(() => storeFor("yaml").parsePlain("a: 1\nb: [\n", "p.yaml"));
    expect(y.message).toMatch(/^p\.yaml:\d+: invalid yaml: .*; fix the yaml syntax at that line$/);
    const j = caught(() => storeFor("json").parsePlain('{"a":', "p.json"));
    expect(j.message).toMatch(/^p\.json:1: invalid json: .*; fix the json syntax at that line$/);
  });

  // the yaml library quotes source text in some messages (after a colon); a plaintext value must not
  // reach the error, e.g. when `keyfleet encrypt` meets a typo in a plaintext file
  it.each([
    ["password: |hunter2-secret\n", /^p\.yaml:1: invalid yaml: Block scalar header includes extra characters; fix/],
    ["- x\npassword: |- hunter2-secret|\n", /^p\.yaml:2: invalid yaml: [^:;]+; fix/],
    ["a: 1\n|- hunter2-secret\n", /^p\.yaml:2: invalid yaml: [^:;]+; fix/],
  ])("yaml syntax error %j does not quote the source", (text, error) => {
    const e = caught(() => storeFor("yaml").parsePlain(text, "p.yaml"));
    expect(e.message).toMatch(error);
    expect(e.message).not.toContain("hunter2");
  });
});
