/**
 * `keyfleet scan` end to end (the built CLI in temp git repositories): each rule, each encoding,
 * each mode (PATH, --staged in a real repository, --history over a planted commit, --public), the
 * skip rules, no-key mode, and that no scan writes a value anywhere (fresh TMPDIR and HOME searched
 * file by file).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTmp, kf, setupKeys, tmp, type Keys } from "./cli-helpers";

let k: Keys;
beforeAll(() => {
  k = setupKeys();
});
afterAll(cleanupTmp);

/** The values of the test inventory (long enough to be searched). */
const V = {
  password: "Sup3r-S3cret/Value+42!",
  token: "tok_9f8e7d6c5b4a3210",
  short: "abc123", // 6 characters: skipped by default
};

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", args, { cwd, env: { PATH: process.env.PATH, HOME: k.home, GIT_CONFIG_NOSYSTEM: "1" } });
  expect(r.status, r.stderr.toString()).toBe(0);
  return r.stdout.toString();
}

/** A git repository with .sops.yaml (secrets/ for alice) and an encrypted secrets/app.yaml. */
function repo(): string {
  const d = tmp();
  git(d, "init", "-q", "-b", "main");
  git(d, "config", "user.name", "Test Person");
  git(d, "config", "user.email", "test@example.org");
  writeFileSync(join(d, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${k.alice.recipient}\n`);
  mkdirSync(join(d, "secrets"));
  writeFileSync(
    join(d, "secrets/app.yaml"),
    `db:\n  password: ${JSON.stringify(V.password)}\n  port: 5432\napi_token: ${V.token}\npin: ${V.short}\n`,
  );
  expect(kf(["encrypt", "-i", "secrets/app.yaml"], { cwd: d, home: k.home }).code).toBe(0);
  git(d, "add", "-A");
  git(d, "commit", "-q", "-m", "secrets");
  return d;
}

const withKey = (): Record<string, string> => ({ SOPS_AGE_KEY_FILE: k.alice.file });
const scan = (d: string, args: string[], env: Record<string, string> = withKey()) =>
  kf(["scan", ...args], { cwd: d, home: k.home, env });

function expectNoValue(text: string): void {
  for (const v of [V.password, V.token]) {
    expect(text).not.toContain(v);
    expect(text).not.toContain(Buffer.from(v).toString("hex"));
  }
}

describe("values", () => {
  it.each([
    ["verbatim", `password = ${V.password}\n`, "verbatim", "db.password", "1:12"],
    ["base64", `blob: ${Buffer.from("x" + V.token + "y").toString("base64")}\n`, "base64", "api_token", "1:9"],
    ["base64url", `u=${Buffer.from("ab" + V.password).toString("base64url")}\n`, "base64", "db.password", "1:6"],
    ["URL-encoded", `https://h/?p=${encodeURIComponent(V.password)}&x=1\n`, "url-encoded", "db.password", "1:14"],
    ["hex", `k: ${Buffer.from(V.token).toString("hex").toUpperCase()}\n`, "hex", "api_token", "1:4"],
    [
      "split in a quoted string",
      `const t = "${V.token.slice(0, 9)}" +\n  "${V.token.slice(9)}";\n`,
      "verbatim, split across a line break",
      "api_token",
      "1:12",
    ],
  ])("%s: found with path:line:column, sops file and key, never the value", (_n, content, how, key, pos) => {
    const d = repo();
    writeFileSync(join(d, "notes.txt"), "line\n" + content);
    const r = scan(d, []);
    expect(r.code).toBe(1);
    const [line, col] = pos.split(":").map(Number) as [number, number];
    expect(r.stdout).toContain(`notes.txt:${line + 1}:${col}: the value of ${key} in secrets/app.yaml (${how})`);
    expectNoValue(r.stdout + r.stderr);
  });

  it("a clean tree passes; a short value is skipped by default and found with --min-length 6", () => {
    const d = repo();
    writeFileSync(join(d, "readme.md"), `pin is ${V.short}\n`);
    const ok = scan(d, []);
    expect(ok.stderr).toContain("2 values (2 skipped)");
    expect(ok.code).toBe(0);
    const r = scan(d, ["--min-length", "6"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("readme.md:1:8: the value of pin in secrets/app.yaml (verbatim)");
  });

  it("without a key: structure check only, and it says so", () => {
    const d = repo();
    writeFileSync(join(d, "notes.txt"), V.password + "\n");
    const r = scan(d, [], {});
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no age identity found: structure check only, values are not searched");
    writeFileSync(join(d, ".env"), "A=1\n");
    expect(scan(d, [], {}).code).toBe(1);
  });
});

describe("structure rule", () => {
  it.each([
    ["secrets/plain.yaml", "a: 1\n", ".sops.yaml creation rule 2 (path_regex ^secrets/)"],
    ["deploy/secrets/x.yaml", "a: 1\n", "the secrets/** rule"],
    ["deploy/.env.production", "A=1\n", "the *.env* rule"],
    ["config/prod.json", '{"a": 1}\n', ".sops.yaml creation rule 1 (path_regex ^config/prod\\.json$)"],
  ])("%s in plaintext fails, naming the rule that covers it", (path, content, rule) => {
    const d = repo();
    writeFileSync(
      join(d, ".sops.yaml"),
      `creation_rules:\n  - path_regex: ^config/prod\\.json$\n    age: ${k.alice.recipient}\n  - path_regex: ^secrets/\n    age: ${k.alice.recipient}\n`,
    );
    mkdirSync(join(d, path, ".."), { recursive: true });
    writeFileSync(join(d, path), content);
    const r = scan(d, []);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${path}: ${rule} covers this file but it has no sops metadata (plaintext)`);
    // encrypted (where a creation rule gives recipients), it passes
    if (rule.startsWith(".sops.yaml")) {
      expect(kf(["encrypt", "-i", path], { cwd: d, home: k.home }).code).toBe(0);
      expect(scan(d, []).code).toBe(0);
    }
  });

  it("--allow-plain exempts a path", () => {
    const d = repo();
    writeFileSync(join(d, ".env.example"), "A=changeme\n");
    expect(scan(d, []).code).toBe(1);
    expect(scan(d, ["--allow-plain", ".env.example"]).code).toBe(0);
  });
});

describe("modes", () => {
  it("--staged scans the index, not the working tree", () => {
    const d = repo();
    writeFileSync(join(d, "app.js"), `const key = "${V.token}";\n`);
    git(d, "add", "app.js");
    writeFileSync(join(d, "app.js"), "const key = process.env.KEY;\n");
    const r = scan(d, ["--staged"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("app.js:1:14 (staged): the value of api_token in secrets/app.yaml (verbatim)");
    expect(scan(d, ["app.js"]).code).toBe(0);
    git(d, "add", "app.js");
    expect(scan(d, ["--staged"]).code).toBe(0);
  });

  it("--history finds a value in a commit that a later commit removed, naming the commit", () => {
    const d = repo();
    writeFileSync(join(d, "old.txt"), `x\n${Buffer.from(V.password).toString("base64")}\n`);
    git(d, "add", "old.txt");
    git(d, "commit", "-q", "-m", "oops");
    const planted = git(d, "rev-parse", "--short", "HEAD").trim();
    git(d, "rm", "-q", "old.txt");
    git(d, "commit", "-q", "-m", "remove");
    expect(scan(d, []).code).toBe(0);
    const r = scan(d, ["--history"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `old.txt:2:1 (commit ${planted}): the value of db.password in secrets/app.yaml (base64)`,
    );
    expect(r.stderr).toMatch(/history: 3 commits, \d+ blobs/);
  });

  it("--public fails on recipients, fingerprints and key names; without --public they pass", () => {
    const d = repo();
    mkdirSync(join(d, "docs"));
    const fp = spawnSync(process.execPath, [
      "-e",
      `console.log(require(${JSON.stringify(join(__dirname, "../../dist/provider/access/names.js"))}).recipientFingerprint(${JSON.stringify(k.alice.recipient)}))`,
    ])
      .stdout.toString()
      .trim();
    writeFileSync(join(d, "docs/a.md"), `recipient ${k.alice.recipient}\n\nfingerprint ${fp}\n\nset api_token first\n`);
    expect(scan(d, ["docs"]).code).toBe(0);
    const r = scan(d, ["--public", "docs"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`docs/a.md:1:11: recipient ${k.alice.recipient.slice(0, 20)}…`);
    expect(r.stdout).toContain(`docs/a.md:3:20: key fingerprint ${fp}`);
    expect(r.stdout).toContain("docs/a.md:5:5: key name api_token of the secret inventory");
    const whole = scan(d, ["--public"]);
    expect(whole.stdout).toContain("secrets/app.yaml: a sops file in a public tree");
  });
});

describe("values are written nowhere", () => {
  function allFiles(dir: string): string[] {
    const out: string[] = [];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) out.push(...allFiles(p));
      else if (e.isFile()) out.push(p);
    }
    return out;
  }
  it("a scan under a fresh TMPDIR and HOME leaves no file holding a value there, nor a new file in the repository", () => {
    const d = repo();
    writeFileSync(join(d, "leak.txt"), `"${V.password.slice(0, 8)}\n ${V.password.slice(8)}"\n${V.token}\n`);
    git(d, "add", "leak.txt");
    const tmpDir = tmp();
    const home = tmp();
    const before = allFiles(d).sort();
    const run = (mode: string[], code: number): void => {
      const r = kf(["scan", ...mode], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: k.alice.file, TMPDIR: tmpDir } });
      expect(r.code).toBe(code);
      expectNoValue(r.stdout + r.stderr);
    };
    run([], 1);
    run(["--staged"], 1);
    run(["--public"], 1);
    run(["--history"], 0); // staged, not committed yet
    git(d, "commit", "-q", "-m", "leak");
    run(["--history"], 1);
    // nothing new in the repository but what the commit above made in .git
    expect(
      allFiles(d)
        .filter((f) => !f.includes("/.git/"))
        .sort(),
    ).toEqual(before.filter((f) => !f.includes("/.git/")).sort());
    const written = [...allFiles(tmpDir), ...allFiles(home)];
    for (const f of written) {
      if (statSync(f).size > 64 * 1024 * 1024) continue;
      expectNoValue(readFileSync(f, "latin1"));
    }
  });

  it("git runs without the age key variables (SOPS_AGE_KEY holds a private key)", () => {
    const d = repo();
    writeFileSync(join(d, "app.js"), `const key = "${V.token}";\n`);
    git(d, "add", "app.js");
    const bin = tmp();
    const record = join(bin, "git-env.txt");
    const realGit = spawnSync("sh", ["-c", "command -v git"]).stdout.toString().trim();
    writeFileSync(join(bin, "git"), `#!/bin/sh\nenv >> '${record}'\nexec '${realGit}' "$@"\n`, { mode: 0o755 });
    const r = kf(["scan", "--staged"], {
      cwd: d,
      home: k.home,
      env: { SOPS_AGE_KEY: k.alice.secret, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("app.js:1:14 (staged): the value of api_token");
    const env = readFileSync(record, "utf8");
    expect(env).toContain("PATH=");
    expect(env).not.toContain(k.alice.secret);
    expect(env).not.toContain("SOPS_AGE_KEY");
  });
});
