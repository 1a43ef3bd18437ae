import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseRecipient } from "../../../provider/age";
import { encrypt } from "../../../provider/sops";
import { accessChangeOnDisk, accessSummary } from "../../../sdk/access-log";
import { appendAudit } from "../../../provider/access/audit-log";
import { fingerprinted } from "../../../provider/access/names";
import * as pulumi from "@pulumi/pulumi";
import { knownOrPlanned } from "../../../sdk/recipients";

describe("preview access log (metadata only, no identities)", () => {
  it("names who gains and loses access and what the leaver could read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-acl-"));
    const [alice, bob, vps] = [generateX25519(), generateX25519(), generateX25519()];
    const text = await encrypt("db:\n  password: x\napi_unencrypted: y\ntoken: z\n", {
      format: "yaml",
      recipients: [parseRecipient(alice.recipient), parseRecipient(bob.recipient)],
    });
    writeFileSync(join(dir, "s.yaml"), text);
    appendAudit(
      ".keyfleet/audit.jsonl",
      {
        time: "t",
        file: "s.yaml",
        operation: "create",
        recipientsAdded: [fingerprinted({ name: "bob", recipient: bob.recipient })],
        recipientsRemoved: [],
        keysChanged: [],
        exposure: [],
        by: "test",
      },
      dir,
    );
    const desired = [
      { name: "alice", recipient: alice.recipient },
      { name: "vps-3", recipient: vps.recipient },
    ];
    // no SOPS_AGE_KEY anywhere: only metadata is read
    const c = accessChangeOnDisk({ path: "s.yaml", desired, baseDir: dir });
    expect(c.gains.map((g) => g.name)).toEqual(["vps-3"]);
    expect(c.loses.map((g) => g.name)).toEqual(["bob"]);
    expect(c.exposure[0]?.keys).toEqual(["db.password", "token"]);
    const s = accessSummary({ path: "s.yaml", desired, baseDir: dir });
    expect(s).toContain("+ vps-3");
    expect(s).toContain("- bob");
    expect(s).toContain("rotate these values");
    expect(
      accessSummary({
        path: "s.yaml",
        desired: [
          { name: "alice", recipient: alice.recipient },
          { name: "bob", recipient: bob.recipient },
        ],
        baseDir: dir,
      }),
    ).toBe("");
    expect(accessSummary({ path: "new.yaml", desired, baseDir: dir })).toMatch(/new file, readable by alice/);
  });
});

describe("preview of a host pinned by expected fingerprint (its key is read at up)", () => {
  it("prints '+ web-3 (host key SHA256:…, read at up) gains access' and does not count it as leaving", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-acl-planned-"));
    const alice = generateX25519();
    writeFileSync(
      join(dir, "s.yaml"),
      await encrypt("a: 1\n", { format: "yaml", recipients: [parseRecipient(alice.recipient)] }),
    );
    const desired = [{ name: "alice", recipient: alice.recipient }];
    const s = accessSummary({
      path: "s.yaml",
      desired,
      planned: [{ name: "web-3", fingerprint: "SHA256:abcDEF" }],
      baseDir: dir,
    });
    expect(s).toBe("s.yaml: + web-3 (host key SHA256:abcDEF, read at up) gains access");
  });

  it("knownOrPlanned gives the planned name and fingerprint while the key is unknown, the key once known", async () => {
    const OutputImpl = pulumi.Output as unknown as new (
      ...a: unknown[]
    ) => import("@pulumi/pulumi").Output<{ name: string; recipient: string }>;
    const unknownNamed = new OutputImpl(
      new Set(),
      Promise.resolve(undefined),
      Promise.resolve(false),
      Promise.resolve(false),
      Promise.resolve(new Set()),
    );
    const planned = pulumi.output({ name: "web-3", fingerprint: "SHA256:abc" });
    const value = <T>(o: import("@pulumi/pulumi").Output<T>): Promise<T> => new Promise((r) => o.apply((v) => r(v)));
    const name = pulumi.output("web-3");
    expect(await value(knownOrPlanned({ name, named: unknownNamed, label: name, planned }))).toEqual({
      name: "web-3",
      fingerprint: "SHA256:abc",
    });
    const knownNamed = pulumi.output({ name: "web-3", recipient: "age1xyz" });
    expect(await value(knownOrPlanned({ name, named: knownNamed, label: name, planned }))).toEqual({
      name: "web-3",
      recipient: "age1xyz",
    });
  });
});
