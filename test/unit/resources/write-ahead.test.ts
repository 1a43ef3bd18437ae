/**
 * Partial failure of a SecretFile rotation (issue 10 §3). A failure is injected after each write of
 * a reconcile (the write-ahead record, the file, the audit completion); the engine then keeps the
 * old state, so the next update gets the same olds. That next update must still report who lost
 * access and what to rotate (exposure from the recipients recorded in state), the audit log must
 * hold the rotation, and the removed recipient must not be able to read the file.
 */
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../../provider/age";
import { decrypt } from "../../../provider/sops";
import * as sf from "../../../provider/resources/secret-file";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const bob = generateX25519();
const dir = tmpDirWithAgeKey("kf-wal-", alice.identity);
const A = { name: "alice", recipient: alice.recipient };
const B = { name: "bob", recipient: bob.recipient };

afterEach(() => {
  delete sf.reconcileFaults.after;
});

describe.each(["write-ahead", "file", "audit"] as const)("a failure right after the %s write", (step) => {
  it("the next update still reports bob's exposure, logs the rotation and bob cannot read the file", async () => {
    const file = join(dir, `${step}.yaml`);
    const log = join(dir, `${step}-audit.jsonl`);
    const ins = (recipients: { name: string; recipient: string }[]) => ({
      path: file,
      recipients,
      values: { db: "v1" },
      auditLog: log,
    });
    const created = await sf.create(ins([A, B]));
    const olds = created.outs as sf.SecretFileOutputs;
    sf.reconcileFaults.after = (s) => {
      if (s === step) throw new Error(`injected failure after ${s}`);
    };
    await expect(sf.update(file, olds, ins([A]))).rejects.toThrow(`injected failure after ${step}`);
    delete sf.reconcileFaults.after;
    // the engine kept the old state: the same olds again
    const next = (await sf.update(file, olds, ins([A]))).outs as sf.SecretFileOutputs;
    expect(next.exposure).toEqual([
      { recipient: "bob", fingerprint: expect.stringMatching(/^SHA256:/) as unknown as string, keys: ["db"] },
    ]);
    expect(next.recipients.map((r) => r.name)).toEqual(["alice"]);
    const lines = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as { operation: string; recipientsRemoved: { name: string }[]; exposure: { keys: string[] }[] },
      );
    const rotations = lines.filter((l) => l.operation === "rotate");
    expect(rotations.length).toBeGreaterThanOrEqual(1);
    expect(
      rotations.every(
        (r) => r.recipientsRemoved.map((x) => x.name).join() === "bob" && r.exposure[0]?.keys.join() === "db",
      ),
    ).toBe(true);
    const wal = join(dir, "audit-wal");
    expect(existsSync(wal) ? readdirSync(wal) : []).toEqual([]);
    await expect(
      decrypt(readFileSync(file, "utf8"), { format: "yaml", identities: parseIdentities(bob.identity, "bob") }),
    ).rejects.toThrow();
  });
});
