/**
 * Pure helpers of the sops verbs: key path parsing (sops `["a"][0]` form and dotted), names from
 * .sops.yaml and .keyfleet/names, the exit-code table (sops numbers, cmd/sops/codes/codes.go in
 * getsops/sops), and which decrypted leaves exec-env turns into variables.
 */
import { describe, expect, it } from "vitest";
import { EXIT, exitCodeFor } from "../../../cli/exit-codes";
import { envEntries } from "../../../cli/exec-env";
import { jsonScalar } from "../../../cli/set";
import { formatKeyPath, parseKeyPath } from "../../../cli/keypath";
import { labelRecipient, namesFromNamesFile, namesFromSopsYaml } from "../../../cli/recipient-names";
import { isKeyfleetError } from "../../../provider/errors";
import type { DecryptedLeaf } from "../../../provider/sops";

const A = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw";
const SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK/F3pgrb+HcQAHQaRhKfCjRq8n3ICwQqLd8M8b02mDo";

describe("parseKeyPath", () => {
  const ok: { input: string; path: string[] }[] = [
    { input: '["a"]["b"]', path: ["a", "b"] },
    { input: "['a']['b c']", path: ["a", "b c"] },
    { input: '["list"][0]["x"]', path: ["list", "0", "x"] },
    { input: '["q\\"uote"]', path: ['q"uote'] },
    { input: '["a.b"]', path: ["a.b"] },
    { input: "db.password", path: ["db", "password"] },
    { input: "KEY", path: ["KEY"] },
    { input: '["007"][007]', path: ["007", "7"] },
  ];
  for (const { input, path } of ok)
    it(`${input} → ${JSON.stringify(path)}`, () => expect(parseKeyPath(input)).toEqual(path));

  const bad: { input: string; error: RegExp }[] = [
    { input: "", error: /empty/ },
    { input: '["a"', error: /expected \]/ },
    { input: '["a', error: /unterminated/ },
    { input: "[a]", error: /quoted key or an index/ },
    { input: '["a"]x', error: /expected \[/ },
    { input: "a..b", error: /empty component/ },
    { input: ".a", error: /empty component/ },
    { input: "[-1]", error: /quoted key or an index/ },
    { input: "x".repeat(5000), error: /too long/ },
  ];
  for (const { input, error } of bad) {
    it(`rejects ${JSON.stringify(input.slice(0, 20))}`, () => {
      let caught: unknown;
      try {
        parseKeyPath(input);
      } catch (e) {
        caught = e;
      }
      expect(isKeyfleetError(caught)).toBe(true);
      expect((caught as { code: string }).code).toBe("BAD_KEY_PATH");
      expect((caught as Error).message).toMatch(error);
      expect(exitCodeFor("BAD_KEY_PATH")).toBe(91);
    });
  }
  it("formatKeyPath round-trips", () =>
    expect(parseKeyPath(formatKeyPath(["a", 'b"c', "d e"]))).toEqual(["a", 'b"c', "d e"]));
});

describe("recipient names", () => {
  it("reads anchors and trailing comments from .sops.yaml", () => {
    const names = namesFromSopsYaml(
      `keys:\n  - &alice ${A}\n  - ${SSH} web-1 # host web-1\ncreation_rules:\n  - age: *alice\n`,
    );
    expect(names.get(A)).toBe("alice");
    expect(names.get(SSH)).toBe("host web-1");
  });
  it("reads NAME RECIPIENT lines from .keyfleet/names, skipping comments and junk", () => {
    const names = namesFromNamesFile(`# who\nalice ${A}\n\nweb-1   ${SSH} root@web-1\nlonely\nbob not-a-key\n`);
    expect([...names.entries()]).toEqual([
      [A, "alice"],
      [SSH, "web-1"],
    ]);
  });
  it("labels with a short key; unnamed keys get the short form only", () => {
    const names = new Map([[A, "alice"]]);
    expect(labelRecipient(A, names)).toBe("alice (age1yt3t…dpszlw)");
    expect(labelRecipient(SSH + " comment", new Map())).toBe("ssh-ed25519 AAAA…M8b02mDo");
  });
});

describe("exit codes", () => {
  it("use sops's numbers and are distinct for the main failures", () => {
    expect(exitCodeFor("NO_IDENTITY")).toBe(128);
    expect(exitCodeFor("KEY_DISCOVERY")).toBe(128);
    expect(exitCodeFor("MAC_MISMATCH")).toBe(51);
    expect(exitCodeFor("IO_READ")).toBe(2);
    expect(exitCodeFor("WRITE_FAILED")).toBe(3);
    expect(exitCodeFor("ALREADY_ENCRYPTED")).toBe(203);
    expect(exitCodeFor("NO_RECIPIENTS")).toBe(111);
    expect(exitCodeFor("SOPS_CRYPTO")).toBe(25);
    expect(exitCodeFor("SOMETHING_ELSE")).toBe(EXIT.GENERIC);
    const main = [
      EXIT.READ_INPUT,
      EXIT.WRITE_OUTPUT,
      EXIT.MAC_MISMATCH,
      EXIT.NO_IDENTITY,
      EXIT.ALREADY_ENCRYPTED,
      EXIT.DECRYPT_TREE,
      EXIT.BAD_KEY_PATH,
    ];
    expect(new Set(main).size).toBe(main.length);
  });
});

describe("exec-env entries", () => {
  const leaf = (path: string[], value: DecryptedLeaf["value"]): DecryptedLeaf => ({ path, value, type: "str", doc: 0 });
  it("takes top-level scalars (ini: section keys), stringifies types, reports bad names", () => {
    const leaves = [
      leaf(["A"], "x"),
      leaf(["N"], 42),
      leaf(["B"], true),
      leaf(["nested", "k"], "no"),
      leaf(["bad-name"], "v"),
      leaf(["L", "0"], "no"),
    ];
    expect(envEntries(leaves, "yaml")).toEqual({
      entries: [
        ["A", "x"],
        ["N", "42"],
        ["B", "true"],
      ],
      skipped: ["bad-name"],
    });
    expect(envEntries([leaf(["sec", "K"], "v"), leaf(["top"], "no")], "ini")).toEqual({
      entries: [["K", "v"]],
      skipped: [],
    });
  });
});

describe("set --json value", () => {
  it("takes a JSON scalar and refuses the rest without quoting the value, not even in the cause chain", () => {
    expect(jsonScalar('"text"')).toBe("text");
    expect(jsonScalar("42")).toBe(42);
    expect(jsonScalar("true")).toBe(true);
    for (const bad of ["hunter2-not-json", '{"pw": hunter2-not-json}', "null", "[1]"]) {
      let e: unknown;
      try {
        jsonScalar(bad);
      } catch (x) {
        e = x;
      }
      expect(isKeyfleetError(e) && e.code).toBe("BAD_VALUE");
      const chain: string[] = [];
      for (let x: unknown = e; x !== undefined && chain.length < 10; x = (x as { cause?: unknown }).cause)
        chain.push(String(x), (x as Error).message);
      expect(chain.join("\n")).not.toContain("hunter2");
    }
  });
});
