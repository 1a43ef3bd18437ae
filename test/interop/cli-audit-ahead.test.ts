/**
 * A CLI write killed between its file and its audit entry loses neither (cli/audit-ahead.ts): the
 * built CLI is SIGKILLed by a `--require` preload right after (or right before) the rename onto the
 * sops file, a real kill -9 with no hook in keyfleet itself. The entry was recorded ahead in
 * `.keyfleet/audit-wal/`; the next writer of the file appends it (the change landed) or drops it
 * (it did not), under the file's lock, and a change that did not land is never logged.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTmp, kf, project, setupKeys, tmp, type Keys } from "./cli-helpers";

let k: Keys;
let preload: string;
beforeAll(() => {
  k = setupKeys();
  preload = join(tmp(), "kill-at-rename.js");
  // SIGKILLs the process right after (KF_KILL_AFTER) or right before (KF_KILL_BEFORE) a rename onto that path
  writeFileSync(
    preload,
    `const fs = require("fs"); const path = require("path");
const hit = (v, to) => v !== undefined && path.resolve(String(to)) === path.resolve(v);
const real = fs.renameSync;
fs.renameSync = function (from, to) {
  if (hit(process.env.KF_KILL_BEFORE, to)) process.kill(process.pid, "SIGKILL");
  const r = real.apply(this, arguments);
  if (hit(process.env.KF_KILL_AFTER, to)) process.kill(process.pid, "SIGKILL");
  return r;
};
const realP = fs.promises.rename;
fs.promises.rename = async function (from, to) {
  if (hit(process.env.KF_KILL_BEFORE, to)) process.kill(process.pid, "SIGKILL");
  const r = await realP.apply(this, arguments);
  if (hit(process.env.KF_KILL_AFTER, to)) process.kill(process.pid, "SIGKILL");
  return r;
};\n`,
  );
});
afterAll(cleanupTmp);

type Entry = { file: string; operation: string; recipientsRemoved?: { name: string }[]; keysChanged?: string[] };
const entries = (d: string): Entry[] =>
  existsSync(join(d, ".keyfleet/audit.jsonl"))
    ? readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Entry)
    : [];
const records = (d: string): string[] =>
  existsSync(join(d, ".keyfleet/audit-wal"))
    ? readdirSync(join(d, ".keyfleet/audit-wal")).filter((n) => n.endsWith(".json"))
    : [];
const recipientsOf = (d: string, f: string): string => readFileSync(join(d, f), "utf8").split("sops:")[1] ?? "";

/** A project whose files alice and bob can read. */
function shared(files: string[]): string {
  const d = project(k);
  writeFileSync(
    join(d, ".sops.yaml"),
    `creation_rules:\n  - path_regex: ^secrets/\n    age: ${k.alice.recipient},${k.bob.recipient}\n`,
  );
  for (const f of files) {
    writeFileSync(join(d, f), `db:\n  password: pw-${f.length}\napi_token: tok-${f.length}\n`);
    expect(kf(["encrypt", "-i", f], { cwd: d, home: k.home }).code).toBe(0);
  }
  return d;
}
const run = (d: string, args: string[], env: Record<string, string> = {}, input?: string) =>
  kf(args, {
    cwd: d,
    home: k.home,
    env: { SOPS_AGE_KEY_FILE: k.alice.file, NODE_OPTIONS: `--require ${preload}`, ...env },
    ...(input !== undefined ? { input } : {}),
  });

describe("audit entries recorded ahead of CLI writes", () => {
  it("rotate killed after its rename: the next write logs the rotation (bob's exposure) before its own entry", () => {
    const d = shared(["secrets/app.yaml"]);
    const before = entries(d).length;
    const killed = run(d, ["rotate", "-i", "--rm-age", k.bob.recipient, "secrets/app.yaml"], {
      KF_KILL_AFTER: join(d, "secrets/app.yaml"),
    });
    expect(killed.code).toBeNull(); // killed by the signal
    expect(recipientsOf(d, "secrets/app.yaml")).not.toContain(k.bob.recipient); // the rotation landed
    expect(entries(d)).toHaveLength(before); // its entry did not, yet
    expect(records(d)).toHaveLength(1);
    // the next writer of the file settles it first, under the lock
    const set = run(d, ["set", "secrets/app.yaml", "api_token"], {}, "new-token\n");
    expect(set.code, set.stderr).toBe(0);
    const after = entries(d).slice(before);
    expect(after.map((e) => e.operation)).toEqual(["rotate", "set-values"]);
    expect(after[0]?.recipientsRemoved?.length).toBe(1);
    expect(records(d)).toEqual([]);
    // bob's exposure is tracked: db.password is still pending rotation, api_token no longer
    const pending = run(d, ["log", "--pending"]).stdout;
    expect(pending).toContain("secrets/app.yaml db.password: pending rotation");
    expect(pending).not.toContain("secrets/app.yaml api_token: pending rotation");
  });

  it("set killed before its rename: nothing changed, and nothing is logged for it", () => {
    const d = shared(["secrets/app.yaml"]);
    const text = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const before = entries(d).length;
    const killed = run(
      d,
      ["set", "secrets/app.yaml", "api_token"],
      { KF_KILL_BEFORE: join(d, "secrets/app.yaml") },
      "x\n",
    );
    expect(killed.code).toBeNull();
    expect(readFileSync(join(d, "secrets/app.yaml"), "utf8")).toBe(text);
    expect(records(d)).toHaveLength(1);
    const ok = run(d, ["set", "secrets/app.yaml", "db.password"], {}, "y\n");
    expect(ok.code, ok.stderr).toBe(0);
    expect(
      entries(d)
        .slice(before)
        .map((e) => [e.operation, e.keysChanged]),
    ).toEqual([["set-values", ["db.password"]]]);
    expect(records(d)).toEqual([]);
  });

  it("updatekeys killed after the first of two renames: each file ends with exactly one entry", () => {
    const files = ["secrets/a.yaml", "secrets/b.yaml"];
    const d = shared(files);
    writeFileSync(join(d, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${k.alice.recipient}\n`);
    const before = entries(d).length;
    const killed = run(d, ["updatekeys", "-y", ...files], { KF_KILL_AFTER: join(d, "secrets/a.yaml") });
    expect(killed.code).toBeNull();
    expect(recipientsOf(d, "secrets/a.yaml")).not.toContain(k.bob.recipient);
    expect(recipientsOf(d, "secrets/b.yaml")).toContain(k.bob.recipient); // its rename never happened
    expect(records(d)).toHaveLength(2);
    const again = run(d, ["updatekeys", "-y", ...files]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("secrets/a.yaml: already up to date");
    expect(recipientsOf(d, "secrets/b.yaml")).not.toContain(k.bob.recipient);
    const logged = entries(d).slice(before);
    expect(logged.map((e) => [e.file, e.operation]).sort()).toEqual([
      ["secrets/a.yaml", "rotate"],
      ["secrets/b.yaml", "rotate"],
    ]);
    expect(records(d)).toEqual([]);
  });
});
