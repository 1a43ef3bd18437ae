/**
 * computePending over hand-made audit logs: exposure starts a pending rotation; a same-key digest
 * change clears it; a re-keyed record carries it; digest-less writers clear it through set-values;
 * the current file clears it only when its digest differs under the same data key.
 */
import { describe, expect, it } from "vitest";
import { computePending, currentDigests, dataKeyId, overdue } from "../../../provider/access/pending";
import type { AuditEntry } from "../../../provider/access/audit-log";

const base = { recipientsAdded: [], recipientsRemoved: [], keysChanged: [], exposure: [], by: "test" };
const exposed = (time: string, keys: string[], pending?: AuditEntry["pending"]): AuditEntry => ({
  ...base,
  time,
  file: "s.yaml",
  operation: "rotate",
  exposure: [{ recipient: "bob", fingerprint: "SHA256:x", keys }],
  ...(pending ? { pending } : {}),
});
const write = (
  op: AuditEntry["operation"],
  pending?: AuditEntry["pending"],
  keysChanged: string[] = [],
): AuditEntry => ({
  ...base,
  time: "2026-01-02T00:00:00Z",
  file: "s.yaml",
  operation: op,
  keysChanged,
  ...(pending ? { pending } : {}),
});
const now = new Date("2026-01-11T00:00:00Z");

describe("computePending", () => {
  it("an exposure is pending with its age in days", () => {
    const p = computePending(
      [exposed("2026-01-01T00:00:00Z", ["a", "b"], { dataKeyId: "K1", digests: { a: "d1", b: "d2" } })],
      { now },
    );
    expect(p.map((x) => [x.key, x.days, x.exposedTo, x.checked])).toEqual([
      ["a", 10, ["bob"], true],
      ["b", 10, ["bob"], true],
    ]);
    expect(overdue(p, 9)).toHaveLength(2);
    expect(overdue(p, 10)).toHaveLength(0);
  });
  it.each([
    ["same key, same digest: still pending", { dataKeyId: "K1", digests: { a: "d1" } }, ["a"]],
    ["same key, new digest: rotated", { dataKeyId: "K1", digests: { a: "dX" } }, []],
    ["new data key (re-keyed), digest recorded again: still pending", { dataKeyId: "K2", digests: { a: "d9" } }, ["a"]],
    ["cleared by the writer's check", { dataKeyId: "K2", digests: {}, cleared: ["a"] }, []],
  ])("%s", (_n, pending, want) => {
    const p = computePending(
      [
        exposed("2026-01-01T00:00:00Z", ["a"], { dataKeyId: "K1", digests: { a: "d1" } }),
        write("set-values", pending as AuditEntry["pending"]),
      ],
      { now },
    );
    expect(p.map((x) => x.key)).toEqual(want);
  });
  it("after a re-key, a later change under the new key clears", () => {
    const p = computePending(
      [
        exposed("2026-01-01T00:00:00Z", ["a"], { dataKeyId: "K1", digests: { a: "d1" } }),
        write("rotate", { dataKeyId: "K2", digests: { a: "d9" } }),
        write("set-values", { dataKeyId: "K2", digests: { a: "dY" } }),
      ],
      { now },
    );
    expect(p).toEqual([]);
  });
  it("a writer without digests clears through set-values keysChanged; other writes do not clear", () => {
    expect(
      computePending([exposed("2026-01-01T00:00:00Z", ["a"]), write("add-recipients")], { now }).map((x) => x.key),
    ).toEqual(["a"]);
    expect(
      computePending([exposed("2026-01-01T00:00:00Z", ["a"]), write("set-values", undefined, ["a"])], { now }),
    ).toEqual([]);
    expect(computePending([exposed("2026-01-01T00:00:00Z", ["a"])], { now })[0]?.checked).toBe(false);
  });
  it("the current file clears only when its digest differs under the same data key", () => {
    const log = [exposed("2026-01-01T00:00:00Z", ["a"], { dataKeyId: "K1", digests: { a: "d1" } })];
    expect(computePending(log, { now, current: () => ({ dataKeyId: "K1", digests: { a: "d1" } }) })).toHaveLength(1);
    expect(computePending(log, { now, current: () => ({ dataKeyId: "K1", digests: { a: "d2" } }) })).toHaveLength(0);
    const other = computePending(log, { now, current: () => ({ dataKeyId: "K9", digests: { a: "d2" } }) });
    expect(other.map((x) => x.checked)).toEqual([false]);
  });
  it("data key ids and digests are keyed: same data key same id, another key another id", () => {
    const k1 = new Uint8Array(32).fill(1);
    const k2 = new Uint8Array(32).fill(2);
    expect(dataKeyId(k1)).toBe(dataKeyId(k1));
    expect(dataKeyId(k1)).not.toBe(dataKeyId(k2));
    const leaf = { path: ["a"], value: "value-123456", type: "str" as const, doc: 0 };
    expect(currentDigests(k1, [leaf]).digests.a).not.toBe(currentDigests(k2, [leaf]).digests.a);
  });
});
