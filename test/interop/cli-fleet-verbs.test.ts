/**
 * The CLI verbs of the fleet path that need no host, and sops's habits, through the built CLI:
 * migrate (round trip verified, plaintext removed and ignored, git history warning by key name),
 * `-d`/`-e`/`--version`, hints for sops flags, `set` refusing a value argument without repeating
 * it, `rotate` printing to stdout unless `-i`, and exec-env over several files, a directory of
 * per-secret files, `--only`, and a plaintext dotenv with a warning.
 */
import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTmp, kf, keygen, tmp } from "./cli-helpers";

const tag = randomBytes(5).toString("hex");
afterAll(cleanupTmp);

/** A project with an operator key and a .sops.yaml rule for secrets/. */
function project(): { d: string; home: string; env: Record<string, string>; recipient: string } {
  const d = tmp();
  const home = tmp();
  const k = keygen(home, "alice", home);
  writeFileSync(join(d, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${k.recipient}\n`);
  mkdirSync(join(d, "secrets"));
  return { d, home, env: { SOPS_AGE_KEY_FILE: k.file }, recipient: k.recipient };
}

const git = (d: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.email=t@example.invalid", "-c", "user.name=t", ...args], {
    cwd: d,
    encoding: "utf8",
  });

describe("keyfleet migrate", () => {
  it("encrypts, verifies, removes the plaintext and ignores it; untracked: no history warning", () => {
    const { d, home, env } = project();
    writeFileSync(join(d, ".env"), `DB_PASSWORD=db-${tag}\nAPI_TOKEN=api-${tag}=x\n`);
    const r = kf(["migrate", ".env"], { cwd: d, home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(d, ".env"))).toBe(false);
    expect(readFileSync(join(d, ".gitignore"), "utf8")).toContain("/.env");
    expect(r.stderr).not.toContain("history");
    const back = kf(["decrypt", "secrets/app.env"], { cwd: d, home, env });
    expect(back.stdout).toBe(`DB_PASSWORD=db-${tag}\nAPI_TOKEN=api-${tag}=x\n`);
    expect(r.stderr + r.stdout).not.toContain(tag);
  });

  it("a git-tracked plaintext: values are in history, listed by name, never by value", () => {
    const { d, home, env } = project();
    git(d, "init", "-q");
    writeFileSync(join(d, ".env.production"), `DB_PASSWORD=db-${tag}\nSMTP_PASS=smtp-${tag}\n`);
    git(d, "add", ".env.production");
    git(d, "commit", "-qm", "oops");
    const r = kf(["migrate", ".env.production"], { cwd: d, home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /git tracks \.env\.production: these values are in the repository's history and must be rotated: DB_PASSWORD, SMTP_PASS/,
    );
    expect(r.stderr).not.toContain(tag);
    expect(existsSync(join(d, "secrets/production.env"))).toBe(true);
  });

  it("a plaintext that git tracked once (removed since) still gets the warning", () => {
    const { d, home, env } = project();
    git(d, "init", "-q");
    writeFileSync(join(d, "api.env"), `TOKEN=t-${tag}\n`);
    git(d, "add", "api.env");
    git(d, "commit", "-qm", "add");
    git(d, "rm", "-q", "--cached", "api.env");
    git(d, "commit", "-qm", "untrack");
    const r = kf(["migrate", "api.env", "--to", "secrets/api.env"], { cwd: d, home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/git tracked api\.env: .*must be rotated: TOKEN/);
  });

  it("refuses an existing target and leaves the plaintext", () => {
    const { d, home, env } = project();
    writeFileSync(join(d, ".env"), `A=${tag}\n`);
    writeFileSync(join(d, "secrets/app.env"), "x=1\n");
    const r = kf(["migrate", ".env"], { cwd: d, home, env });
    expect(r.code).not.toBe(0);
    expect(readFileSync(join(d, ".env"), "utf8")).toBe(`A=${tag}\n`);
  });
});

describe("sops habits", () => {
  it("-d FILE, -e FILE and --version", () => {
    const { d, home, env } = project();
    writeFileSync(join(d, "secrets/a.yaml"), `k: v-${tag}\n`);
    writeFileSync(join(d, "secrets/plain.yaml"), `k: w-${tag}\nn: 3\n`);
    const e = kf(["-e", "-i", "secrets/a.yaml"], { cwd: d, home, env });
    expect(e.code, e.stderr).toBe(0);
    expect(readFileSync(join(d, "secrets/a.yaml"), "utf8")).toContain("ENC[");
    const dd = kf(["-d", "secrets/a.yaml"], { cwd: d, home, env });
    expect(dd.stdout).toBe(`k: v-${tag}\n`);
    const x = kf(["--extract", '["k"]', "-d", "secrets/a.yaml"], { cwd: d, home, env });
    expect(x.stdout).toBe(`v-${tag}`);
    const j = kf(["encrypt", "--output-type", "json", "--output", "secrets/a.json", "secrets/plain.yaml"], {
      cwd: d,
      home,
      env,
    });
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(d, "secrets/a.json"), "utf8")).sops).toBeDefined();
    expect(JSON.parse(kf(["-d", "secrets/a.json"], { cwd: d, home, env }).stdout)).toEqual({ k: `w-${tag}`, n: 3 });
    const v = kf(["--version"], { cwd: d, home });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^keyfleet \d+\.\d+\.\d+\n$/);
  });

  it("an unknown sops flag gets a hint naming the keyfleet equivalent", () => {
    const { d, home } = project();
    const kms = kf(["encrypt", "--kms", "arn:x", "f.yaml"], { cwd: d, home });
    expect(kms.code).toBe(2);
    expect(kms.stderr).toContain(
      "unknown flag --kms; sops has it, with keyfleet use keyfleet supports age recipients only: use --age",
    );
    const rm = kf(["updatekeys", "--rm-age", "age1x", "f.yaml"], { cwd: d, home });
    expect(rm.stderr).toContain("keyfleet rotate FILE --rm-age R");
  });

  it("set refuses a value typed as an argument without repeating it", () => {
    const { d, home, env } = project();
    writeFileSync(join(d, "secrets/a.yaml"), "k: v\n");
    kf(["encrypt", "-i", "secrets/a.yaml"], { cwd: d, home, env });
    const before = readFileSync(join(d, "secrets/a.yaml"), "utf8");
    const r = kf(["set", "secrets/a.yaml", "k", `typed-${tag}`], { cwd: d, home, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("never from the command line");
    expect(r.stderr).not.toContain(tag);
    expect(readFileSync(join(d, "secrets/a.yaml"), "utf8")).toBe(before);
  });

  it("rotate prints to stdout unless -i, as sops rotate", () => {
    const { d, home, env } = project();
    writeFileSync(join(d, "secrets/a.yaml"), `k: v-${tag}\n`);
    kf(["encrypt", "-i", "secrets/a.yaml"], { cwd: d, home, env });
    const before = readFileSync(join(d, "secrets/a.yaml"), "utf8");
    const r = kf(["rotate", "secrets/a.yaml"], { cwd: d, home, env });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(d, "secrets/a.yaml"), "utf8")).toBe(before);
    expect(r.stdout).toContain("ENC[");
    expect(r.stdout).not.toBe(before);
    writeFileSync(join(d, "secrets/b.yaml"), r.stdout);
    expect(kf(["decrypt", "secrets/b.yaml", "--extract", '["k"]'], { cwd: d, home, env }).stdout).toBe(`v-${tag}`);
    expect(kf(["rotate", "secrets/a.yaml", "secrets/b.yaml"], { cwd: d, home, env }).code).toBe(2);
    expect(kf(["rotate", "-i", "secrets/a.yaml"], { cwd: d, home, env }).code).toBe(0);
    expect(readFileSync(join(d, "secrets/a.yaml"), "utf8")).not.toBe(before);
  });

  it("exec-env: several files, a directory of per-secret files, --only exactly those, a plaintext dotenv with a warning", () => {
    const { d, home, env } = project();
    mkdirSync(join(d, "secrets/per"));
    writeFileSync(join(d, "secrets/per/A.env"), `A=a-${tag}\n`);
    writeFileSync(join(d, "secrets/per/B.env"), `B=b-${tag}\n`);
    writeFileSync(join(d, "secrets/c.yaml"), `C: c-${tag}\n`);
    for (const f of ["secrets/per/A.env", "secrets/per/B.env", "secrets/c.yaml"])
      expect(kf(["encrypt", "-i", f], { cwd: d, home, env }).code).toBe(0);
    const show = [
      "--",
      process.execPath,
      "-e",
      "process.stdout.write(JSON.stringify({A:process.env.A??null,B:process.env.B??null,C:process.env.C??null,P:process.env.P??null}))",
    ];
    const both = kf(["exec-env", "secrets/per", "secrets/c.yaml", ...show], { cwd: d, home, env });
    expect(both.code, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout)).toEqual({ A: `a-${tag}`, B: `b-${tag}`, C: `c-${tag}`, P: null });
    const only = kf(["exec-env", "secrets/per", "secrets/c.yaml", "--only", "A,C", ...show], { cwd: d, home, env });
    expect(JSON.parse(only.stdout)).toEqual({ A: `a-${tag}`, B: null, C: `c-${tag}`, P: null });
    writeFileSync(join(d, ".env"), `P=plain-${tag}\n`);
    const plain = kf(["exec-env", ".env", ...show], { cwd: d, home });
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout).P).toBe(`plain-${tag}`);
    expect(plain.stderr).toContain("is not encrypted; run keyfleet migrate .env");
    expect(plain.stderr).not.toContain(tag);
  });
});
