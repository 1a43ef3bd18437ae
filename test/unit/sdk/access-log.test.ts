import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseRecipient } from "../../../provider/age";
import { encrypt } from "../../../provider/sops";
import { accessChangeOnDisk, accessSummary } from "../../../sdk/access-log";
import { appendAudit } from "../../../provider/access/audit-log";
import { fingerprinted } from "../../../provider/access/names";

describe("preview access log (metadata only, no identities)", () => {
  it("names who gains and loses access and what the leaver could read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-acl-"));
    const [alice, bob, vps] = [generateX25519(), generateX25519(), generateX25519()];
    const text = await encrypt("db:\n  password: x\napi_unencrypted: y\ntoken: z\n", {
      format: "yaml",
      recipients: [parseRecipient(alice.recipient), parseRecipient(bob.recipient)],
    });
    writeFileSync(join(dir, "s.yaml"), text);
    appendAudit(".keyfleet/audit.jsonl", {
      time: "t", file: "s.yaml", operation: "create", recipientsAdded: [fingerprinted({ name: "bob", recipient: bob.recipient })],
      recipientsRemoved: [], keysChanged: [], exposure: [], by: "test",
    }, dir);
    const desired = [{ name: "alice", recipient: alice.recipient }, { name: "vps-3", recipient: vps.recipient }];
    // no SOPS_AGE_KEY anywhere: only metadata is read
    const c = accessChangeOnDisk({ path: "s.yaml", desired, baseDir: dir });
    expect(c.gains.map((g) => g.name)).toEqual(["vps-3"]);
    expect(c.loses.map((g) => g.name)).toEqual(["bob"]);
    expect(c.exposure[0]?.keys).toEqual(["db.password", "token"]);
    const s = accessSummary({ path: "s.yaml", desired, baseDir: dir });
    expect(s).toContain("+ vps-3");
    expect(s).toContain("- bob");
    expect(s).toContain("rotate these values");
    expect(accessSummary({ path: "s.yaml", desired: [{ name: "alice", recipient: alice.recipient }, { name: "bob", recipient: bob.recipient }], baseDir: dir })).toBe("");
    expect(accessSummary({ path: "new.yaml", desired, baseDir: dir })).toMatch(/new file, readable by alice/);
  });
});
