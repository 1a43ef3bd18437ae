/**
 * SecretFile per-key digests, with the provider functions called directly on real files and real
 * age keys: every leaf is digested, an outside edit of one key changes only that key's digest,
 * a rotation changes all, and a refresh without an identity keeps or marks them stale.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../../provider/age";
import { decrypt, setValues } from "../../../provider/sops";
import * as sf from "../../../provider/resources/secret-file";
import type { SecretFileInputs } from "../../../provider/resources/secret-file-inputs";
import { leafDigests } from "../../../provider/resources/secret-file-digests";
import { selectedDigests } from "../../../sdk/host-env";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const bob = generateX25519();
const ids = (k: { identity: string }) => parseIdentities(k.identity, "test");
const dir = tmpDirWithAgeKey("kf-sfd-", alice.identity);
const as = (k: { identity: string }) => {
  process.env["SOPS_AGE_KEY"] = k.identity;
};
afterEach(() => as(alice));
as(alice);

const ins = (file: string, extra: Record<string, unknown> = {}): SecretFileInputs =>
  ({
    path: join(dir, file),
    recipients: [{ name: "alice", recipient: alice.recipient }],
    auditLog: join(dir, "audit.jsonl"),
    ...extra,
  }) as SecretFileInputs;

/** A file with managed `pw` and unmanaged keys A, B, nested db.user and a list, set from outside. */
async function fixture(file: string): Promise<{ i: SecretFileInputs; id: string; outs: sf.SecretFileOutputs }> {
  const i = ins(file, { values: { pw: "managed-pw" } });
  await sf.create(i);
  const edited = await setValues(readFileSync(i.path, "utf8"), {
    format: "yaml",
    identities: ids(alice),
    changes: [
      { path: ["A"], value: "value-a-1" },
      { path: ["B"], value: "value-b-1" },
      { path: ["db", "user"], value: "admin" },
      { path: ["n"], value: 42 },
    ],
  });
  writeFileSync(i.path, edited);
  const { id, outs } = await sf.create(i); // adopts the edited file
  return { i, id, outs };
}

describe("valueDigests covers every leaf", () => {
  it("managed and unmanaged keys, nested and typed, under the keyNames names", async () => {
    const { i, outs } = await fixture("all.yaml");
    expect(Object.keys(outs.valueDigests).sort()).toEqual(["A", "B", "db.user", "n", "pw"]);
    expect(outs.keyNames.filter((k) => !(k in outs.valueDigests))).toEqual([]);
    expect(outs.digestsStale).toBe(false);
    // the digest is the keyed HMAC of the value under its key name and the file's data key
    const d = await decrypt(readFileSync(i.path, "utf8"), { format: "yaml", identities: ids(alice) });
    expect(outs.valueDigests).toEqual(leafDigests(d.dataKey, d.leaves));
    expect(outs.valueDigests["A"]).toBe(sf.valueDigest(d.dataKey, "A", "value-a-1"));
    expect(outs.valueDigests["n"]).toBe(sf.valueDigest(d.dataKey, "n", "42"));
    expect(JSON.stringify(outs)).not.toMatch(/value-a-1|value-b-1|admin|managed-pw/);
  });

  it("equal values under different names get different digests", async () => {
    const i = ins("same.env", { values: { X: "same-value", Y: "same-value" } });
    const { outs } = await sf.create(i);
    expect(outs.valueDigests["X"]).not.toBe(outs.valueDigests["Y"]);
  });

  it("create digests a new file even when the deployer is not a recipient", async () => {
    as(bob);
    const { outs } = await sf.create(ins("notmine.env", { values: { K: "v1" } }));
    expect(Object.keys(outs.valueDigests)).toEqual(["K"]);
    as(alice);
    const d = await decrypt(readFileSync(join(dir, "notmine.env"), "utf8"), {
      format: "dotenv",
      identities: ids(alice),
    });
    expect(outs.valueDigests["K"]).toBe(sf.valueDigest(d.dataKey, "K", "v1"));
  });

  it.each([
    { file: "f.bin", values: undefined, names: ["data"] },
    { file: "f.ini", values: { "s.k": "v", top: "t", "s.a.b": "x" }, names: ["DEFAULT.top", "s.a.b", "s.k"] },
    { file: "f.json", values: { "a.b": "1", c: "2" }, names: ["a.b", "c"] },
    { file: "f.env", values: { "A.B": "1", C: "2" }, names: ["A.B", "C"] },
  ])("$file: digests under the keyNames names; read and diff agree with create", async ({ file, values, names }) => {
    const i = ins(file, values ? { values } : {});
    const { id, outs } = await sf.create(i);
    expect(Object.keys(outs.valueDigests)).toEqual(names);
    expect([...outs.keyNames].sort()).toEqual(names);
    expect((await sf.read(id, outs)).props).toEqual(outs);
    expect((await sf.diff(id, outs, i as unknown as Record<string, unknown>)).changes).toBe(false);
    const u = (await sf.update(id, outs, i)).outs as sf.SecretFileOutputs;
    expect(u.fileSha256).toBe(outs.fileSha256); // nothing to write
  });

  it("ini: a changed section-less or dotted value is set in place and only its digest moves", async () => {
    const i = ins("g.ini", { values: { top: "t1", "s.a.b": "x1", "s.k": "k1" } });
    const { id, outs } = await sf.create(i);
    const u = (await sf.update(id, outs, { ...i, values: { top: "t2", "s.a.b": "x2", "s.k": "k1" } }))
      .outs as sf.SecretFileOutputs;
    const d = await decrypt(readFileSync(i.path, "utf8"), { format: "ini", identities: ids(alice) });
    expect(Object.fromEntries(d.leaves.map((l) => [l.path.join("."), l.value]))).toEqual({
      "DEFAULT.top": "t2",
      "s.a.b": "x2",
      "s.k": "k1",
    });
    expect(u.keyNames.sort()).toEqual(["DEFAULT.top", "s.a.b", "s.k"]);
    expect(u.valueDigests["s.k"]).toBe(outs.valueDigests["s.k"]);
    expect(u.valueDigests["DEFAULT.top"]).not.toBe(outs.valueDigests["DEFAULT.top"]);
    expect(u.valueDigests["s.a.b"]).not.toBe(outs.valueDigests["s.a.b"]);
  });

  it("a name shared by two leaves gets no digest (consumers fall back to the file sha)", () => {
    const key = new Uint8Array(32).fill(7);
    const d = leafDigests(key, [
      { path: ["a.b"], value: "1", type: "str", doc: 0 },
      { path: ["a", "b"], value: "2", type: "str", doc: 0 },
      { path: ["c"], value: "3", type: "str", doc: 0 },
    ]);
    expect(Object.keys(d)).toEqual(["c"]);
  });
});

describe("an outside edit of one key", () => {
  it("Read shows the change, Diff plans an update, and only the edited key's digest moves", async () => {
    const { i, id, outs } = await fixture("edit.yaml");
    const edited = await setValues(readFileSync(i.path, "utf8"), {
      format: "yaml",
      identities: ids(alice),
      changes: [{ path: ["A"], value: "value-a-2" }],
    });
    writeFileSync(i.path, edited);

    // refresh: the outputs differ from the state (what `pulumi refresh` shows as an update)
    const r = (await sf.read(id, outs)).props as sf.SecretFileOutputs;
    expect(r.fileSha256).not.toBe(outs.fileSha256);
    expect(r.valueDigests["A"]).not.toBe(outs.valueDigests["A"]);
    expect(r.valueDigests["B"]).toBe(outs.valueDigests["B"]);
    expect(r.digestsStale).toBe(false);

    // `pulumi up` without refresh: diff against the recorded state plans an update
    const d = await sf.diff(id, outs, i as unknown as Record<string, unknown>);
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    const u = (await sf.update(id, outs, i)).outs as sf.SecretFileOutputs;
    expect(u.valueDigests["A"]).not.toBe(outs.valueDigests["A"]);
    for (const k of ["B", "db.user", "n", "pw"]) expect(u.valueDigests[k], k).toBe(outs.valueDigests[k]);
    expect(u).toEqual(r);
    // after refresh or update the state matches the file: nothing more to do
    expect((await sf.diff(id, u, i as unknown as Record<string, unknown>)).changes).toBe(false);

    // a HostEnv selecting only B sees the same digests; one selecting A sees a change
    const sel = (keys: string[], o: sf.SecretFileOutputs) =>
      selectedDigests(keys, o.keyNames, o.valueDigests, o.fileSha256, o.format);
    expect(sel(["B"], u)).toEqual(sel(["B"], outs));
    expect(sel(["A"], u)).not.toEqual(sel(["A"], outs));
  });

  it("a rotation (recipient removed) changes every digest", async () => {
    const i = ins("rot.env", {
      recipients: [
        { name: "alice", recipient: alice.recipient },
        { name: "bob", recipient: bob.recipient },
      ],
      values: { P: "p", Q: "q" },
    });
    const { id, outs } = await sf.create(i);
    const u = (await sf.update(id, outs, { ...i, recipients: [{ name: "alice", recipient: alice.recipient }] }))
      .outs as sf.SecretFileOutputs;
    expect(u.valueDigests["P"]).not.toBe(outs.valueDigests["P"]);
    expect(u.valueDigests["Q"]).not.toBe(outs.valueDigests["Q"]);
  });
});

describe("refresh without an identity", () => {
  it("keeps the recorded digests while the file is unchanged", async () => {
    const { id, outs } = await fixture("keep.yaml");
    as(bob);
    const r = (await sf.read(id, outs)).props as sf.SecretFileOutputs;
    expect(r.valueDigests).toEqual(outs.valueDigests);
    expect(r.digestsStale).toBe(false);
    // and diff with no managed values needs no identity (no decryption in preview)
    const plain = ins("keep.yaml");
    const { id: id2, outs: o2 } = await sf.create(plain);
    expect((await sf.diff(id2, { ...o2, managedKeys: [] }, plain as unknown as Record<string, unknown>)).changes).toBe(
      false,
    );
  });

  it("a changed file empties them and marks them stale; diff plans an update that recomputes them", async () => {
    const { i, id, outs } = await fixture("stale.yaml");
    const plain = ins("stale.yaml"); // no managed values: diff decrypts nothing
    const state = (await sf.update(id, outs, plain)).outs as sf.SecretFileOutputs;
    const edited = await setValues(readFileSync(i.path, "utf8"), {
      format: "yaml",
      identities: ids(alice),
      changes: [{ path: ["A"], value: "value-a-3" }],
    });
    writeFileSync(i.path, edited);
    as(bob);
    const r = (await sf.read(id, state)).props as sf.SecretFileOutputs;
    expect(r.fileSha256).not.toBe(state.fileSha256);
    expect(r.valueDigests).toEqual({});
    expect(r.digestsStale).toBe(true);
    // consumers fall back to the file digest for every key meanwhile
    expect(selectedDigests(["B"], r.keyNames, r.valueDigests, r.fileSha256, r.format)).toEqual({
      B: `file:${r.fileSha256}`,
    });
    expect((await sf.diff(id, r, plain as unknown as Record<string, unknown>)).changes).toBe(true);
    // a second refresh, still without identity, keeps the mark
    expect(((await sf.read(id, r)).props as sf.SecretFileOutputs).digestsStale).toBe(true);
    as(alice);
    const u = (await sf.update(id, r, plain)).outs as sf.SecretFileOutputs;
    expect(u.digestsStale).toBe(false);
    expect(u.valueDigests["B"]).toBe(state.valueDigests["B"]);
    expect(u.valueDigests["A"]).not.toBe(state.valueDigests["A"]);
    expect((await sf.diff(id, u, plain as unknown as Record<string, unknown>)).changes).toBe(false);
  });

  it("update without an identity and nothing to change records no digests instead of failing", async () => {
    const { id, outs } = await fixture("noid.yaml");
    as(bob);
    const plain = ins("noid.yaml");
    const u = (await sf.update(id, outs, plain)).outs as sf.SecretFileOutputs;
    expect(u.valueDigests).toEqual({});
    expect(u.digestsStale).toBe(false);
    expect((await sf.diff(id, u, plain as unknown as Record<string, unknown>)).changes).toBe(false);
  });

  it("a tampered file is refused by update and not written", async () => {
    const { i, id, outs } = await fixture("tamper.yaml");
    const text = readFileSync(i.path, "utf8");
    const tampered = text.replace(
      /^(A: ENC\[AES256_GCM,data:)(.)/m,
      (_m, a: string, c: string) => a + (c === "A" ? "B" : "A"),
    );
    expect(tampered).not.toBe(text);
    writeFileSync(i.path, tampered);
    await expect(sf.update(id, outs, ins("tamper.yaml"))).rejects.toThrow(/mac mismatch|decrypt|tamper|authenticat/i);
    expect(readFileSync(i.path, "utf8")).toBe(tampered);
  });
});
