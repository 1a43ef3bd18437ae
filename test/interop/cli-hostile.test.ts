/**
 * Issue 9 §4, §5, §7 through the built CLI (real processes, real files): every verb refuses an
 * alias bomb and deep nesting with a clear error and an exit code from the table, `.sops.yaml`
 * bombs and E2BIG are typed, exec-env never hands the operator's key variables to the child,
 * private keys are never written through a symlink or into a file others can read, and relabelled
 * age entries are reported loudly by audit and updatekeys.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cleanupTmp, keygen, kf, tmp } from "./cli-helpers";

let dir: string;
let home: string;
let me: { file: string; recipient: string; secret: string };
let other: { file: string; recipient: string; secret: string };
let good: string;

function bomb(): string {
  const l = "abcdefghi";
  let s = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n`;
  for (let i = 1; i < 9; i++)
    s += `${l[i]}: &${l[i]} [${Array(9)
      .fill("*" + l[i - 1])
      .join(",")}]\n`;
  return s;
}

beforeAll(() => {
  dir = tmp();
  home = join(dir, "home");
  mkdirSync(home);
  me = keygen(dir, "me", home);
  other = keygen(dir, "other", home);
  writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - age: ${me.recipient}\n`);
  writeFileSync(join(dir, "plain.yaml"), "a: hello\n");
  const r = kf(["encrypt", "plain.yaml"], { cwd: dir, home });
  expect(r.code).toBe(0);
  good = r.stdout;
  const block = good.slice(good.indexOf("\nsops:\n") + 1);
  writeFileSync(join(dir, "bomb.yaml"), bomb() + block);
  writeFileSync(join(dir, "bomb-plain.yaml"), bomb());
  writeFileSync(join(dir, "nest.yaml"), "x: " + "[".repeat(10_000) + "\n" + block);
  writeFileSync(join(dir, "nest-plain.yaml"), "x: " + "[".repeat(10_000) + "\n");
  for (const d of ["audit-bomb", "audit-nest"]) mkdirSync(join(dir, d));
  writeFileSync(join(dir, "audit-bomb", "s.yaml"), bomb() + block);
  writeFileSync(join(dir, "audit-nest", "s.yaml"), "x: " + "[".repeat(10_000) + "\n" + block);
});
afterAll(cleanupTmp);

describe("hostile yaml in every verb (no SIGABRT, no internal error, bounded)", () => {
  const env = () => ({ SOPS_AGE_KEY_FILE: me.file });
  const cases: [string, (f: string) => string[]][] = [
    ["decrypt", (f) => ["decrypt", `${f}.yaml`]],
    ["set", (f) => ["set", `${f}.yaml`, '["a"]', "--json"]],
    ["updatekeys", (f) => ["updatekeys", "-y", `${f}.yaml`]],
    ["exec-env", (f) => ["exec-env", `${f}.yaml`, "--", "true"]],
    ["rotate", (f) => ["rotate", `${f}.yaml`]],
    ["encrypt", (f) => ["encrypt", `${f}-plain.yaml`]],
    ["audit", (f) => ["audit", `audit-${f}`]],
  ];
  for (const [kind, msg] of [
    ["bomb", /invalid yaml: document contains excessive aliasing/],
    ["nest", /:1: invalid yaml: nested more than 200 levels deep/],
  ] as const) {
    it.each(cases)(`${kind}: %s exits 2 with a clear error`, (_verb, argv) => {
      const t0 = Date.now();
      const r = kf(argv(kind), { cwd: dir, home, env: env(), input: '"x"\n' });
      expect(Date.now() - t0).toBeLessThan(15_000); // < 1 s of parsing; node start-up on a loaded machine
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/internal error|FATAL|RegExpCompiler|Maximum call stack/);
    });
  }

  it(".sops.yaml alias bomb: a CONFIG error, exit 5 (was internal error, exit 70)", () => {
    const d = join(dir, "cfg");
    mkdirSync(d);
    writeFileSync(join(d, ".sops.yaml"), bomb() + `creation_rules:\n  - age: ${me.recipient}\n`);
    writeFileSync(join(d, "p.yaml"), "a: 1\n");
    for (const argv of [
      ["encrypt", "p.yaml"],
      ["updatekeys", "-y", "p.yaml"],
    ]) {
      const r = kf(argv, { cwd: d, home, env: env() });
      // both verbs read the rule before the file, so both name the config (updatekeys did not before the merge)
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/invalid \.sops\.yaml: .*excessive aliasing/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });

  it("json duplicate key: refused with file and line", () => {
    writeFileSync(join(dir, "dup.json"), '{"a": "1",\n "a": "2"}');
    const r = kf(["encrypt", "dup.json"], { cwd: dir, home, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dup\.json:2: invalid json: duplicate key "a"/);
  });
});

describe("exec-env", () => {
  it("E2BIG is a typed ENV_TOO_LARGE error with exit 126, naming the variable, not the value", () => {
    const big = "v".repeat(200_000);
    writeFileSync(join(dir, "big.env"), `BIG=${big}\n`);
    const e = kf(["encrypt", "--output", "big.enc.env", "big.env"], {
      cwd: dir,
      home,
      env: { SOPS_AGE_KEY_FILE: me.file },
    });
    expect(e.code).toBe(0);
    const r = kf(["exec-env", "big.enc.env", "--", "true"], { cwd: dir, home, env: { SOPS_AGE_KEY_FILE: me.file } });
    expect(r.code).toBe(126);
    expect(r.stderr).toMatch(/environment is too large for the kernel \(E2BIG: .*largest BIG, 200000 bytes/);
    expect(r.stderr).not.toContain("vvvvvvvv");
  });

  it("the child never sees SOPS_AGE_KEY, _FILE, _CMD or _SSH_PRIVATE_KEY_FILE, even with --only; --keep-age-env passes them", () => {
    const show = [
      "sh",
      "-c",
      'printf "%s|%s|%s|%s|%s|%s" "${SOPS_AGE_KEY-unset}" "${SOPS_AGE_KEY_FILE-unset}" "${SOPS_AGE_KEY_CMD-unset}" "${SOPS_AGE_SSH_PRIVATE_KEY_FILE-unset}" "${SOPS_AGE_RECIPIENTS-unset}" "$a"',
    ];
    const encd = kf(["encrypt", "--output", "s.yaml", "plain.yaml"], { cwd: dir, home });
    expect(encd.code).toBe(0);
    const ssh = join(dir, "exec-ssh");
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", ssh]).status).toBe(0);
    const env = {
      SOPS_AGE_KEY: me.secret,
      SOPS_AGE_KEY_FILE: me.file,
      SOPS_AGE_KEY_CMD: `cat ${me.file}`,
      SOPS_AGE_SSH_PRIVATE_KEY_FILE: ssh,
      SOPS_AGE_RECIPIENTS: me.recipient,
    };
    for (const only of [[], ["--only", "a"]]) {
      const r = kf(["exec-env", ...only, "s.yaml", "--", ...show], { cwd: dir, home, env });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`unset|unset|unset|unset|${me.recipient}|hello`);
      expect(r.stdout).not.toContain("AGE-SECRET-KEY");
    }
    const kept = kf(["exec-env", "--keep-age-env", "s.yaml", "--", ...show], {
      cwd: dir,
      home,
      env: { SOPS_AGE_KEY: me.secret },
    });
    expect(kept.stdout).toBe(`${me.secret}|unset|unset|unset|unset|hello`);
  });
});

describe("private keys on the operator's machine", () => {
  const canSetpriv = existsSync("/usr/bin/setpriv") && process.getuid?.() === 0;

  it.each([
    [
      "an existing 0644 file",
      (p: string) => (writeFileSync(p, "x\n"), chmodSync(p, 0o644)),
      /has mode 0644: others could read the private key; run chmod 600/,
    ],
    ["an existing 0666 file", (p: string) => (writeFileSync(p, ""), chmodSync(p, 0o666)), /has mode 0666/],
    [
      "a symlink to a 0600 file",
      (p: string) => (writeFileSync(p + ".real", "", { mode: 0o600 }), symlinkSync(p + ".real", p)),
      /is a symlink/,
    ],
    ["a FIFO (must not block)", (p: string) => spawnSync("mkfifo", [p]), /is not a regular file/],
  ])("keygen -o and ssh-to-age --private-key -o refuse %s, write nothing, exit 3", (_n, plant, error) => {
    const ssh = join(dir, `ssh-${Math.random().toString(36).slice(2)}`);
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", ssh]).status).toBe(0);
    for (const argv of [
      (p: string) => ["keygen", "-o", p],
      (p: string) => ["ssh-to-age", "--private-key", "-i", ssh, "-o", p],
    ]) {
      const p = join(dir, `k-${Math.random().toString(36).slice(2)}`);
      plant(p);
      const before = lstatSync(p).isFIFO() ? "" : readFileSync(p, "utf8");
      const r = kf(argv(p), { cwd: dir, home });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(error);
      if (!lstatSync(p).isFIFO()) expect(readFileSync(p, "utf8")).toBe(before);
      if (existsSync(p + ".real")) expect(readFileSync(p + ".real", "utf8")).toBe("");
    }
  });

  it("keygen -o /proc/nope/k returns at once with a typed error (it spun for minutes)", () => {
    const t0 = Date.now();
    const r = kf(["keygen", "-o", "/proc/nope/k"], { cwd: dir, home });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot create directory \/proc\/nope/);
  });

  it("keygen creates missing directories 0700 and the key 0600", () => {
    const p = join(dir, "deep", "er", "keys.txt");
    expect(kf(["keygen", "-o", p], { cwd: dir, home }).code).toBe(0);
    expect(statSync(join(dir, "deep")).mode & 0o777).toBe(0o700);
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it.runIf(canSetpriv)(
    "keygen into a directory it cannot write: typed KEY_WRITE error, exit 3 (was internal error, exit 70)",
    () => {
      const ro = join(dir, "ro");
      mkdirSync(ro, { mode: 0o755 });
      chmodSync(dir, 0o755);
      const r = spawnSync(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, "keygen", "-o", join(ro, "k.txt")],
        { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: ro }, timeout: 30_000 },
      );
      expect(r.status).toBe(3);
      expect(r.stderr.toString()).toMatch(/cannot open .*k\.txt: permission denied/);
      expect(existsSync(join(ro, "k.txt"))).toBe(false);
    },
  );
});

describe("recipient labels (not authenticated by sops)", () => {
  it("audit and updatekeys say so loudly when your key opens an entry labelled for someone else; updatekeys rotates", () => {
    const d = join(dir, "relabel");
    mkdirSync(d);
    writeFileSync(join(d, ".sops.yaml"), `creation_rules:\n  - age: ${other.recipient}\n`);
    writeFileSync(join(d, "s.yaml"), good.replace(`recipient: ${me.recipient}`, `recipient: ${other.recipient}`));
    const env = { SOPS_AGE_KEY_FILE: me.file };
    const a = kf(["audit", "."], { cwd: d, home, env });
    expect(a.stderr).toMatch(/WARNING: s\.yaml: age entry 1 is labelled age1\w+…\w+ but opens with YOUR key/);
    expect(a.stdout).toMatch(/WARNING: s\.yaml/);
    const u = kf(["updatekeys", "-y", "s.yaml"], { cwd: d, home, env });
    expect(u.code).toBe(0);
    expect(u.stderr).toMatch(/WARNING: s\.yaml: age entry 1 is labelled/);
    expect(u.stderr).not.toMatch(/already up to date/);
    expect(u.stderr).toMatch(/data key rotated/);
    // the old key no longer opens the file; the real recipient does
    expect(kf(["decrypt", "s.yaml"], { cwd: d, home, env }).code).toBe(128);
    expect(kf(["decrypt", "s.yaml"], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: other.file } }).stdout).toBe(
      "a: hello\n",
    );
  });

  it("an entry labelled with your recipient that your key does not open is reported", () => {
    const d = join(dir, "stolen");
    mkdirSync(d);
    const foreign = kf(["encrypt", "--age", other.recipient, join(dir, "plain.yaml")], { cwd: d, home }).stdout;
    writeFileSync(join(d, "s.yaml"), foreign.replace(`recipient: ${other.recipient}`, `recipient: ${me.recipient}`));
    const a = kf(["audit", "."], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: me.file } });
    expect(a.stderr).toMatch(
      /WARNING: s\.yaml: age entry 1 is labelled with YOUR recipient .* but does not open with your key/,
    );
  });
});
