import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519 } from "../../../provider/age";
import {
  canonicalRecipientText,
  deriveRecipientName,
  recipientFingerprint,
  recipientLabel,
  shortRecipient,
} from "../../../provider/access/names";
import { computeExposure, exposureMessage } from "../../../provider/access/exposure";
import { computeAccessChange, formatAccessChange, hasAccessChange } from "../../../provider/access/access-change";
import { appendAudit, namesFromAudit, readAudit, type AuditEntry } from "../../../provider/access/audit-log";

function sshKey(dir: string, comment: string): { pub: string; file: string } {
  const file = join(dir, comment);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return { pub: readFileSync(file + ".pub", "utf8").trim(), file };
}

describe("names", () => {
  const dir = mkdtempSync(join(tmpdir(), "kf-names-"));
  it("drops the ssh comment and names the key after it", () => {
    const { pub } = sshKey(dir, "alice@laptop");
    expect(canonicalRecipientText(pub).split(" ")).toHaveLength(2);
    expect(deriveRecipientName(pub)).toBe("alice@laptop");
  });
  it("fingerprints ssh keys as ssh-keygen -lf", () => {
    const { pub, file } = sshKey(dir, "fp");
    const want = execFileSync("ssh-keygen", ["-lf", file + ".pub"], { encoding: "utf8" }).split(" ")[1];
    expect(recipientFingerprint(pub)).toBe(want);
  });
  it("shortens age keys and labels them", () => {
    const { recipient } = generateX25519();
    expect(shortRecipient(recipient)).toMatch(/^age1.{4}….{6}$/);
    expect(deriveRecipientName(recipient)).toBe(shortRecipient(recipient));
    expect(recipientLabel({ name: "alice", recipient })).toBe(`alice (${shortRecipient(recipient)})`);
    expect(recipientFingerprint(recipient)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe("exposure and access change", () => {
  const a = generateX25519().recipient;
  const b = generateX25519().recipient;
  const c = generateX25519().recipient;
  const keys = [
    { path: ["db", "password"], encrypted: true },
    { path: ["api", "token"], encrypted: true },
    { path: ["db", "host"], encrypted: false },
  ];
  it("lists only encrypted keys, sorted, per removed recipient", () => {
    const ex = computeExposure([{ name: "bob", recipient: b, fingerprint: recipientFingerprint(b) }], keys);
    expect(ex).toEqual([
      { recipient: "bob", fingerprint: recipientFingerprint(b), keys: ["api.token", "db.password"] },
    ]);
    expect(exposureMessage("s.yaml", ex)).toContain("bob");
    expect(exposureMessage("s.yaml", ex)).toContain("rotate these values");
  });
  it("names who gains and who loses access, with known names", () => {
    const ch = computeAccessChange({
      file: "s.yaml",
      current: [a, b],
      desired: [
        { name: "alice", recipient: a },
        { name: "vps-3", recipient: c },
      ],
      keys,
      knownNames: new Map([[b, "bob"]]),
    });
    expect(ch.gains.map((g) => g.name)).toEqual(["vps-3"]);
    expect(ch.loses.map((g) => g.name)).toEqual(["bob"]);
    expect(ch.exposure[0]?.keys).toEqual(["api.token", "db.password"]);
    const text = formatAccessChange(ch);
    expect(text).toContain("s.yaml: + vps-3 (");
    expect(text).toContain("s.yaml: - bob (");
    expect(text).toContain("could read api.token, db.password: rotate these values");
    expect(text).not.toContain("alice");
  });
  it("reports nothing when the set is unchanged (ssh comments ignored)", () => {
    const ch = computeAccessChange({
      file: "s",
      current: [a],
      desired: [{ name: "alice", recipient: ` ${a} ` }],
      keys,
    });
    expect(hasAccessChange(ch)).toBe(false);
    expect(formatAccessChange(ch)).toBe("");
  });
  it("describes a new file", () => {
    const ch = computeAccessChange({
      file: "n.yaml",
      current: undefined,
      desired: [{ name: "alice", recipient: a }],
      keys: [],
    });
    expect(ch.newFile).toBe(true);
    expect(formatAccessChange(ch)).toMatch(/^n\.yaml: new file, readable by alice/);
  });
  it("falls back to the short form for unknown leavers", () => {
    const ch = computeAccessChange({ file: "s", current: [b], desired: [{ name: "alice", recipient: a }], keys });
    expect(ch.loses[0]?.name).toBe(shortRecipient(b));
  });
});

describe("audit log", () => {
  it("appends one JSON line per entry and reads names back", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-audit-"));
    const e: AuditEntry = {
      time: new Date().toISOString(),
      file: "s.yaml",
      operation: "create",
      recipientsAdded: [{ name: "alice", recipient: "age1x", fingerprint: "SHA256:x" }],
      recipientsRemoved: [],
      keysChanged: ["db.password"],
      exposure: [],
      by: "test",
    };
    appendAudit(".keyfleet/audit.jsonl", e, dir);
    appendAudit(".keyfleet/audit.jsonl", { ...e, operation: "rotate" }, dir);
    const text = readFileSync(join(dir, ".keyfleet/audit.jsonl"), "utf8");
    expect(text.split("\n").filter(Boolean)).toHaveLength(2);
    writeFileSync(join(dir, ".keyfleet/audit.jsonl"), text + "not json\n");
    const entries = readAudit(".keyfleet/audit.jsonl", dir);
    expect(entries.map((x) => x.operation)).toEqual(["create", "rotate"]);
    expect(namesFromAudit(entries).get("age1x")).toBe("alice");
    expect(readAudit("missing.jsonl", dir)).toEqual([]);
  });
});
