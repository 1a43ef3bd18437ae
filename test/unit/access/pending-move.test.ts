/**
 * computePending across a SecretFile move (issue 10 §2): the moved file keeps the data key and the
 * values, so its pending rotations follow it to the new path (and stay on the old one when it was
 * kept); a later change at the new path clears them.
 */
import { describe, expect, it } from "vitest";
import { computePending } from "../../../provider/access/pending";
import { auditEntry, type AuditEntry } from "../../../provider/access/audit-log";

const now = new Date("2026-01-11T00:00:00Z");
const rotate: AuditEntry = {
  ...auditEntry("old.yaml", "rotate", "provider", {
    exposure: [{ recipient: "bob", fingerprint: "SHA256:x", keys: ["a"] }] as never,
    pending: { dataKeyId: "K1", digests: { a: "d1" } },
  }),
  time: "2026-01-01T00:00:00Z",
};

describe("computePending after a move", () => {
  it("a move carries the pending rotation to the new path", () => {
    const p = computePending([rotate, auditEntry("new.yaml", "move", "provider", { movedFrom: "old.yaml" })], { now });
    expect(p.map((x) => [x.file, x.key, x.days, x.exposedTo])).toEqual([["new.yaml", "a", 10, ["bob"]]]);
  });
  it("a copy (old file kept) leaves it pending on both", () => {
    const p = computePending(
      [rotate, auditEntry("new.yaml", "move", "provider", { movedFrom: "old.yaml", oldKept: true })],
      { now },
    );
    expect(p.map((x) => x.file).sort()).toEqual(["new.yaml", "old.yaml"]);
  });
  it("a later change of the value at the new path clears it", () => {
    const later = auditEntry("new.yaml", "set-values", "provider", {
      keysChanged: ["a"],
      pending: { dataKeyId: "K1", digests: { a: "d2" } },
    });
    expect(
      computePending([rotate, auditEntry("new.yaml", "move", "provider", { movedFrom: "old.yaml" }), later], { now }),
    ).toEqual([]);
  });
});
