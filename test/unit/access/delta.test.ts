// recipientDelta (the one recipient comparison every re-key path uses) and auditEntry (the one audit
// entry builder of the provider and the CLI).
import { describe, expect, it } from "vitest";
import { generateX25519, parseRecipient } from "../../../provider/age";
import { auditEntry, recipientDelta } from "../../../provider/access";

const [a, b, c] = [generateX25519().recipient, generateX25519().recipient, generateX25519().recipient] as [
  string,
  string,
  string,
];
const SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvAVvGSK0mKLNpBwC9Ttb2bFzPZ6C0qZ8v3GN9rDdsc";

describe("recipientDelta", () => {
  const rows: { name: string; current: string[]; desired: string[]; added: string[]; removed: string[] }[] = [
    { name: "same set, other order", current: [a, b], desired: [b, a], added: [], removed: [] },
    { name: "addition only", current: [a], desired: [a, b], added: [b], removed: [] },
    { name: "removal only", current: [a, b], desired: [a], added: [], removed: [b] },
    { name: "both", current: [a, b], desired: [a, c], added: [c], removed: [b] },
    { name: "empty file", current: [], desired: [a, b], added: [a, b], removed: [] },
    {
      name: "desired twice: added once, first occurrence",
      current: [],
      desired: [a, a, b],
      added: [a, b],
      removed: [],
    },
    { name: "current twice: removed once", current: [a, b, b], desired: [a], added: [], removed: [b] },
    { name: "ssh comment is not another recipient", current: [`${SSH} web-1`], desired: [SSH], added: [], removed: [] },
    {
      name: "removed keeps the text as written",
      current: [`${SSH} web-1`, a],
      desired: [a],
      added: [],
      removed: [`${SSH} web-1`],
    },
    { name: "surrounding whitespace", current: [` ${a} `], desired: [a], added: [], removed: [] },
  ];
  for (const r of rows) {
    it(r.name, () => {
      expect(recipientDelta(r.current, r.desired)).toEqual({ added: r.added, removed: r.removed });
    });
  }

  it("takes parsed recipients and named objects through `text`", () => {
    const parsed = [parseRecipient(a), parseRecipient(`${SSH} host`)];
    const d = recipientDelta([b, SSH], parsed);
    expect(d.added.map((r) => r.toString())).toEqual([a]);
    expect(d.removed).toEqual([b]);
    const named = recipientDelta(
      [a],
      [
        { name: "bob", recipient: b },
        { name: "alice", recipient: a },
      ],
      (r) => r.recipient,
    );
    expect(named.added).toEqual([{ name: "bob", recipient: b }]);
    expect(named.removed).toEqual([]);
  });
});

describe("auditEntry", () => {
  it("fills every list, the time and the front", () => {
    const before = Date.now();
    const e = auditEntry("secrets/a.yaml", "set-values", "cli", { keysChanged: ["db.password"] });
    expect(e).toMatchObject({
      file: "secrets/a.yaml",
      operation: "set-values",
      by: "keyfleet cli",
      keysChanged: ["db.password"],
      recipientsAdded: [],
      recipientsRemoved: [],
      exposure: [],
    });
    expect(Date.parse(e.time)).toBeGreaterThanOrEqual(before - 1000);
    expect(auditEntry("f", "adopt", "provider").by).toBe("keyfleet provider");
  });

  it("copies the given lists (a later change to the caller's array does not alter the entry)", () => {
    const keys = ["a"];
    const e = auditEntry("f", "set-values", "provider", { keysChanged: keys });
    keys.push("b");
    expect(e.keysChanged).toEqual(["a"]);
  });
});
