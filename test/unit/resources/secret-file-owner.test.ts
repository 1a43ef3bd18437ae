/**
 * SecretFile claims (provider/resources/secret-file-owner.ts): a forced replacement creates the new
 * resource (adopting the same path) before deleting the old one; with `deleteFileOnDestroy: true`
 * the old one's delete must keep the file the new one now manages. Provider functions called
 * directly on real files, with real age keys.
 */
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../../provider/age";
import { decrypt } from "../../../provider/sops";
import * as sf from "../../../provider/resources/secret-file";
import { ownerOf, ownerRecordPath } from "../../../provider/resources/secret-file-owner";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const dir = tmpDirWithAgeKey("kf-owner-", alice.identity);
const audit = join(dir, "audit.jsonl");
const ins = (file: string, extra: Record<string, unknown> = {}) => ({
  path: join(dir, file),
  recipients: [{ name: "alice", recipient: alice.recipient }],
  values: { "db.password": "own3r-pw" },
  auditLog: audit,
  deleteFileOnDestroy: true,
  ...extra,
});
type Outs = sf.SecretFileOutputs;
const outsOf = async (i: ReturnType<typeof ins>): Promise<Outs> => (await sf.create(i as never)).outs as Outs;
const deletes = () =>
  existsSync(audit)
    ? readFileSync(audit, "utf8")
        .trim()
        .split("\n")
        .filter((l) => JSON.parse(l).operation === "delete").length
    : 0;

describe("SecretFile claims", () => {
  it("a replacement's old delete keeps the file the new resource adopted; the new one's delete removes it", async () => {
    const old = await outsOf(ins("r.yaml"));
    const abs = join(dir, "r.yaml");
    expect(old.owner).toMatch(/^[0-9a-f]{32}$/);
    expect(ownerOf(abs, audit)).toBe(old.owner);
    const replacement = await outsOf(ins("r.yaml")); // create-before-delete: adopts the same file
    expect(replacement.owner).not.toBe(old.owner);
    const before = deletes();
    await sf.delete("r.yaml", old);
    expect(existsSync(abs)).toBe(true);
    const d = await decrypt(readFileSync(abs, "utf8"), {
      format: "yaml",
      identities: parseIdentities(alice.identity, "t"),
    });
    expect(d.leaves.map((l) => l.value)).toEqual(["own3r-pw"]);
    expect(ownerOf(abs, audit)).toBe(replacement.owner); // the old one's delete left the new claim alone
    expect(deletes()).toBe(before);
    await sf.delete("r.yaml", replacement);
    expect(existsSync(abs)).toBe(false);
    expect(ownerOf(abs, audit)).toBeUndefined();
    expect(deletes()).toBe(before + 1);
  });

  it("state from before claims: deleted as before when no record exists, kept once another resource claimed it", async () => {
    const legacy = await outsOf(ins("l.yaml"));
    const abs = join(dir, "l.yaml");
    const { owner: _dropped, ...noToken } = legacy;
    // no record either (files from before claims): the delete removes the file, as it used to
    execFileSync("rm", ["-f", ownerRecordPath(abs, audit)]);
    await sf.delete("l.yaml", noToken as Outs);
    expect(existsSync(abs)).toBe(false);
    // recreated and claimed by a new resource: a token-less delete must keep it
    await outsOf(ins("l.yaml"));
    await sf.delete("l.yaml", noToken as Outs);
    expect(existsSync(abs)).toBe(true);
  });

  it("keeps the file when the record is not a token (a FIFO, a link, a directory), without blocking", async () => {
    for (const [name, plant] of [
      ["fifo.yaml", (p: string) => execFileSync("mkfifo", [p])],
      ["link.yaml", (p: string) => execFileSync("ln", ["-s", "/etc/hostname", p])],
      ["dir.yaml", (p: string) => mkdirSync(p)],
    ] as const) {
      const outs = await outsOf(ins(name));
      const abs = join(dir, name);
      const rec = ownerRecordPath(abs, audit);
      execFileSync("rm", ["-f", rec]);
      plant(rec);
      expect(ownerOf(abs, audit)).toBeNull();
      await sf.delete(name, outs);
      expect(existsSync(abs)).toBe(true);
    }
  });

  it("update carries the claim; a move claims the new path and gives up the old one", async () => {
    const made = await outsOf(ins("m1.yaml"));
    const same = (await sf.update("m1.yaml", made, ins("m1.yaml", { values: { "db.password": "n3w-pw" } }) as never))
      .outs as Outs;
    expect(same.owner).toBe(made.owner);
    const read = (await sf.read("m1.yaml", same)).props as Outs;
    expect(read.owner).toBe(made.owner);
    const moved = (await sf.update("m1.yaml", read, ins("m2.yaml", { values: { "db.password": "n3w-pw" } }) as never))
      .outs as Outs;
    expect(moved.owner).toMatch(/^[0-9a-f]{32}$/);
    expect(moved.owner).not.toBe(made.owner);
    expect(ownerOf(join(dir, "m2.yaml"), audit)).toBe(moved.owner);
    expect(ownerOf(join(dir, "m1.yaml"), audit)).toBeUndefined();
    // a record holding a stranger's token still blocks: the claim is the record's content, not its presence
    writeFileSync(ownerRecordPath(join(dir, "m2.yaml"), audit), "f".repeat(32) + "\n");
    await sf.delete("m2.yaml", moved);
    expect(existsSync(join(dir, "m2.yaml"))).toBe(true);
  });
});
