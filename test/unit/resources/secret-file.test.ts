/**
 * SecretFile provider functions called directly on real files in a tmp dir, with real age keys.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../../provider/age";
import { decrypt } from "../../../provider/sops";
import * as sf from "../../../provider/resources/secret-file";
import { UNKNOWN } from "../../../provider/resources/inputs";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const bob = generateX25519();
const dir = tmpDirWithAgeKey("kf-sfu-", alice.identity);
const ins = (file: string, extra: Record<string, unknown> = {}) => ({
  path: join(dir, file),
  recipients: [{ name: "alice", recipient: alice.recipient }],
  auditLog: join(dir, "audit.jsonl"),
  ...extra,
});

describe("SecretFile check", () => {
  const rows: { input: Record<string, unknown>; property: string }[] = [
    { input: { path: "", recipients: [] }, property: "path" },
    { input: { path: "a.yaml", recipients: [] }, property: "recipients" },
    { input: { path: "a.yaml", recipients: [{ name: "x", recipient: "age1nope" }] }, property: "recipients" },
    {
      input: {
        path: "a.yaml",
        recipients: [
          { name: "a", recipient: alice.recipient },
          { name: "b", recipient: alice.recipient },
        ],
      },
      property: "recipients",
    },
    {
      input: { path: "a.yaml", format: "toml", recipients: [{ name: "a", recipient: alice.recipient }] },
      property: "format",
    },
    {
      input: { path: "a.yaml", values: { k: 1 }, recipients: [{ name: "a", recipient: alice.recipient }] },
      property: "values",
    },
    {
      input: { path: "a.yaml", values: { "a..b": "x" }, recipients: [{ name: "a", recipient: alice.recipient }] },
      property: "values",
    },
    {
      input: { path: "a.bin", values: { k: "v" }, recipients: [{ name: "a", recipient: alice.recipient }] },
      property: "values",
    },
    {
      input: { path: "a.yaml", encryptedRegex: "(", recipients: [{ name: "a", recipient: alice.recipient }] },
      property: "encryptedRegex",
    },
    {
      input: {
        path: "a.yaml",
        encryptedRegex: "a",
        unencryptedRegex: "b",
        recipients: [{ name: "a", recipient: alice.recipient }],
      },
      property: "unencryptedRegex",
    },
    {
      input: { path: "a.yaml", deleteFileOnDestroy: "yes", recipients: [{ name: "a", recipient: alice.recipient }] },
      property: "deleteFileOnDestroy",
    },
  ];
  it.each(rows)("fails $property", async ({ input, property }) => {
    const r = await sf.check({}, input);
    expect(r.failures?.map((f) => f.property)).toContain(property);
  });
  it("never quotes a value in a failure", async () => {
    const r = await sf.check(
      {},
      { path: "a.env", values: { "bad key": "SECRETVALUE" }, recipients: [{ name: "a", recipient: alice.recipient }] },
    );
    expect(JSON.stringify(r.failures)).not.toContain("SECRETVALUE");
  });
  it("an invalid recipient key names recipients[i] (name) once, the problem, and the fix", async () => {
    const bad = alice.recipient.slice(0, -1) + (alice.recipient.endsWith("q") ? "p" : "q");
    const r = await sf.check(
      {},
      {
        path: "a.yaml",
        recipients: [
          { name: "alice", recipient: alice.recipient },
          { name: "bob", recipient: bad },
        ],
      },
    );
    expect(r.failures).toHaveLength(1);
    const reason = r.failures?.[0]?.reason ?? "";
    expect(reason).toMatch(/^recipients\[1\] \(bob\): invalid bech32 checksum; give the public key as age-keygen -y/);
    expect(reason.split("recipients[1]").length).toBe(2); // named once, not twice
    // a parser hint (an identity pasted as a recipient) is kept instead of the generic fix
    const secret = await sf.check({}, { path: "a.yaml", recipients: [{ name: "ci", recipient: alice.identity }] });
    expect(secret.failures?.[0]?.reason).toMatch(
      /recipients\[0\] \(ci\): expected a recipient .*; use the public key printed by age-keygen -y$/,
    );
    expect(JSON.stringify(secret.failures)).not.toContain(alice.identity);
    const twice = await sf.check(
      {},
      {
        path: "a.yaml",
        recipients: [
          { name: "a", recipient: alice.recipient },
          { name: "a2", recipient: alice.recipient },
        ],
      },
    );
    expect(twice.failures?.[0]?.reason).toBe("recipients[1] (a2) repeats the key of a; list each recipient once");
  });
  it("skips unknowns", async () => {
    const r = await sf.check({}, { path: UNKNOWN, recipients: [{ name: "a", recipient: UNKNOWN }], values: UNKNOWN });
    expect(r.failures).toEqual([]);
  });
});

describe("SecretFile lifecycle (direct)", () => {
  it("create, diff, read, update, delete on a dotenv file", async () => {
    const i = ins("app.env", { values: { DB_PASSWORD: "pass-one-xyz", API_KEY: "key-one-xyz" } });
    const { id, outs } = await sf.create(i as never);
    expect(id).toBe(i.path);
    expect(outs.format).toBe("dotenv");
    expect(outs.keyNames.sort()).toEqual(["API_KEY", "DB_PASSWORD"]);
    expect((await sf.diff(id, outs, i)).changes).toBe(false);
    expect(
      (await sf.diff(id, outs, { ...i, values: { DB_PASSWORD: "pass-two-xyz", API_KEY: "key-one-xyz" } })).changes,
    ).toBe(true);
    expect(
      (await sf.diff(id, outs, { ...i, recipients: [...i.recipients, { name: "bob", recipient: bob.recipient }] }))
        .changes,
    ).toBe(true);
    // a new path moves the file in update (issue 10 §2): never a replacement, which would lose unmanaged keys
    expect(await sf.diff(id, outs, { ...i, path: join(dir, "other.env") })).toMatchObject({
      changes: true,
      replaces: [],
    });
    // the same file spelled differently is no replacement (which would adopt, then delete it)
    expect(await sf.diff(id, outs, { ...i, path: `${dir}/./app.env` })).toMatchObject({ changes: true, replaces: [] });
    expect((await sf.diff(id, outs, { ...i, values: { DB_PASSWORD: UNKNOWN } })).changes).toBe(true);
    const r = await sf.read(id, outs);
    expect(r.props).toEqual(outs);
    const u = await sf.update(id, outs, {
      ...i,
      values: { DB_PASSWORD: "pass-two-xyz", API_KEY: "key-one-xyz" },
    } as never);
    expect(u.outs?.valueDigests["API_KEY"]).toBe(outs.valueDigests["API_KEY"]); // same data key, same value
    expect(u.outs?.valueDigests["DB_PASSWORD"]).not.toBe(outs.valueDigests["DB_PASSWORD"]);
    expect(readFileSync(i.path, "utf8")).not.toMatch(/pass-one-xyz|pass-two-xyz|key-one-xyz/);
    await sf.delete(id, u.outs as sf.SecretFileOutputs);
    expect(existsSync(i.path)).toBe(true);
    await sf.delete(id, { ...(u.outs as sf.SecretFileOutputs), deleteFileOnDestroy: true });
    expect(existsSync(i.path)).toBe(false);
  });
  it("read of a missing file empties the digests so diff plans a re-create", async () => {
    const i = ins("gone.yaml");
    const { id, outs } = await sf.create(i as never);
    rmSync(i.path);
    const r = await sf.read(id, outs);
    expect(r.props?.fileSha256).toBe("");
    expect((await sf.diff(id, r.props as sf.SecretFileOutputs, i)).changes).toBe(true);
  });
  it("a format change at the same path is refused by check (no in-place conversion) and never replaces", async () => {
    const i = ins("fmt.yaml");
    const { id, outs } = await sf.create(i as never);
    const r = await sf.check(i, { ...i, format: "json" });
    expect(r.failures).toEqual([
      {
        property: "format",
        reason: expect.stringMatching(
          /^format of .*fmt\.yaml would change from yaml to json, but keyfleet cannot convert .*; keep format yaml, or give the file a new path/,
        ) as unknown as string,
      },
    ]);
    expect((await sf.check(i, { ...i, format: "yaml" })).failures).toEqual([]); // explicit = inferred
    expect((await sf.check(i, { ...i, path: join(dir, "fmt.json"), format: "json" })).failures).toEqual([]); // new path: a new file, the old one kept
    expect((await sf.check({}, { ...i, format: "json" })).failures).toEqual([]); // create: nothing to convert
    expect((await sf.check(i, { ...i, format: UNKNOWN })).failures).toEqual([]);
    expect(await sf.diff(id, outs, { ...i, format: "json" })).toMatchObject({ changes: true, replaces: [] });
  });
  it("audit: create of an existing file is an adopt; an update that leaves the file alone writes no line", async () => {
    const i = ins("adopt.yaml", { values: { k: "v-adopt" } });
    const { id, outs } = await sf.create(i as never);
    const audit = () =>
      readFileSync(i.auditLog, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { file: string; operation: string })
        .filter((e) => e.file === i.path)
        .map((e) => e.operation);
    expect(audit()).toEqual(["create"]);
    await sf.create(i as never); // adopted, e.g. after a state loss
    expect(audit()).toEqual(["create", "adopt"]);
    const renamed = { ...i, recipients: [{ name: "alice-laptop", recipient: alice.recipient }] };
    expect((await sf.diff(id, outs, renamed)).changes).toBe(true);
    const before = readFileSync(i.path, "utf8");
    const u = await sf.update(id, outs, renamed as never);
    expect((u.outs as sf.SecretFileOutputs).recipients.map((r) => r.name)).toEqual(["alice-laptop"]);
    expect(readFileSync(i.path, "utf8")).toBe(before);
    expect(audit()).toEqual(["create", "adopt"]);
  });
  it("create writes keys named like Object.prototype members as plain keys and pollutes no prototype", async () => {
    const values = { constructor: "c-val", "__proto__.polluted": "proto-secret", toString: "t-val" };
    for (const file of ["proto.yaml", "proto.json"]) {
      const i = ins(file, { values });
      await sf.create(i as never);
      const plain = await decrypt(readFileSync(i.path, "utf8"), {
        format: file.endsWith("json") ? "json" : "yaml",
        identities: parseIdentities(alice.identity, "test"),
      });
      expect(Object.fromEntries(plain.leaves.map((l) => [l.path.join("."), l.value]))).toEqual(values);
    }
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
  it("refuses a multi-line value for dotenv without quoting it", async () => {
    const err = await sf.create(ins("ml.env", { values: { K: "line1\nSECRET2" } }) as never).catch((e: Error) => e);
    expect(String(err)).toMatch(/values\.K contains a line break/);
    expect(String(err)).not.toContain("SECRET2");
  });
});
