import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519 } from "../../../provider/age";
import * as rec from "../../../provider/resources/recipient";
import { UNKNOWN } from "../../../provider/resources/inputs";

describe("Recipient provider", () => {
  const age = generateX25519().recipient;
  it("accepts a valid age key and computes outputs", async () => {
    expect((await rec.check({}, { name: "alice", publicKey: age })).failures).toEqual([]);
    const { id, outs } = await rec.create({ name: "alice", publicKey: age });
    expect(outs.recipient).toBe(age);
    expect(outs.fingerprint).toBe(id);
    expect(outs.label).toMatch(/^alice \(age1/);
  });
  it("accepts an ssh-ed25519 key with comment and drops the comment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-rec-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bob@x", "-f", join(dir, "k")]);
    const pub = readFileSync(join(dir, "k.pub"), "utf8").trim();
    const { outs } = await rec.create({ name: "bob", publicKey: pub });
    expect(outs.recipient).toBe(pub.split(" ").slice(0, 2).join(" "));
    const fp = execFileSync("ssh-keygen", ["-lf", join(dir, "k.pub")], { encoding: "utf8" }).split(" ")[1];
    expect(outs.fingerprint).toBe(fp);
  });
  const bad: { input: Record<string, unknown>; property: string }[] = [
    { input: { name: "a", publicKey: age.slice(0, -1) + (age.endsWith("q") ? "p" : "q") }, property: "publicKey" }, // checksum
    { input: { name: "a", publicKey: "age1qqqq" }, property: "publicKey" },
    { input: { name: "a", publicKey: "ssh-ed25519 AAAAnotbase64!!" }, property: "publicKey" },
    { input: { name: "a", publicKey: 42 }, property: "publicKey" },
    { input: { name: "", publicKey: age }, property: "name" },
  ];
  it.each(bad)("rejects $input.publicKey on $property", async ({ input, property }) => {
    const r = await rec.check({}, input);
    expect(r.failures?.map((f) => f.property)).toContain(property);
  });
  it("a bad key's failure says what is wrong and how to fix it, once", async () => {
    const r = await rec.check({}, { name: "a", publicKey: "age1qqqq" });
    expect(r.failures?.[0]?.reason).toMatch(
      /^publicKey: .+; give the public key as age-keygen -y or the \.pub file prints it/,
    );
  });
  it("skips unknowns in check and reports changes in diff", async () => {
    expect((await rec.check({}, { name: "a", publicKey: UNKNOWN })).failures).toEqual([]);
    expect((await rec.diff("x", { name: "a", publicKey: age }, { name: "a", publicKey: UNKNOWN })).changes).toBe(true);
  });
  it("diffs on name or key, never replaces; read and update recompute", async () => {
    const olds = (await rec.create({ name: "a", publicKey: age })).outs;
    expect((await rec.diff("x", olds, { name: "a", publicKey: age })).changes).toBe(false);
    const d = await rec.diff("x", olds, { name: "b", publicKey: age });
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    expect((await rec.read("x", olds)).props).toEqual(olds);
    expect((await rec.update("x", olds, { name: "b", publicKey: age })).outs?.label).toMatch(/^b /);
    await rec.delete();
  });
});
