/**
 * The SecretFile `pendingRotations` output, through the provider functions on real files and real
 * age keys: a removed recipient leaves the keys it could read pending (names only), provider writes
 * record keyed digests (so the entries are verified, not "[unverified]"), a value set by the
 * provider or changed outside clears its key, and old state without the field still works.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../../provider/age";
import { setValues } from "../../../provider/sops";
import * as sf from "../../../provider/resources/secret-file";
import type { SecretFileInputs } from "../../../provider/resources/secret-file-inputs";
import { secretFileOlds } from "../../../provider/resources/olds";
import { appendAudit, readAudit } from "../../../provider/access/audit-log";
import { computePending } from "../../../provider/access/pending";
import { pendingWarning } from "../../../provider/access/pending-file";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const bob = generateX25519();
const dir = tmpDirWithAgeKey("kf-sfp-", alice.identity);
const SECRETS = ["db-pw-1-plain", "api-tok-1-plain", "db-pw-2-plain", "api-tok-2-plain"];
const log = join(dir, "audit.jsonl");
const ins = (recipients: { name: string; recipient: string }[], values: Record<string, string>): SecretFileInputs =>
  ({ path: join(dir, "app.yaml"), recipients, auditLog: log, values }) as SecretFileInputs;
const both = [
  { name: "alice", recipient: alice.recipient },
  { name: "bob", recipient: bob.recipient },
];
const aliceOnly = [both[0] as { name: string; recipient: string }];

function noValues(s: string): void {
  for (const v of SECRETS) expect(s).not.toContain(v);
}

describe("SecretFile pendingRotations", () => {
  it("lists what a removed recipient could read, verified by digests, until each value changes", async () => {
    const v1 = { DB_PASSWORD: "db-pw-1-plain", API_TOKEN: "api-tok-1-plain" };
    const c = await sf.create(ins(both, v1));
    expect(c.outs.pendingRotations).toEqual([]);

    // bob leaves: both values he could read are pending
    const u1 = (await sf.update(c.id, c.outs, ins(aliceOnly, v1))).outs as sf.SecretFileOutputs;
    expect(u1.pendingRotations).toEqual(["API_TOKEN", "DB_PASSWORD"]);
    const rotate = readAudit(log).find((e) => e.operation === "rotate");
    expect(Object.keys(rotate?.pending?.digests ?? {}).sort()).toEqual(["API_TOKEN", "DB_PASSWORD"]);
    // the provider's entries carry digests: the CLI's view shows them checked, not [unverified]
    const byLog = computePending(readAudit(log)).filter((p) => p.file === join(dir, "app.yaml"));
    expect(byLog.map((p) => [p.key, p.checked, p.exposedTo.join(",")])).toEqual([
      ["API_TOKEN", true, "bob"],
      ["DB_PASSWORD", true, "bob"],
    ]);

    // the provider sets a new DB_PASSWORD: that rotation is done, API_TOKEN still pending
    const v2 = { ...v1, DB_PASSWORD: "db-pw-2-plain" };
    const u2 = (await sf.update(c.id, u1, ins(aliceOnly, v2))).outs as sf.SecretFileOutputs;
    expect(u2.pendingRotations).toEqual(["API_TOKEN"]);
    expect(computePending(readAudit(log)).map((p) => p.key)).toEqual(["API_TOKEN"]);

    // a refresh by someone who cannot decrypt keeps it pending (as of the last write)
    process.env["SOPS_AGE_KEY"] = generateX25519().identity;
    const r1 = (await sf.read(c.id, u2)).props as sf.SecretFileOutputs;
    expect(r1.pendingRotations).toEqual(["API_TOKEN"]);
    process.env["SOPS_AGE_KEY"] = alice.identity;

    // API_TOKEN changed outside Pulumi (same data key): the refresh sees another digest and clears it
    const edited = await setValues(readFileSync(join(dir, "app.yaml"), "utf8"), {
      format: "yaml",
      identities: parseIdentities(alice.identity, "t"),
      changes: [{ path: ["API_TOKEN"], value: "api-tok-2-plain" }],
    });
    writeFileSync(join(dir, "app.yaml"), edited);
    const r2 = (await sf.read(c.id, u2)).props as sf.SecretFileOutputs;
    expect(r2.pendingRotations).toEqual([]);

    noValues(JSON.stringify([c.outs, u1, u2, r1, r2]));
    noValues(readFileSync(log, "utf8"));
  });

  it("old state without pendingRotations is completed and updates", async () => {
    const v = { K: "db-pw-1-plain" };
    const p = { ...ins(both, v), path: join(dir, "old.yaml") };
    const c = await sf.create(p);
    const { pendingRotations: _gone, ...old } = c.outs;
    expect(secretFileOlds(old).pendingRotations).toEqual([]);
    const u = (await sf.update(c.id, old as sf.SecretFileOutputs, { ...p, recipients: aliceOnly }))
      .outs as sf.SecretFileOutputs;
    expect(u.pendingRotations).toEqual(["K"]);
    const r = (await sf.read(c.id, old as sf.SecretFileOutputs)).props as sf.SecretFileOutputs;
    expect(r.pendingRotations).toEqual(["K"]);
  });

  it("the preview warning names key, age and who lost access, from the log alone", () => {
    const file = join(dir, "old.yaml");
    process.env["SOPS_AGE_KEY"] = generateX25519().identity; // nothing here decrypts
    const later = new Date(Date.now() + 12 * 86_400_000 + 60_000);
    const w = pendingWarning({ path: file, auditLog: log, now: later });
    process.env["SOPS_AGE_KEY"] = alice.identity;
    expect(w).toBe(`${file}: rotation pending for K (12 days, since bob lost access); change these values`);
    expect(pendingWarning({ path: join(dir, "none.yaml"), auditLog: log })).toBe("");
    // `keyfleet exposed` marks by hand, with a reason
    appendAudit(log, {
      time: new Date().toISOString(),
      file: join(dir, "hand.yaml"),
      operation: "exposed",
      recipientsAdded: [],
      recipientsRemoved: [],
      keysChanged: [],
      exposure: [{ recipient: "marked by hand", fingerprint: "", keys: ["T"] }],
      reason: "pasted in a chat",
      by: "keyfleet cli",
    });
    expect(pendingWarning({ path: join(dir, "hand.yaml"), auditLog: log })).toBe(
      `${join(dir, "hand.yaml")}: rotation pending for T (0 days, since marked exposed by hand; reason: pasted in a chat); change these values`,
    );
    expect(pendingWarning({ path: file, auditLog: join(dir, "missing.jsonl") })).toBe("");
    noValues(w);
  });
});
