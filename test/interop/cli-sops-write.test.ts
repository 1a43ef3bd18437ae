/**
 * The verbs of the `keyfleet` CLI that change or use a sops file (set, updatekeys, rotate, exec-env,
 * audit) end to end, spawning the built CLI (see ./cli-helpers.ts) in temp projects.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, PLAIN, cleanupTmp, kf, lineDiff, project as makeProject, setupKeys, tmp, type Keys } from "./cli-helpers";

let home: Keys["home"], alice: Keys["alice"], bob: Keys["bob"], hostKey: Keys["hostKey"], hostPub: Keys["hostPub"];
beforeAll(() => {
  ({ home, alice, bob, hostKey, hostPub } = setupKeys());
});
afterAll(cleanupTmp);
const project = (): string => makeProject({ home, alice, bob });

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
    const got = kf(["decrypt", "--extract", "db.password", "secrets/app.yaml"], {
      cwd: d,
      home,
      env: { SOPS_AGE_KEY_FILE: alice.file },
    });
    expect(got.stdout).toBe(secret);
    const log = readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8");
    expect(log).not.toContain(secret);
    const entry = JSON.parse(log.trim().split("\n").pop() as string) as {
      file: string;
      operation: string;
      keysChanged: string[];
    };
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
    const bad = kf(["set", "a.env", "DB_PASSWORD"], {
      cwd: d,
      home,
      env: { SOPS_AGE_KEY_FILE: bob.file },
      input: "zzz",
    });
    expect(bad.code).toBe(128);
    expect(readFileSync(join(d, "a.env"), "utf8")).toBe(before);
    const y = project();
    expect(kf(["set", "--json", "secrets/app.yaml", "port"], { cwd: y, home, env, input: "6543" }).code).toBe(0);
    expect(
      kf(["decrypt", "--extract", "port", "--output-type", "json", "secrets/app.yaml"], { cwd: y, home, env }).stdout,
    ).toBe("6543");
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
    expect(
      kf(["decrypt", "--extract", "db.password", "secrets/app.yaml"], {
        cwd: d,
        home,
        env: { SOPS_AGE_KEY_FILE: alice.file },
      }).stdout,
    ).toBe(secret);
  });
});

describe("updatekeys and rotate", () => {
  it("updatekeys adds bob from .sops.yaml: refused without a terminal, then -y; only new lines", () => {
    const d = project();
    writeFileSync(
      join(d, ".sops.yaml"),
      readFileSync(join(d, ".sops.yaml"), "utf8").replace("age: *alice", `age: ${alice.recipient},${bob.recipient}`),
    );
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
    expect(
      kf(["decrypt", "--extract", "db.password", "secrets/app.yaml"], {
        cwd: d,
        home,
        env: { SOPS_AGE_KEY_FILE: bob.file },
      }).stdout,
    ).toBe("s3cr3t");
    expect(kf(["updatekeys", "-y", "secrets/app.yaml"], { cwd: d, home, env }).stderr).toContain("already up to date");
    const entry = JSON.parse(
      readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8").trim().split("\n").pop() as string,
    ) as { operation: string; recipientsAdded: { name: string }[] };
    expect(entry.operation).toBe("add-recipients");
    expect(entry.recipientsAdded.map((r) => r.name)).toEqual(["bob"]);
  });

  it("updatekeys of a file no creation rule matches exits 61 and does not suggest --age (updatekeys has none)", () => {
    const d = project();
    mkdirSync(join(d, "elsewhere"), { recursive: true });
    writeFileSync(join(d, "elsewhere/x.yaml"), readFileSync(join(d, "secrets/app.yaml")));
    const r = kf(["updatekeys", "-y", "elsewhere/x.yaml"], { cwd: d, home, env: { SOPS_AGE_KEY_FILE: alice.file } });
    expect(r.code).toBe(61);
    expect(r.stderr).toMatch(
      /no creation rule matches elsewhere\/x\.yaml; add a creation rule whose path_regex matches the file\n$/,
    );
    expect(r.stderr).not.toContain("--age");
  });

  it("rotate --rm-age alice --add-age bob: alice fails with 128 naming recipients, bob decrypts; exposure logged", () => {
    const d = project();
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const r = kf(["rotate", "-i", "secrets/app.yaml", "--rm-age", alice.recipient, "--add-age", bob.recipient], {
      cwd: d,
      home,
      env,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("alice (SHA256:");
    expect(r.stderr).toContain("rotate these values");
    const fail = kf(["decrypt", "secrets/app.yaml"], { cwd: d, home, env });
    expect(fail.code).toBe(128);
    expect(fail.stderr).toContain("its recipients are bob (age1");
    expect(fail.stderr).not.toContain(alice.secret);
    expect(
      kf(["decrypt", "--extract", "db.user", "secrets/app.yaml"], {
        cwd: d,
        home,
        env: { SOPS_AGE_KEY_FILE: bob.file },
      }).stdout,
    ).toBe("alice");
    const entry = JSON.parse(
      readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8").trim().split("\n").pop() as string,
    ) as { operation: string; exposure: { recipient: string; keys: string[] }[] };
    expect(entry.operation).toBe("rotate");
    expect(entry.exposure[0]).toMatchObject({ recipient: "alice" });
    expect(entry.exposure[0]?.keys).toContain("db.password");
  });

  it("an ssh key's comment is kept as sops keeps it, and the key with or without it is the same recipient", () => {
    const d = project();
    const bare = hostPub.split(" ").slice(0, 2).join(" ");
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    writeFileSync(join(d, "secrets/h.yaml"), PLAIN["a.yaml"] as string);
    expect(
      kf(["encrypt", "-i", "--age", `${alice.recipient},${hostPub}`, "secrets/h.yaml"], { cwd: d, home }).code,
    ).toBe(0);
    const before = readFileSync(join(d, "secrets/h.yaml"), "utf8");
    expect(before).toContain(`recipient: ${hostPub}\n`);
    // .sops.yaml lists the key without its comment: nothing to do, the file stays byte-identical
    writeFileSync(
      join(d, ".sops.yaml"),
      readFileSync(join(d, ".sops.yaml"), "utf8").replace("age: *alice", `age: ${alice.recipient},${bare}`),
    );
    const up = kf(["updatekeys", "-y", "secrets/h.yaml"], { cwd: d, home, env });
    expect(up.stderr).toContain("already up to date");
    expect(readFileSync(join(d, "secrets/h.yaml"), "utf8")).toBe(before);
    // rotate --add-age of the same key adds no second entry and keeps the comment
    expect(kf(["rotate", "-i", "secrets/h.yaml", "--add-age", `${bare} other-name`], { cwd: d, home, env }).code).toBe(
      0,
    );
    const rotated = readFileSync(join(d, "secrets/h.yaml"), "utf8");
    expect(rotated).not.toBe(before);
    expect(rotated.match(/recipient:.*/g)).toEqual([`recipient: ${alice.recipient}`, `recipient: ${hostPub}`]);
    expect(
      kf(["decrypt", "--extract", "db.password", "secrets/h.yaml"], {
        cwd: d,
        home,
        env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: hostKey },
      }).stdout,
    ).toBe("s3cr3t");
    // --rm-age without the comment removes it
    expect(kf(["rotate", "-i", "secrets/h.yaml", "--rm-age", bare], { cwd: d, home, env }).code).toBe(0);
    expect(readFileSync(join(d, "secrets/h.yaml"), "utf8").match(/recipient:.*/g)).toEqual([
      `recipient: ${alice.recipient}`,
    ]);
    expect(
      kf(["decrypt", "secrets/h.yaml"], { cwd: d, home, env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: hostKey } }).code,
    ).toBe(128);
  });

  it("rotate without flags re-encrypts every value; --rm-age of a stranger is refused", () => {
    const d = project();
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const before = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    expect(kf(["rotate", "-i", "secrets/app.yaml"], { cwd: d, home, env }).code).toBe(0);
    const after = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const enc = (t: string): string[] => t.match(/ENC\[[^\]]+\]/g) ?? [];
    expect(enc(after).filter((e) => enc(before).includes(e))).toEqual([]);
    expect(kf(["decrypt", "--extract", "db.password", "secrets/app.yaml"], { cwd: d, home, env }).stdout).toBe(
      "s3cr3t",
    );
    const r = kf(["rotate", "-i", "secrets/app.yaml", "--rm-age", bob.recipient], { cwd: d, home, env });
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
    const only = kf(["exec-env", "a.env", "--only", "DB_USER", "--", process.execPath, "-e", show], {
      cwd: d,
      home,
      env,
    });
    expect(only.stdout).toBe("undefined|alice");
    expect(kf(["exec-env", "a.env", "--", process.execPath, "-e", "process.exit(7)"], { cwd: d, home, env }).code).toBe(
      7,
    );
    expect(kf(["exec-env", "a.env", "--only", "NOPE", "--", "true"], { cwd: d, home, env }).code).toBe(1);
    expect(kf(["exec-env", "a.env"], { cwd: d, home, env }).code).toBe(2);
    // sops takes the command as one shell string; keyfleet does not, and says how to write it
    const oneString = kf(["exec-env", "a.env", "./migrate --up"], { cwd: d, home, env });
    expect(oneString.code).toBe(1);
    expect(oneString.stderr).toContain("runs CMD without a shell: split it into words after --");
    expect(oneString.stderr).not.toContain("s3cr3t");
  });
});

describe("audit", () => {
  it("lists recipients with names from .sops.yaml anchors and .keyfleet/names, and key names; no key needed", () => {
    const d = project();
    writeFileSync(join(d, "notes.yaml"), "not: sops\n");
    writeFileSync(join(d, "secrets/b.env"), PLAIN["a.env"] as string);
    expect(kf(["encrypt", "-i", "--age", `${bob.recipient},${hostPub}`, "secrets/b.env"], { cwd: d, home }).code).toBe(
      0,
    );
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
    const j = JSON.parse(kf(["audit", "--json", "secrets"], { cwd: d, home }).stdout) as {
      file: string;
      recipients: { recipient: string; name: string | null }[];
      keys: { name: string; encrypted: boolean }[];
    }[];
    expect(j.map((f) => f.file)).toEqual(["app.yaml", "b.env"]);
    expect(j[0]?.recipients).toEqual([{ recipient: alice.recipient, name: "alice" }]);
    // b.env records the host key with its comment (as sops); audit reports the key and its name
    expect(readFileSync(join(d, "secrets/b.env"), "utf8")).toContain(`sops_age__list_1__map_recipient=${hostPub}\n`);
    expect(j[1]?.recipients).toEqual([
      { recipient: bob.recipient, name: "bob" },
      { recipient: hostPub.split(" ").slice(0, 2).join(" "), name: "web-1" },
    ]);
    expect(j[0]?.keys).toContainEqual({ name: "public_unencrypted", encrypted: false });
    expect(kf(["audit", "nope"], { cwd: d, home }).code).toBe(2);
  });
});
