/**
 * The sops verbs of the `keyfleet` CLI end to end: every test spawns the built CLI
 * (`node dist/cli/main.js`, built by `npm test`'s pretest or `npx tsc -p tsconfig.json`) in a temp
 * project with a temp HOME and keys made by `keyfleet keygen` / ssh-keygen. Vectors: the real sops
 * files of getsops/sops PR 1031 in ../shared/vectors/sops/sops-pr1031 (key: age_keys.txt), with
 * the plaintext in expected.json. The real `age` CLI decrypts the `enc` entries the CLI wrote.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(__dirname, "../..");
const CLI = join(ROOT, "dist/cli/main.js");
const VEC = join(ROOT, "../shared/vectors/sops");
const VERBS = ["decrypt", "encrypt", "set", "updatekeys", "rotate", "exec-env", "audit"];

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "kf-cli-sops-"));
  dirs.push(d);
  return d;
}

interface Run {
  code: number | null;
  out: Buffer;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a clean environment (HOME = `home`, PATH kept) plus `env`. */
function kf(args: string[], o: { cwd: string; home: string; env?: Record<string, string>; input?: string | Buffer }): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: o.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: o.home, ...(o.env ?? {}) },
    input: o.input ?? "",
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

/** A keypair made by `keyfleet keygen -o FILE`. */
function keygen(dir: string, name: string, home: string): { file: string; recipient: string; secret: string } {
  const file = join(dir, `${name}.txt`);
  const r = kf(["keygen", "-o", file], { cwd: dir, home });
  expect(r.code).toBe(0);
  const recipient = /Public key: (age1\w+)/.exec(r.stderr)?.[1] as string;
  const secret = /AGE-SECRET-KEY-1\w+/.exec(readFileSync(file, "utf8"))?.[0] as string;
  return { file, recipient, secret };
}

/** Lines of b not in a and of a not in b (multiset line diff). */
function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const count = new Map<string, number>();
  for (const l of a.split("\n")) count.set(l, (count.get(l) ?? 0) + 1);
  const added: string[] = [];
  for (const l of b.split("\n")) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else added.push(l);
  }
  const removed = [...count.entries()].flatMap(([l, n]) => Array<string>(n).fill(l));
  return { removed, added };
}

/** Leaf values of a plain JSON value, in document order. */
function leafValues(v: unknown): unknown[] {
  if (Array.isArray(v)) return v.flatMap(leafValues);
  if (v !== null && typeof v === "object") return Object.values(v as Record<string, unknown>).flatMap(leafValues);
  return [v];
}

let home: string;
let work: string;
let alice: ReturnType<typeof keygen>;
let bob: ReturnType<typeof keygen>;
let hostKey: string;
let hostPub: string;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: build first with npx tsc -p tsconfig.json`);
  home = tmp();
  work = tmp();
  alice = keygen(work, "alice", home);
  bob = keygen(work, "bob", home);
  hostKey = join(work, "host_ed25519");
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "web-1", "-f", hostKey]);
  expect(r.status).toBe(0);
  hostPub = readFileSync(hostKey + ".pub", "utf8").trim();
});

describe("--help", () => {
  for (const verb of VERBS) {
    it(`keyfleet ${verb} --help prints usage, flags and exits 0`, () => {
      const r = kf([verb, "--help"], { cwd: work, home });
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`usage: keyfleet ${verb} `)).toBe(true);
      expect(r.stdout).toContain("-h, --help");
    });
  }
  it("keyfleet --help lists every sops verb", () => {
    const r = kf(["--help"], { cwd: work, home });
    for (const verb of VERBS) expect(r.stdout).toMatch(new RegExp(`^  ${verb} `, "m"));
  });
});

describe("decrypt: real sops files (getsops/sops PR 1031)", () => {
  const expected = JSON.parse(readFileSync(join(VEC, "expected.json"), "utf8")) as Record<string, { leaves: { value: unknown }[]; comments: { value: string }[] }>;
  const env = (): Record<string, string> => ({ SOPS_AGE_KEY_FILE: join(VEC, "sops-pr1031/age_keys.txt") });

  for (const name of ["example.yaml", "example.json", "example.ini"]) {
    it(`${name}: every leaf matches expected.json, comments included`, () => {
      const file = join(VEC, "sops-pr1031", name);
      const asJson = kf(["decrypt", "--output-type", "json", file], { cwd: work, home, env: env() });
      expect(asJson.stderr).toBe("");
      expect(asJson.code).toBe(0);
      const want = expected[`sops-pr1031/${name}`] as { leaves: { value: unknown }[]; comments: { value: string }[] };
      expect(leafValues(JSON.parse(asJson.stdout))).toEqual(want.leaves.map((l) => l.value));
      const native = kf(["decrypt", file], { cwd: work, home, env: env() });
      expect(native.code).toBe(0);
      for (const c of want.comments) expect(native.stdout).toContain(c.value.trim());
      if (name === "example.yaml") expect(leafValues(parseYaml(native.stdout))).toEqual(want.leaves.map((l) => l.value));
    });
  }

  it("example.txt (binary store) prints the raw data", () => {
    const r = kf(["decrypt", join(VEC, "sops-pr1031/example.txt")], { cwd: work, home, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected["sops-pr1031/example.txt"]?.leaves[0]?.value);
  });

  it("--extract prints a string raw, a subtree in the output format; bad paths exit 91", () => {
    const file = join(VEC, "sops-pr1031/example.yaml");
    expect(kf(["decrypt", "--extract", '["app2"]["db"]["password"]', file], { cwd: work, home, env: env() }).stdout).toBe("c4r1b0u");
    expect(kf(["decrypt", "--extract", "app2.db.user", file], { cwd: work, home, env: env() }).stdout).toBe("eve");
    expect(kf(["decrypt", "--extract", '["an_array"][1]', file], { cwd: work, home, env: env() }).stdout).toBe("secretuser2");
    const sub = kf(["decrypt", "--extract", '["app2"]["db"]', "--output-type", "json", file], { cwd: work, home, env: env() });
    expect(JSON.parse(sub.stdout)).toEqual({ user: "eve", password: "c4r1b0u" });
    expect(kf(["decrypt", "--extract", '["app2"', file], { cwd: work, home, env: env() }).code).toBe(91);
    const missing = kf(["decrypt", "--extract", '["nope"]', file], { cwd: work, home, env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('key ["nope"] not found');
  });

  it("wrong identity: exit 128, names the recipients and sources tried, never a key", () => {
    const r = kf(["decrypt", join(VEC, "sops-pr1031/example.yaml")], { cwd: work, home, env: { SOPS_AGE_KEY_FILE: alice.file } });
    expect(r.code).toBe(128);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("none of your identities can decrypt");
    expect(r.stderr).toContain("age1yt3t…");
    expect(r.stderr).toContain(`SOPS_AGE_KEY_FILE=${alice.file}: 1 identity`);
    expect(r.stderr).toContain("set SOPS_AGE_KEY_FILE");
    expect(r.stderr).not.toContain("AGE-SECRET-KEY");
    expect(r.stderr).not.toContain(alice.secret);
  });

  it("missing file exits 2, a configured but missing key file exits 128", () => {
    const r = kf(["decrypt", join(work, "nope.yaml")], { cwd: work, home, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("file not found");
    const k = kf(["decrypt", join(VEC, "sops-pr1031/example.yaml")], { cwd: work, home, env: { SOPS_AGE_KEY_FILE: join(work, "missing.txt") } });
    expect(k.code).toBe(128);
  });

  it("a tampered value exits 25 and prints no plaintext", () => {
    const d = tmp();
    const text = readFileSync(join(VEC, "sops-pr1031/example.yaml"), "utf8");
    const bad = text.replace(/^(myapp1: ENC\[AES256_GCM,data:)(.)/m, (_m, a: string, c: string) => a + (c === "A" ? "B" : "A"));
    expect(bad).not.toBe(text);
    writeFileSync(join(d, "bad.yaml"), bad);
    const r = kf(["decrypt", "bad.yaml"], { cwd: d, home, env: env() });
    expect(r.code).toBe(25);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toContain("c4r1b0u");
  });

  it("a removed value is a mac mismatch (exit 51); --ignore-mac decrypts the rest", () => {
    const d = tmp();
    const text = readFileSync(join(VEC, "sops-pr1031/example.yaml"), "utf8");
    const cut = text.replace(/^myapp1: .*\n/m, "");
    expect(cut).not.toBe(text);
    writeFileSync(join(d, "cut.yaml"), cut);
    const r = kf(["decrypt", "cut.yaml"], { cwd: d, home, env: env() });
    expect(r.code).toBe(51);
    expect(r.stderr).toContain("mac mismatch");
    const ok = kf(["decrypt", "--ignore-mac", "--extract", "app2.db.user", "cut.yaml"], { cwd: d, home, env: env() });
    expect(ok.stdout).toBe("eve");
  });
});

const PLAIN: Record<string, string | Buffer> = {
  "a.yaml": "# top\ndb:\n    user: alice\n    password: s3cr3t\nport: 5432\nratio: 0.25\nflag: true\nlist:\n    - a\n    - b\npublic_unencrypted: hello\n",
  "a.json": '{\n\t"db": {\n\t\t"user": "alice",\n\t\t"password": "s3cr3t"\n\t},\n\t"port": 5432,\n\t"list": [\n\t\t"a",\n\t\t1\n\t]\n}\n',
  "a.env": "# comment\nDB_USER=alice\nDB_PASSWORD=s3cr3t\nEMPTY=\n",
  "a.ini": "[db]\nuser     = alice\npassword = s3cr3t\n\n[other]\nx = 1\n",
  "a.bin": Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 65, 66]),
};

describe("encrypt → decrypt round trip", () => {
  for (const [name, plain] of Object.entries(PLAIN)) {
    it(`${name}: our encrypt, our decrypt, byte for byte`, () => {
      const d = tmp();
      writeFileSync(join(d, name), plain);
      const enc = kf(["encrypt", "--age", `${alice.recipient},${hostPub}`, name], { cwd: d, home });
      expect(enc.stderr).toBe("");
      expect(enc.code).toBe(0);
      expect(readFileSync(join(d, name))).toEqual(Buffer.isBuffer(plain) ? plain : Buffer.from(plain));
      expect(enc.stdout).not.toContain("s3cr3t");
      writeFileSync(join(d, "enc-" + name), enc.stdout);
      const args = name === "a.bin" ? ["--input-type", "binary"] : [];
      for (const env of [{ SOPS_AGE_KEY_FILE: alice.file }, { SOPS_AGE_SSH_PRIVATE_KEY_FILE: hostKey }]) {
        const dec = kf(["decrypt", ...args, "enc-" + name], { cwd: d, home, env });
        expect(dec.stderr).toBe("");
        expect(dec.out).toEqual(Buffer.isBuffer(plain) ? plain : Buffer.from(plain));
      }
    });
  }

  it("--in-place, then a second encrypt is refused with exit 203", () => {
    const d = tmp();
    writeFileSync(join(d, "s.yaml"), PLAIN["a.yaml"] as string);
    expect(kf(["encrypt", "-i", "--age", alice.recipient, "s.yaml"], { cwd: d, home }).code).toBe(0);
    const once = readFileSync(join(d, "s.yaml"), "utf8");
    expect(once).toMatch(/password: ENC\[AES256_GCM,/);
    expect(once).toContain("public_unencrypted: hello");
    const again = kf(["encrypt", "-i", "--age", alice.recipient, "s.yaml"], { cwd: d, home });
    expect(again.code).toBe(203);
    expect(again.stderr).toContain("already encrypted");
    expect(readFileSync(join(d, "s.yaml"), "utf8")).toBe(once);
  });

  it("--encrypted-regex leaves other keys in clear; no recipients exits 111", () => {
    const d = tmp();
    writeFileSync(join(d, "s.yaml"), PLAIN["a.yaml"] as string);
    const r = kf(["encrypt", "--age", alice.recipient, "--encrypted-regex", "^password$", "s.yaml"], { cwd: d, home });
    expect(r.stdout).toContain("user: alice");
    expect(r.stdout).toMatch(/password: ENC\[/);
    expect(r.stdout).toContain("encrypted_regex: ^password$");
    expect(kf(["encrypt", "s.yaml"], { cwd: d, home }).code).toBe(111);
  });

  it("recipients and rules from the .sops.yaml creation rule", () => {
    const d = tmp();
    mkdirSync(join(d, "secrets"));
    writeFileSync(join(d, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    encrypted_regex: ^password$\n    age: ${alice.recipient},${bob.recipient}\n`);
    writeFileSync(join(d, "secrets/s.yaml"), PLAIN["a.yaml"] as string);
    const r = kf(["encrypt", "secrets/s.yaml"], { cwd: d, home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`recipient: ${bob.recipient}`);
    expect(r.stdout).toContain("user: alice");
  });

  it("the real age CLI decrypts the enc entries we wrote (x25519 and ssh-ed25519)", () => {
    const d = tmp();
    writeFileSync(join(d, "s.json"), PLAIN["a.json"] as string);
    const r = kf(["encrypt", "--age", `${alice.recipient},${hostPub}`, "s.json"], { cwd: d, home });
    const age = (JSON.parse(r.stdout) as { sops: { age: { recipient: string; enc: string }[] } }).sops.age;
    expect(age.map((a) => a.recipient)).toEqual([alice.recipient, hostPub.split(" ").slice(0, 2).join(" ")]);
    const keys = age.map((a, i) => {
      writeFileSync(join(d, `enc${i}`), a.enc);
      const out = spawnSync("age", ["-d", "-i", i === 0 ? alice.file : hostKey, join(d, `enc${i}`)]);
      expect(out.stderr.toString()).toBe("");
      expect(out.status).toBe(0);
      return out.stdout;
    });
    expect(keys[0]).toHaveLength(32);
    expect(keys[1]).toEqual(keys[0]);
    // the ssh entry is the native ssh-ed25519 stanza
    const header = (i: number) => Buffer.from(age[i]!.enc.split("\n").slice(1, -2).join(""), "base64").toString("latin1");
    expect(header(0)).toContain("\n-> X25519 ");
    expect(header(1)).toContain("\n-> ssh-ed25519 ");
  });
});

/** An encrypted project: .sops.yaml naming alice and bob, secrets/app.yaml for alice. */
function project(): string {
  const d = tmp();
  mkdirSync(join(d, "secrets"));
  mkdirSync(join(d, ".git"));
  writeFileSync(join(d, ".sops.yaml"), `keys:\n  - &alice ${alice.recipient}\n  - &bob ${bob.recipient}\ncreation_rules:\n  - path_regex: ^secrets/\n    age: *alice\n`);
  writeFileSync(join(d, "secrets/app.yaml"), PLAIN["a.yaml"] as string);
  expect(kf(["encrypt", "-i", "secrets/app.yaml"], { cwd: d, home }).code).toBe(0);
  return d;
}

describe("set", () => {
  it("reads the value from stdin (never argv), changes exactly one ENC line, logs the key name", async () => {
    const d = project();
    const before = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const secret = "n3w-Pa55-" + Math.random().toString(36).slice(2);
    const child = spawn(process.execPath, [CLI, "set", "secrets/app.yaml", '["db"]["password"]'], {
      cwd: d,
      env: { PATH: process.env.PATH, HOME: home, SOPS_AGE_KEY_FILE: alice.file },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    // while the value is not yet sent, the process's argv is what it will ever be
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, "utf8");
    expect(cmdline).toContain("set\0secrets/app.yaml");
    expect(cmdline).not.toContain(secret);
    child.stdin.end(secret + "\n");
    const code = await new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const after = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const diff = lineDiff(before, after);
    const data = (ls: string[]) => ls.filter((l) => !/^\s+(lastmodified|mac):/.test(l));
    expect(data(diff.removed)).toHaveLength(1);
    expect(data(diff.added)).toHaveLength(1);
    expect(data(diff.added)[0]).toMatch(/^ {4}password: ENC\[AES256_GCM,/);
    expect(after).not.toContain(secret);
    const got = kf(["decrypt", "--extract", "db.password", "secrets/app.yaml"], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: alice.file } });
    expect(got.stdout).toBe(secret);
    const log = readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8");
    expect(log).not.toContain(secret);
    const entry = JSON.parse(log.trim().split("\n").pop() as string) as { file: string; operation: string; keysChanged: string[] };
    expect(entry).toMatchObject({ file: "secrets/app.yaml", operation: "set-values", keysChanged: ["db.password"] });
    const audit = kf(["audit"], { cwd: d, home });
    expect(audit.stdout).not.toContain(secret);
    expect(audit.stdout).toContain("db.password");
  });

  it("dotted paths, --json numbers, dotenv keys; a wrong identity changes nothing (exit 128)", () => {
    const d = tmp();
    writeFileSync(join(d, "a.env"), PLAIN["a.env"] as string);
    expect(kf(["encrypt", "-i", "--age", alice.recipient, "a.env"], { cwd: d, home }).code).toBe(0);
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    expect(kf(["set", "a.env", "NEW_KEY"], { cwd: d, home, env, input: "v1" }).code).toBe(0);
    expect(kf(["decrypt", "a.env"], { cwd: d, home, env }).stdout).toContain("NEW_KEY=v1\n");
    const before = readFileSync(join(d, "a.env"), "utf8");
    const bad = kf(["set", "a.env", "DB_PASSWORD"], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: bob.file }, input: "zzz" });
    expect(bad.code).toBe(128);
    expect(readFileSync(join(d, "a.env"), "utf8")).toBe(before);
    const y = project();
    expect(kf(["set", "--json", "secrets/app.yaml", "port"], { cwd: y, home, env, input: "6543" }).code).toBe(0);
    expect(kf(["decrypt", "--extract", "port", "--output-type", "json", "secrets/app.yaml"], { cwd: y, home, env }).stdout).toBe("6543");
  });

  it("reads a value from a terminal without echoing it", async () => {
    const d = project();
    const secret = "tty-" + Math.random().toString(36).slice(2);
    // script(1) gives the CLI a pseudo-terminal on stdin; the value is typed once the prompt shows
    const cmd = `${process.execPath} ${CLI} set secrets/app.yaml db.password`;
    const child = spawn("script", ["-qec", cmd, "/dev/null"], {
      cwd: d,
      env: { PATH: process.env.PATH, HOME: home, SOPS_AGE_KEY_FILE: alice.file, TERM: "dumb" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let shown = "";
    let typed = false;
    child.stdout.on("data", (c: Buffer) => {
      shown += c.toString();
      if (!typed && shown.includes("(input hidden): ")) {
        typed = true;
        child.stdin.write(secret + "\r");
      }
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
    clearTimeout(timer);
    child.stdin.destroy();
    expect(typed).toBe(true);
    expect(code).toBe(0);
    expect(shown).not.toContain(secret);
    expect(kf(["decrypt", "--extract", "db.password", "secrets/app.yaml"], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: alice.file } }).stdout).toBe(secret);
  });
});

describe("updatekeys and rotate", () => {
  it("updatekeys adds bob from .sops.yaml: refused without a terminal, then -y; only new lines", () => {
    const d = project();
    writeFileSync(join(d, ".sops.yaml"), readFileSync(join(d, ".sops.yaml"), "utf8").replace("age: *alice", `age: ${alice.recipient},${bob.recipient}`));
    const before = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const refused = kf(["updatekeys", "secrets/app.yaml"], { cwd: d, home, env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("+++ bob (");
    expect(refused.stderr).toContain("pass -y");
    expect(readFileSync(join(d, "secrets/app.yaml"), "utf8")).toBe(before);
    const ok = kf(["updatekeys", "-y", "secrets/app.yaml"], { cwd: d, home, env });
    expect(ok.code).toBe(0);
    const after = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const diff = lineDiff(before, after);
    expect(diff.removed).toEqual([]);
    expect(diff.added.join("\n")).toContain(`recipient: ${bob.recipient}`);
    expect(kf(["decrypt", "--extract", "db.password", "secrets/app.yaml"], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: bob.file } }).stdout).toBe("s3cr3t");
    expect(kf(["updatekeys", "-y", "secrets/app.yaml"], { cwd: d, home, env }).stderr).toContain("already up to date");
    const entry = JSON.parse(readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8").trim().split("\n").pop() as string) as { operation: string; recipientsAdded: { name: string }[] };
    expect(entry.operation).toBe("add-recipients");
    expect(entry.recipientsAdded.map((r) => r.name)).toEqual(["bob"]);
  });

  it("rotate --rm-age alice --add-age bob: alice fails with 128 naming recipients, bob decrypts; exposure logged", () => {
    const d = project();
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const r = kf(["rotate", "secrets/app.yaml", "--rm-age", alice.recipient, "--add-age", bob.recipient], { cwd: d, home, env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("alice (SHA256:");
    expect(r.stderr).toContain("rotate these values");
    const fail = kf(["decrypt", "secrets/app.yaml"], { cwd: d, home, env });
    expect(fail.code).toBe(128);
    expect(fail.stderr).toContain("its recipients are bob (age1");
    expect(fail.stderr).not.toContain(alice.secret);
    expect(kf(["decrypt", "--extract", "db.user", "secrets/app.yaml"], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: bob.file } }).stdout).toBe("alice");
    const entry = JSON.parse(readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8").trim().split("\n").pop() as string) as { operation: string; exposure: { recipient: string; keys: string[] }[] };
    expect(entry.operation).toBe("rotate");
    expect(entry.exposure[0]).toMatchObject({ recipient: "alice" });
    expect(entry.exposure[0]?.keys).toContain("db.password");
  });

  it("rotate without flags re-encrypts every value; --rm-age of a stranger is refused", () => {
    const d = project();
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const before = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    expect(kf(["rotate", "secrets/app.yaml"], { cwd: d, home, env }).code).toBe(0);
    const after = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const enc = (t: string) => t.match(/ENC\[[^\]]+\]/g) ?? [];
    expect(enc(after).filter((e) => enc(before).includes(e))).toEqual([]);
    expect(kf(["decrypt", "--extract", "db.password", "secrets/app.yaml"], { cwd: d, home, env }).stdout).toBe("s3cr3t");
    const r = kf(["rotate", "secrets/app.yaml", "--rm-age", bob.recipient], { cwd: d, home, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not a recipient");
  });
});

describe("exec-env", () => {
  const show = "process.stdout.write(String(process.env.DB_PASSWORD) + '|' + String(process.env.DB_USER))";
  it("values only in the child's environment; --only filters; exit code passed through", () => {
    const d = tmp();
    writeFileSync(join(d, "a.env"), PLAIN["a.env"] as string);
    expect(kf(["encrypt", "-i", "--age", alice.recipient, "a.env"], { cwd: d, home }).code).toBe(0);
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const all = kf(["exec-env", "a.env", "--", process.execPath, "-e", show], { cwd: d, home, env });
    expect(all.stderr).toBe("");
    expect(all.stdout).toBe("s3cr3t|alice");
    const only = kf(["exec-env", "a.env", "--only", "DB_USER", "--", process.execPath, "-e", show], { cwd: d, home, env });
    expect(only.stdout).toBe("undefined|alice");
    expect(kf(["exec-env", "a.env", "--", process.execPath, "-e", "process.exit(7)"], { cwd: d, home, env }).code).toBe(7);
    expect(kf(["exec-env", "a.env", "--only", "NOPE", "--", "true"], { cwd: d, home, env }).code).toBe(1);
    expect(kf(["exec-env", "a.env"], { cwd: d, home, env }).code).toBe(2);
  });
});

describe("audit", () => {
  it("lists recipients with names from .sops.yaml anchors and .keyfleet/names, and key names; no key needed", () => {
    const d = project();
    writeFileSync(join(d, "notes.yaml"), "not: sops\n");
    writeFileSync(join(d, "secrets/b.env"), PLAIN["a.env"] as string);
    expect(kf(["encrypt", "-i", "--age", `${bob.recipient},${hostPub}`, "secrets/b.env"], { cwd: d, home }).code).toBe(0);
    mkdirSync(join(d, ".keyfleet"), { recursive: true });
    writeFileSync(join(d, ".keyfleet/names"), `# name recipient\nweb-1 ${hostPub}\n`);
    const r = kf(["audit"], { cwd: d, home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("secrets/app.yaml (yaml");
    expect(r.stdout).toMatch(/recipients: alice \(age1/);
    expect(r.stdout).toMatch(/bob \(age1\w+…\w+\): secrets\/b\.env/);
    expect(r.stdout).toMatch(/web-1 \(ssh-ed25519 AAAA…[^)]+\): secrets\/b\.env/);
    expect(r.stdout).toContain("encrypted keys: db.user, db.password");
    expect(r.stdout).not.toContain("notes.yaml");
    expect(r.stdout).not.toContain("s3cr3t");
    const j = JSON.parse(kf(["audit", "--json", "secrets"], { cwd: d, home }).stdout) as { file: string; recipients: { recipient: string; name: string | null }[]; keys: { name: string; encrypted: boolean }[] }[];
    expect(j.map((f) => f.file)).toEqual(["app.yaml", "b.env"]);
    expect(j[0]?.recipients).toEqual([{ recipient: alice.recipient, name: "alice" }]);
    expect(j[0]?.keys).toContainEqual({ name: "public_unencrypted", encrypted: false });
    expect(kf(["audit", "nope"], { cwd: d, home }).code).toBe(2);
  });
});
