/**
 * `keyfleet updatekeys` and `keyfleet rotate` on several files at once (one yaml, one json, one
 * dotenv), spawning the built CLI (see ./cli-helpers.ts): with more than one file both verbs prepare
 * every file first and then write them in one batched atomic write (provider/fs writeFilesAtomic),
 * so each file must keep its mode, no temp file may be left next to them, and a file that cannot be
 * prepared must leave all of them untouched.
 */
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAIN, cleanupTmp, kf, lineDiff, project as makeProject, setupKeys, type Keys } from "./cli-helpers";

let home: Keys["home"], alice: Keys["alice"], bob: Keys["bob"];
beforeAll(() => {
  ({ home, alice, bob } = setupKeys());
});
afterAll(cleanupTmp);

/** The three files, relative to the project, with the mode each is given before the batch runs. */
const FILES: readonly { file: string; mode: number }[] = [
  { file: "secrets/app.yaml", mode: 0o640 },
  { file: "secrets/db.json", mode: 0o600 },
  { file: "secrets/web.env", mode: 0o644 },
];
const NAMES = FILES.map((f) => f.file);
/** A key of each file whose exposure must be logged when a recipient is removed. */
const SECRET_KEY: Record<string, string> = {
  "secrets/app.yaml": "db.password",
  "secrets/db.json": "db.password",
  "secrets/web.env": "DB_PASSWORD",
};

/**
 * A project whose .sops.yaml rule for secrets/ names `rule` (recipients joined by commas), with the
 * three files encrypted under that rule and chmod'ed to their {@link FILES} modes.
 */
function batchProject(rule: string): string {
  const d = makeProject({ home, alice, bob }); // .sops.yaml, .git, secrets/app.yaml for alice
  writeFileSync(
    join(d, ".sops.yaml"),
    readFileSync(join(d, ".sops.yaml"), "utf8").replace("age: *alice", `age: ${rule}`),
  );
  if (rule !== alice.recipient) {
    // re-encrypt app.yaml under the new rule, from its plaintext
    writeFileSync(join(d, "secrets/app.yaml"), PLAIN["a.yaml"] as string);
    expect(kf(["encrypt", "-i", "secrets/app.yaml"], { cwd: d, home }).code).toBe(0);
  }
  writeFileSync(join(d, "secrets/db.json"), PLAIN["a.json"] as string);
  writeFileSync(join(d, "secrets/web.env"), PLAIN["a.env"] as string);
  for (const f of ["secrets/db.json", "secrets/web.env"])
    expect(kf(["encrypt", "-i", f], { cwd: d, home }).code).toBe(0);
  for (const { file, mode } of FILES) chmodSync(join(d, file), mode);
  return d;
}

const read = (d: string, f: string): string => readFileSync(join(d, f), "utf8");
const modeOf = (d: string, f: string): number => statSync(join(d, f)).mode & 0o7777;
const decryptAs = (d: string, f: string, key: { file: string }) =>
  kf(["decrypt", f], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: key.file } });

/** The audit log's entries (JSON lines) of the project. */
function auditEntries(d: string): {
  file: string;
  operation: string;
  recipientsAdded: { name: string }[];
  exposure: { recipient: string; keys: string[] }[];
}[] {
  return read(d, ".keyfleet/audit.jsonl")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as ReturnType<typeof auditEntries>[number]);
}

/** Checks each file kept its mode and that secrets/ holds exactly the three files (no temp left). */
function expectModesAndNoTemps(d: string): void {
  for (const { file, mode } of FILES) expect(modeOf(d, file).toString(8), file).toBe(mode.toString(8));
  expect(readdirSync(join(d, "secrets")).sort()).toEqual(["app.yaml", "db.json", "web.env"]);
}

describe("updatekeys -y on three files", () => {
  it("adds bob from .sops.yaml to all three: bob decrypts each, modes kept, no temps, each diff only adds lines", () => {
    const d = batchProject(alice.recipient);
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const before = Object.fromEntries(NAMES.map((f) => [f, read(d, f)]));
    const plain = Object.fromEntries(NAMES.map((f) => [f, decryptAs(d, f, alice).stdout]));
    for (const f of NAMES) expect(decryptAs(d, f, bob).code, f).toBe(128);

    writeFileSync(
      join(d, ".sops.yaml"),
      read(d, ".sops.yaml").replace(`age: ${alice.recipient}`, `age: ${alice.recipient},${bob.recipient}`),
    );
    const r = kf(["updatekeys", "-y", ...NAMES], { cwd: d, home, env });
    expect(r.stderr).not.toContain(alice.secret);
    expect(r.code).toBe(0);
    for (const f of NAMES) {
      expect(r.stderr).toContain(`${f}: updated (1 added, 0 removed)`);
      const after = read(d, f);
      const diff = lineDiff(before[f] as string, after);
      expect(diff.removed, f).toEqual([]);
      expect(diff.added.join("\n"), f).toContain(bob.recipient);
      const got = decryptAs(d, f, bob);
      expect(got.code, f).toBe(0);
      expect(got.stdout, f).toBe(plain[f]);
      expect(decryptAs(d, f, alice).stdout, f).toBe(plain[f]);
    }
    expectModesAndNoTemps(d);
    const added = auditEntries(d).filter((e) => e.operation === "add-recipients");
    expect(added.map((e) => e.file).sort()).toEqual([...NAMES].sort());
    for (const e of added) expect(e.recipientsAdded.map((x) => x.name)).toEqual(["bob"]);

    const again = kf(["updatekeys", "-y", ...NAMES], { cwd: d, home, env });
    expect(again.code).toBe(0);
    for (const f of NAMES) expect(again.stderr).toContain(`${f}: already up to date`);
  });
});

describe("rotate --rm-age on three files", () => {
  it("bob is removed from all three: bob fails with 128 on each, alice decrypts, new data keys; 3 rotate lines with exposure", () => {
    const d = batchProject(`${alice.recipient},${bob.recipient}`);
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const before = Object.fromEntries(NAMES.map((f) => [f, read(d, f)]));
    const plain = Object.fromEntries(NAMES.map((f) => [f, decryptAs(d, f, bob).stdout]));
    for (const f of NAMES) expect(plain[f], f).toBe(decryptAs(d, f, alice).stdout);

    const r = kf(["rotate", "-i", ...NAMES, "--rm-age", bob.recipient], { cwd: d, home, env });
    expect(r.code).toBe(0);
    for (const f of NAMES) expect(r.stderr).toContain(`${f}: data key rotated (0 added, 1 removed)`);
    expect(r.stderr).toContain("rotate these values");
    const enc = (t: string): string[] => t.match(/ENC\[[^\]]+\]/g) ?? [];
    for (const f of NAMES) {
      const after = read(d, f);
      expect(after).not.toContain(bob.recipient);
      // a new data key: no encrypted value survives
      expect(enc(after).length, f).toBeGreaterThan(0);
      expect(
        enc(after).filter((e) => enc(before[f] as string).includes(e)),
        f,
      ).toEqual([]);
      const fail = decryptAs(d, f, bob);
      expect(fail.code, f).toBe(128);
      expect(fail.stderr).not.toContain(bob.secret);
      const ok = decryptAs(d, f, alice);
      expect(ok.code, f).toBe(0);
      expect(ok.stdout, f).toBe(plain[f]);
    }
    expectModesAndNoTemps(d);
    const rotated = auditEntries(d).filter((e) => e.operation === "rotate");
    expect(rotated).toHaveLength(3);
    expect(rotated.map((e) => e.file).sort()).toEqual([...NAMES].sort());
    for (const e of rotated) {
      expect(e.exposure, e.file).toHaveLength(1);
      expect(e.exposure[0]).toMatchObject({ recipient: "bob" });
      expect(e.exposure[0]?.keys, e.file).toContain(SECRET_KEY[e.file]);
    }
    const log = read(d, ".keyfleet/audit.jsonl");
    for (const secret of ["s3cr3t", bob.secret, alice.secret]) expect(log).not.toContain(secret);
  });

  it("a file that cannot be prepared leaves all three untouched, with no temp file", () => {
    const d = batchProject(`${alice.recipient},${bob.recipient}`);
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    // the last file no longer has bob: preparing it fails after the first two were rotated in memory
    expect(kf(["rotate", "-i", "secrets/web.env", "--rm-age", bob.recipient], { cwd: d, home, env }).code).toBe(0);
    const before = Object.fromEntries(NAMES.map((f) => [f, read(d, f)]));
    const logBefore = read(d, ".keyfleet/audit.jsonl");
    const r = kf(["rotate", "-i", ...NAMES, "--rm-age", bob.recipient], { cwd: d, home, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("secrets/web.env");
    expect(r.stderr).toContain("is not a recipient");
    for (const f of NAMES) expect(read(d, f), f).toBe(before[f]);
    expect(read(d, ".keyfleet/audit.jsonl")).toBe(logBefore);
    expectModesAndNoTemps(d);
    for (const f of ["secrets/app.yaml", "secrets/db.json"]) expect(decryptAs(d, f, bob).code, f).toBe(0);
  });
});
