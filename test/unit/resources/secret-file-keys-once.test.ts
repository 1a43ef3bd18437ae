/**
 * Keys are discovered once per operation: a SecretFile reconcile that adds a recipient and changes
 * a value runs SOPS_AGE_KEY_CMD once (it ran three times before), and a create runs it not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../../provider/age";
import { decrypt } from "../../../provider/sops";
import * as sf from "../../../provider/resources/secret-file";

const alice = generateX25519();
const bob = generateX25519();
const dir = mkdtempSync(join(tmpdir(), "kf-sfonce-"));
const counter = join(dir, "calls");
const saved = {
  key: process.env["SOPS_AGE_KEY"],
  cmd: process.env["SOPS_AGE_KEY_CMD"],
  file: process.env["SOPS_AGE_KEY_FILE"],
};

beforeAll(() => {
  const keyFile = join(dir, "alice.txt");
  writeFileSync(keyFile, alice.identity + "\n", { mode: 0o600 });
  const script = join(dir, "key-cmd.sh");
  writeFileSync(script, `#!/bin/sh\necho call >> '${counter}'\ncat '${keyFile}'\n`, { mode: 0o700 });
  chmodSync(script, 0o700);
  delete process.env["SOPS_AGE_KEY"];
  delete process.env["SOPS_AGE_KEY_FILE"];
  process.env["SOPS_AGE_KEY_CMD"] = script;
});
afterAll(() => {
  for (const [k, v] of [
    ["SOPS_AGE_KEY", saved.key],
    ["SOPS_AGE_KEY_CMD", saved.cmd],
    ["SOPS_AGE_KEY_FILE", saved.file],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

function calls(): number {
  return existsSync(counter) ? readFileSync(counter, "utf8").split("\n").filter(Boolean).length : 0;
}

describe("SecretFile keys once per operation", () => {
  const path = join(dir, "app.yaml");
  const base = { path, auditLog: join(dir, "audit.jsonl") };
  const a = { name: "alice", recipient: alice.recipient };
  const b = { name: "bob", recipient: bob.recipient };

  it("create needs no key: SOPS_AGE_KEY_CMD does not run", async () => {
    const r = await sf.create({ ...base, recipients: [a], values: { db: "one" } });
    expect(calls()).toBe(0);
    expect(Object.keys(r.outs.valueDigests)).toEqual(["db"]);
  });

  it("adding a recipient and changing a value runs SOPS_AGE_KEY_CMD once", async () => {
    const olds = (await sf.create({ ...base, recipients: [a], values: { db: "one" } })).outs;
    const before = calls();
    const r = await sf.update(path, olds, { ...base, recipients: [a, b], values: { db: "two", api: "three" } });
    expect(calls() - before).toBe(1);
    const d = await decrypt(readFileSync(path, "utf8"), {
      format: "yaml",
      identities: parseIdentities(bob.identity, "bob"),
    });
    expect(Object.fromEntries(d.leaves.map((l) => [l.path.join("."), l.value]))).toMatchObject({
      db: "two",
      api: "three",
    });
    expect(Object.keys(r.outs.valueDigests).sort()).toEqual(["api", "db"]);
  });

  it("removing a recipient (rotation) and changing a value runs it once", async () => {
    const olds = (
      await sf.read(path, (await sf.create({ ...base, recipients: [a, b], values: { db: "two", api: "three" } })).outs)
    ).props as sf.SecretFileOutputs;
    const before = calls();
    await sf.update(path, olds, { ...base, recipients: [a], values: { db: "four", api: "three" } });
    expect(calls() - before).toBe(1);
    await expect(
      decrypt(readFileSync(path, "utf8"), { format: "yaml", identities: parseIdentities(bob.identity, "bob") }),
    ).rejects.toThrow(/none of your identities/);
  });
});
