/**
 * Issue 10 §2: a SecretFile whose `path` changes moves the whole file (every leaf, same data key,
 * same ciphertexts); the old file is removed only after the copy verifies. Provider functions called
 * directly on real files with real age keys; failures injected after each step of the move.
 */
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../../provider/age";
import { decrypt, setValues } from "../../../provider/sops";
import * as sf from "../../../provider/resources/secret-file";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const bob = generateX25519();
const dir = tmpDirWithAgeKey("kf-sfmove-", alice.identity);
const audit = join(dir, "audit.jsonl");
const ins = (file: string, extra: Record<string, unknown> = {}) => ({
  path: join(dir, file),
  recipients: [{ name: "alice", recipient: alice.recipient }],
  auditLog: audit,
  values: { managed: "m-val-1" },
  deleteFileOnDestroy: true,
  ...extra,
});
const ids = (k: { identity: string }) => parseIdentities(k.identity, "test");
async function leaves(path: string, who = alice): Promise<Record<string, string>> {
  const d = await decrypt(readFileSync(path, "utf8"), {
    format: path.endsWith(".json") ? "json" : "yaml",
    identities: ids(who),
  });
  return Object.fromEntries(d.leaves.map((l) => [l.path.join("."), String(l.value)]));
}
const auditLines = (): Record<string, unknown>[] =>
  existsSync(audit)
    ? readFileSync(audit, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
const moves = (to: string) => auditLines().filter((l) => l["operation"] === "move" && l["file"] === join(dir, to));

/** A file at `file` managed by the provider, plus a value added outside it (as `keyfleet set` does). */
async function withUnmanaged(file: string, extra: Record<string, unknown> = {}): Promise<sf.SecretFileOutputs> {
  const i = ins(file, extra);
  const { outs } = await sf.create(i as never);
  const path = join(dir, file);
  writeFileSync(
    path,
    await setValues(readFileSync(path, "utf8"), {
      format: path.endsWith(".json") ? "json" : "yaml",
      identities: ids(alice),
      changes: [{ path: ["added_by_set"], value: "set-val-9" }],
    }),
  );
  return (await sf.read(path, outs)).props as sf.SecretFileOutputs;
}

afterEach(() => {
  delete sf.moveFaults.after;
});

describe("SecretFile path change", () => {
  it("moves every leaf byte for byte, then removes the old file (deleteFileOnDestroy)", async () => {
    const olds = await withUnmanaged("m1.yaml");
    const before = readFileSync(join(dir, "m1.yaml"), "utf8");
    const news = ins("sub/m1-new.yaml");
    expect(await sf.diff(olds.path, olds, news)).toMatchObject({ changes: true, replaces: [] });
    const u = await sf.update(olds.path, olds, news as never);
    expect(existsSync(join(dir, "m1.yaml"))).toBe(false);
    expect(readFileSync(join(dir, "sub/m1-new.yaml"), "utf8")).toBe(before); // same data key, same ciphertexts, same MAC
    expect(await leaves(join(dir, "sub/m1-new.yaml"))).toEqual({ managed: "m-val-1", added_by_set: "set-val-9" });
    expect(u.outs).toMatchObject({
      path: join(dir, "sub/m1-new.yaml"),
      keyNames: ["managed", "added_by_set"],
      valueDigests: olds.valueDigests,
    });
    expect(moves("sub/m1-new.yaml")).toEqual([
      expect.objectContaining({ movedFrom: join(dir, "m1.yaml"), by: "keyfleet provider" }),
    ]);
    expect(readdirSync(dir).filter((n) => n.includes("keyfleet-lock"))).toEqual([]);
  });

  it("a path and recipient change in one edit: moved, then re-keyed for the newcomer with the same data key", async () => {
    const olds = await withUnmanaged("m2.yaml");
    const news = ins("m2-new.yaml", {
      recipients: [
        { name: "alice", recipient: alice.recipient },
        { name: "bob", recipient: bob.recipient },
      ],
      values: { managed: "m-val-2" },
    });
    const u = await sf.update(olds.path, olds, news as never);
    expect(existsSync(join(dir, "m2.yaml"))).toBe(false);
    expect(await leaves(join(dir, "m2-new.yaml"), bob)).toEqual({ managed: "m-val-2", added_by_set: "set-val-9" });
    expect(u.outs?.valueDigests["added_by_set"]).toBe(olds.valueDigests["added_by_set"]); // not rotated
    expect(
      auditLines()
        .filter((l) => l["file"] === join(dir, "m2-new.yaml"))
        .map((l) => l["operation"]),
    ).toEqual(["move", "add-recipients", "set-values"]);
  });

  it("deleteFileOnDestroy false: the file is copied with every leaf and the old one stays", async () => {
    const olds = await withUnmanaged("m3.yaml", { deleteFileOnDestroy: false });
    const before = readFileSync(join(dir, "m3.yaml"), "utf8");
    await sf.update(olds.path, olds, ins("m3-new.yaml", { deleteFileOnDestroy: false }) as never);
    expect(readFileSync(join(dir, "m3.yaml"), "utf8")).toBe(before);
    expect(readFileSync(join(dir, "m3-new.yaml"), "utf8")).toBe(before);
    expect(moves("m3-new.yaml")).toEqual([expect.objectContaining({ oldKept: true })]);
  });

  const steps = ["write-ahead", "copy", "verify", "audit", "remove-old"] as const;
  it.each(steps)("a failure after %s loses nothing, and the next update (old state kept) converges", async (step) => {
    const file = `f-${step}.yaml`;
    const olds = await withUnmanaged(file);
    const news = ins(`f-${step}-new.yaml`);
    sf.moveFaults.after = (s) => {
      if (s === step) throw new Error(`injected after ${s}`);
    };
    await expect(sf.update(olds.path, olds, news as never)).rejects.toThrow(`injected after ${step}`);
    delete sf.moveFaults.after;
    // every value is still readable from some file
    const on = [join(dir, file), news.path].filter((p) => existsSync(p));
    expect(on.length).toBeGreaterThan(0);
    for (const p of on) expect(await leaves(p)).toEqual({ managed: "m-val-1", added_by_set: "set-val-9" });
    // the engine kept the old state: the same update again
    const u = await sf.update(olds.path, olds, news as never);
    expect(existsSync(join(dir, file))).toBe(false);
    expect(await leaves(news.path)).toEqual({ managed: "m-val-1", added_by_set: "set-val-9" });
    expect(u.outs?.path).toBe(news.path);
    expect(moves(`f-${step}-new.yaml`)).toHaveLength(1); // recorded once: neither lost nor doubled
    expect(readdirSync(join(dir, "audit-wal")).length).toBe(0);
  });

  it("refuses to remove the old file when the new path holds other content; nothing changes", async () => {
    const olds = await withUnmanaged("c1.yaml");
    await sf.create(ins("c1-taken.yaml", { values: { other: "o-val" } }) as never);
    const [a, b] = [readFileSync(join(dir, "c1.yaml"), "utf8"), readFileSync(join(dir, "c1-taken.yaml"), "utf8")];
    const err = await sf.update(olds.path, olds, ins("c1-taken.yaml") as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(sf.MoveConflictError);
    expect((err as Error).message).toMatch(
      /^cannot move \S+c1\.yaml to \S+c1-taken\.yaml: \S+c1-taken\.yaml already exists with other content.*nothing was changed; compare the two/,
    );
    expect(JSON.stringify(err)).not.toMatch(/set-val-9|m-val-1|o-val/);
    expect(readFileSync(join(dir, "c1.yaml"), "utf8")).toBe(a);
    expect(readFileSync(join(dir, "c1-taken.yaml"), "utf8")).toBe(b);
  });

  it("with deleteFileOnDestroy false an existing file at the new path is adopted and the old one kept", async () => {
    const olds = await withUnmanaged("c2.yaml", { deleteFileOnDestroy: false });
    await sf.create(ins("c2-taken.yaml", { values: { other: "o-val" } }) as never);
    await sf.update(olds.path, olds, ins("c2-taken.yaml", { deleteFileOnDestroy: false }) as never);
    expect(await leaves(join(dir, "c2.yaml"))).toEqual({ managed: "m-val-1", added_by_set: "set-val-9" });
    expect(await leaves(join(dir, "c2-taken.yaml"))).toEqual({ other: "o-val", managed: "m-val-1" });
  });

  it("a format change cannot carry the file: the new file gets the managed values and the old one is kept", async () => {
    const olds = await withUnmanaged("fmt.yaml");
    const news = ins("fmt.json");
    const c = await sf.check({ ...ins("fmt.yaml") }, news);
    expect(c.inputs["move"]).toMatch(
      /fmt\.json is a new json file with the managed values only: \S+fmt\.yaml \(yaml\) cannot be converted and stays/,
    );
    await sf.update(olds.path, olds, news as never);
    expect(await leaves(join(dir, "fmt.yaml"))).toEqual({ managed: "m-val-1", added_by_set: "set-val-9" });
    expect(await leaves(join(dir, "fmt.json"))).toEqual({ managed: "m-val-1" });
  });

  it("the old file already moved (git mv): the file at the new path is updated, nothing else", async () => {
    const olds = await withUnmanaged("gm.yaml");
    writeFileSync(join(dir, "gm-new.yaml"), readFileSync(join(dir, "gm.yaml")));
    const { rmSync } = await import("node:fs");
    rmSync(join(dir, "gm.yaml"));
    const u = await sf.update(olds.path, olds, ins("gm-new.yaml") as never);
    expect(u.outs?.keyNames).toEqual(["managed", "added_by_set"]);
    expect(moves("gm-new.yaml")).toEqual([]);
  });

  it("check tells what up will do: the move, the keys not in values that go with it, the old file's fate; never a value", async () => {
    await withUnmanaged("n.yaml");
    const c = await sf.check(ins("n.yaml"), ins("n-new.yaml"));
    expect(c.failures).toEqual([]);
    expect(c.inputs["move"]).toBe(
      `${join(dir, "n.yaml")} moves to ${join(dir, "n-new.yaml")} with all 2 keys, same data key and ciphertexts; not in values, carried as they are: added_by_set; ${join(dir, "n.yaml")} is removed once the copy verifies`,
    );
    const kept = await sf.check(ins("n.yaml"), ins("n-new.yaml", { deleteFileOnDestroy: false }));
    expect(kept.inputs["move"]).toMatch(/; \S+n\.yaml stays \(deleteFileOnDestroy is false\)$/);
    expect(JSON.stringify([c.inputs["move"], kept.inputs["move"]])).not.toMatch(/set-val-9|m-val-1/);
    // no path change: no move, and a stale one from the previous inputs is dropped
    expect((await sf.check(ins("n.yaml"), { ...ins("n.yaml"), move: "stale" })).inputs).not.toHaveProperty("move");
    expect(existsSync(join(dir, "n-new.yaml"))).toBe(false); // check wrote nothing
  });
});
