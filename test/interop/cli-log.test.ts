/**
 * The rotation log and pending rotations end to end (built CLI, temp git repositories):
 * `keyfleet hook install` (chaining, core.hooksPath, idempotent), `--reason` and the actor in audit
 * lines, `keyfleet log` (table, --markdown, --verify), pending rotations from a removed recipient and
 * from `keyfleet exposed`, cleared when the value changes and only then, `scan --max-pending-days`.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTmp, kf, setupKeys, tmp, type Keys } from "./cli-helpers";

let k: Keys;
beforeAll(() => {
  k = setupKeys();
});
afterAll(cleanupTmp);

const PASSWORD = "Sup3r-S3cret/Value+42!";
const TOKEN = "tok_9f8e7d6c5b4a3210";

function git(cwd: string, args: string[], env: Record<string, string> = {}): { code: number | null; out: string } {
  const r = spawnSync("git", args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: k.home, GIT_CONFIG_NOSYSTEM: "1", ...env },
  });
  return { code: r.status, out: r.stdout.toString() + r.stderr.toString() };
}
function gitOk(cwd: string, ...args: string[]): string {
  const r = git(cwd, args);
  expect(r.code, r.out).toBe(0);
  return r.out;
}

/** A repository with secrets/app.yaml readable by alice and bob. */
function repo(): string {
  const d = tmp();
  gitOk(d, "init", "-q", "-b", "main");
  gitOk(d, "config", "user.name", "Test Person");
  gitOk(d, "config", "user.email", "test@example.org");
  writeFileSync(
    join(d, ".sops.yaml"),
    `creation_rules:\n  - path_regex: ^secrets/\n    age: ${k.alice.recipient},${k.bob.recipient}\n`,
  );
  mkdirSync(join(d, "secrets"));
  writeFileSync(join(d, "secrets/app.yaml"), `db:\n  password: ${JSON.stringify(PASSWORD)}\napi_token: ${TOKEN}\n`);
  expect(kf(["encrypt", "-i", "secrets/app.yaml"], { cwd: d, home: k.home }).code).toBe(0);
  gitOk(d, "add", "-A");
  gitOk(d, "commit", "-q", "-m", "secrets");
  return d;
}
const run = (d: string, args: string[], input?: string) =>
  kf(args, {
    cwd: d,
    home: k.home,
    env: { SOPS_AGE_KEY_FILE: k.alice.file },
    ...(input !== undefined ? { input } : {}),
  });
const auditLines = (d: string) =>
  readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("hook install", () => {
  it("chains an existing hook, honours core.hooksPath, is idempotent, and blocks a leaking commit", () => {
    const d = repo();
    gitOk(d, "config", "core.hooksPath", ".githooks");
    mkdirSync(join(d, ".githooks"));
    const marker = join(d, "chained-ran");
    writeFileSync(join(d, ".githooks/pre-commit"), `#!/bin/sh\necho ran >> '${marker}'\nexit 0\n`);
    chmodSync(join(d, ".githooks/pre-commit"), 0o755);
    const r = kf(["hook", "install"], { cwd: d, home: k.home });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(d, ".githooks/pre-commit.pre-keyfleet"), "utf8")).toContain("chained-ran");
    const hook = readFileSync(join(d, ".githooks/pre-commit"), "utf8");
    expect(hook).toContain("scan --staged");
    expect(existsSync(join(d, ".git/hooks/pre-commit"))).toBe(false);
    // again: nothing changes
    const again = kf(["hook", "install"], { cwd: d, home: k.home });
    expect(again.stderr).toContain("already installed");
    expect(readFileSync(join(d, ".githooks/pre-commit"), "utf8")).toBe(hook);
    expect(readFileSync(join(d, ".githooks/pre-commit.pre-keyfleet"), "utf8")).toContain("chained-ran");
    // a leak is refused, after the chained hook ran
    writeFileSync(join(d, "app.js"), `const t = "${TOKEN}";\n`);
    gitOk(d, "add", "app.js");
    const bad = git(d, ["commit", "-q", "-m", "leak"], { SOPS_AGE_KEY_FILE: k.alice.file });
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain("app.js:1:12 (staged): the value of api_token in secrets/app.yaml (verbatim)");
    expect(bad.out).not.toContain(TOKEN);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
    // a clean commit passes (the chained hook runs again)
    writeFileSync(join(d, "app.js"), "const t = process.env.T;\n");
    gitOk(d, "add", "app.js");
    expect(git(d, ["commit", "-q", "-m", "clean"], { SOPS_AGE_KEY_FILE: k.alice.file }).code).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("ran\nran\n");
  });

  it("a failing chained hook stops the commit before the scan", () => {
    const d = repo();
    writeFileSync(join(d, ".git/hooks/pre-commit"), "#!/bin/sh\necho chained-refuses >&2\nexit 3\n");
    chmodSync(join(d, ".git/hooks/pre-commit"), 0o755);
    expect(kf(["hook", "install"], { cwd: d, home: k.home }).code).toBe(0);
    writeFileSync(join(d, "x.txt"), "fine\n");
    gitOk(d, "add", "x.txt");
    const r = git(d, ["commit", "-q", "-m", "x"]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("chained-refuses");
  });
});

describe("rotation log", () => {
  it("--reason and the actor go into the audit line; log prints a table and markdown without values", () => {
    const d = repo();
    expect(
      run(d, ["set", "--reason", "quarterly rotation", "secrets/app.yaml", "api_token"], "tok_new_value_123456\n").code,
    ).toBe(0);
    const r = run(d, ["rotate", "-i", "--reason", "bob left", "--rm-age", k.bob.recipient, "secrets/app.yaml"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = auditLines(d);
    expect(lines.map((l) => [l.operation, l.reason, l.actor])).toEqual([
      ["set-values", "quarterly rotation", "Test Person <test@example.org>"],
      ["rotate", "bob left", "Test Person <test@example.org>"],
    ]);
    const table = run(d, ["log"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^date\s+file\s+operation\s+access\s+rotate\s+reason\s+by$/);
    expect(table.stdout).toMatch(
      /secrets\/app\.yaml\s+rotate\s+-age1\S+\s+api_token db\.password\s+bob left\s+Test Person <test@example\.org>/,
    );
    const md = run(d, ["log", "--markdown", "-o", "docs/secrets-rotation-log.md"]);
    expect(md.code).toBe(0);
    const text = readFileSync(join(d, "docs/secrets-rotation-log.md"), "utf8");
    expect(text).toContain("| date | file | operation | access | rotate | reason | by |");
    expect(text).toContain("Test Person &lt;test@example.org&gt;");
    expect(text).toContain("## Pending rotations");
    for (const v of [PASSWORD, TOKEN, "tok_new_value_123456"]) expect(table.stdout + text).not.toContain(v);
  });

  it("a bad --reason is a usage error", () => {
    const d = repo();
    const r = run(d, ["rotate", "--reason", "two\nlines", "secrets/app.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--reason must be one line of printable text");
  });

  it("--verify lists a history change of age entries without an audit line", () => {
    const d = repo();
    expect(run(d, ["rotate", "-i", "--rm-age", k.bob.recipient, "secrets/app.yaml"]).code).toBe(0);
    gitOk(d, "add", "-A");
    gitOk(d, "commit", "-q", "-m", "rotate");
    expect(run(d, ["log", "--verify"]).code).toBe(0);
    // a recipient added without keyfleet's log (the audit line is lost)
    const log = readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8");
    expect(run(d, ["rotate", "-i", "--add-age", k.bob.recipient, "secrets/app.yaml"]).code).toBe(0);
    writeFileSync(join(d, ".keyfleet/audit.jsonl"), log);
    gitOk(d, "add", "-A");
    gitOk(d, "commit", "-q", "-m", "sneaky");
    const r = run(d, ["log", "--verify"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^commit [0-9a-f]{12} \(.+\): secrets\/app\.yaml: \+age1\S+ no audit line$/m);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
  });
});

describe("pending rotations", () => {
  it("a removed recipient's values are pending until each value changes, and only then", () => {
    const d = repo();
    expect(run(d, ["rotate", "-i", "--rm-age", k.bob.recipient, "secrets/app.yaml"]).code).toBe(0);
    const pending = () => run(d, ["log", "--pending"]).stdout;
    expect(pending()).toMatch(
      /secrets\/app\.yaml api_token: pending rotation for 0 days \(since \d{4}-\d\d-\d\d; readable by /,
    );
    expect(pending()).toContain("secrets/app.yaml db.password: pending rotation");
    // the same value set again: still pending
    expect(run(d, ["set", "secrets/app.yaml", "api_token"], TOKEN + "\n").code).toBe(0);
    expect(pending()).toContain("api_token: pending rotation");
    // another rotation of the data key (values unchanged): still pending
    expect(run(d, ["rotate", "-i", "secrets/app.yaml"]).code).toBe(0);
    expect(pending()).toContain("api_token: pending rotation");
    // a new value: api_token clears, db.password stays
    expect(run(d, ["set", "secrets/app.yaml", "api_token"], "tok_rotated_0000000001\n").code).toBe(0);
    expect(pending()).not.toContain("api_token");
    expect(pending()).toContain("db.password: pending rotation");
    // audit shows it too (from the log alone)
    expect(run(d, ["audit"]).stdout).toContain(
      "pending rotations:\n  secrets/app.yaml db.password: pending rotation for 0 days",
    );
  });

  it("a value changed outside keyfleet (no audit line) clears when the file is checked", () => {
    const d = repo();
    expect(run(d, ["exposed", "secrets/app.yaml", "api_token", "--reason", "pasted in a chat"]).code).toBe(0);
    expect(run(d, ["log", "--pending"]).stdout).toContain("api_token: pending rotation for 0 days");
    expect(run(d, ["log", "--pending"]).stdout).toContain("reason: pasted in a chat");
    // change the value, then drop the audit line that set wrote (as if sops set had changed it)
    const log = readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8");
    expect(run(d, ["set", "secrets/app.yaml", "api_token"], "tok_other_value_99999\n").code).toBe(0);
    writeFileSync(join(d, ".keyfleet/audit.jsonl"), log);
    expect(run(d, ["log", "--pending"]).stdout).toBe("no pending rotations\n");
    // without a key keyfleet cannot check the file: the log alone still lists it
    const noKey = kf(["log", "--pending"], { cwd: d, home: k.home });
    expect(noKey.stdout).toContain("api_token: pending rotation");
  });

  it("exposed needs a reason and an existing encrypted key", () => {
    const d = repo();
    expect(run(d, ["exposed", "secrets/app.yaml", "api_token"]).code).toBe(2);
    const r = run(d, ["exposed", "secrets/app.yaml", "nope", "--reason", "x"]);
    expect(r.code).toBe(91);
    expect(r.stderr).toContain('secrets/app.yaml has no encrypted key "nope"');
  });

  it("scan --max-pending-days fails on a rotation pending longer than N days", () => {
    const d = repo();
    expect(run(d, ["exposed", "secrets/app.yaml", "db.password", "--reason", "laptop lost"]).code).toBe(0);
    expect(run(d, ["scan", "--max-pending-days", "3"]).code).toBe(0);
    // back-date the exposure by 10 days
    const lines = auditLines(d).map((l) => ({ ...l, time: new Date(Date.now() - 10 * 86_400_000).toISOString() }));
    writeFileSync(join(d, ".keyfleet/audit.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const r = run(d, ["scan", "--max-pending-days", "3"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "secrets/app.yaml: db.password has been pending rotation for 10 days (more than 3); rotate the value",
    );
    expect(run(d, ["scan"]).code).toBe(0);
  });
});
