/**
 * `keyfleet edit` end to end with non-interactive editors: node programs given through $EDITOR
 * (see ./edit-helpers.ts), the built CLI spawned in temp projects (./cli-helpers.ts). New values
 * reach the editor programs through the environment, so no script holds plaintext; the last test
 * searches every temp directory for the plaintext used.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMetadata } from "../../provider/sops";
import { PLAIN, cleanupTmp, kf, lineDiff, project as makeProject, setupKeys, tmp, type Keys } from "./cli-helpers";
import {
  alive,
  editBase,
  editorScript,
  findPlaintext,
  kfBg,
  makeRuntimeDir,
  nextSecond,
  removeDir,
  runDirs,
  waitFor,
} from "./edit-helpers";

let keys: Keys;
let xdg: string;
const used: string[] = ["s3cr3t"];
/** A fresh plaintext value, remembered for the final search. */
const secret = (name: string): string => {
  const v = `${name}-${randomBytes(6).toString("hex")}`;
  used.push(v);
  return v;
};

beforeAll(() => {
  keys = setupKeys();
  xdg = makeRuntimeDir();
});
afterAll(() => {
  cleanupTmp();
  removeDir(xdg);
});

const project = (): string => makeProject(keys);
const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  SOPS_AGE_KEY_FILE: keys.alice.file,
  XDG_RUNTIME_DIR: xdg,
  TMPDIR: process.env.TMPDIR as string,
  ...extra,
});
const run = (d: string, args: string[], extra: Record<string, string> = {}) =>
  kf(args, { cwd: d, home: keys.home, env: env(extra) });
const decryptJson = (d: string, f: string): Record<string, unknown> =>
  JSON.parse(run(d, ["decrypt", "--output-type", "json", f]).stdout) as Record<string, unknown>;
const lastAudit = (d: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8").trim().split("\n").pop() as string) as Record<
    string,
    unknown
  >;
/** Lines that are neither lastmodified nor mac (in any format's spelling). */
const data = (ls: string[]): string[] => ls.filter((l) => !/(lastmodified|mac)["]?\s*[:=]/.test(l) && l !== "");
const scripts = (): string => join(tmp(), "editors");

describe("edit an existing file", () => {
  it("change one value: exactly that ciphertext, the mac and lastmodified change; temp 0600 in a 0700 dir on tmpfs; the key is not in the editor's env", async () => {
    const d = project();
    const before = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    await nextSecond(); // so that lastmodified must change
    const rec = join(d, "rec.json");
    const ed = editorScript(
      scripts(),
      `
      const st = fs.statSync(file), dst = fs.statSync(require("node:path").dirname(file));
      fs.writeFileSync(process.env.REC, JSON.stringify({ file, fileMode: st.mode & 0o777, dirMode: dst.mode & 0o777, keyInEnv: "SOPS_AGE_KEY" in process.env }));
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("s3cr3t", process.env.ED_NEW));`,
    );
    const nv = secret("pw");
    const r = kf(["edit", "secrets/app.yaml"], {
      cwd: d,
      home: keys.home,
      env: { SOPS_AGE_KEY: keys.alice.secret, XDG_RUNTIME_DIR: xdg, EDITOR: ed, ED_NEW: nv, REC: rec },
    });
    expect(r.stderr).toBe("keyfleet: saved secrets/app.yaml (1 changed)\n");
    expect(r.code).toBe(0);
    const after = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const diff = lineDiff(before, after);
    expect(diff.removed.map((l) => l.trim().split(":")[0]).sort()).toEqual(["lastmodified", "mac", "password"]);
    expect(diff.added.map((l) => l.trim().split(":")[0]).sort()).toEqual(["lastmodified", "mac", "password"]);
    expect(after).not.toContain(nv);
    expect((decryptJson(d, "secrets/app.yaml").db as Record<string, unknown>).password).toBe(nv);
    const seen = JSON.parse(readFileSync(rec, "utf8")) as {
      file: string;
      fileMode: number;
      dirMode: number;
      keyInEnv: boolean;
    };
    expect(seen).toMatchObject({ fileMode: 0o600, dirMode: 0o700, keyInEnv: false });
    expect(seen.file.startsWith(xdg + "/keyfleet-edit.")).toBe(true);
    expect(existsSync(seen.file)).toBe(false);
    expect(runDirs(xdg)).toEqual([]);
    const a = lastAudit(d);
    expect(a).toMatchObject({
      file: "secrets/app.yaml",
      operation: "set-values",
      keysChanged: ["db.password"],
      keysAdded: [],
      keysRemoved: [],
    });
    expect(JSON.stringify(a)).not.toContain(nv);
  });

  it("add a key and delete a key: others keep their ciphertext; the audit names both, never a value", () => {
    const d = project();
    const before = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const ed = editorScript(
      scripts(),
      `
      const t = fs.readFileSync(file, "utf8").replace(/^port: .*\\n/m, "") + "api_token: " + process.env.ED_NEW + "\\n";
      fs.writeFileSync(file, t);`,
    );
    const nv = secret("tok");
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: ed, ED_NEW: nv });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("(1 added, 1 removed)");
    const after = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    const diff = lineDiff(before, after);
    expect(data(diff.removed).map((l) => l.split(":")[0])).toEqual(["port"]);
    expect(data(diff.added).map((l) => l.split(":")[0])).toEqual(["api_token"]);
    const plain = decryptJson(d, "secrets/app.yaml");
    expect(plain.api_token).toBe(nv);
    expect("port" in plain).toBe(false);
    expect(Object.keys(plain)).toEqual(["db", "ratio", "flag", "list", "public_unencrypted", "api_token"]);
    expect(lastAudit(d)).toMatchObject({ keysChanged: ["api_token"], keysAdded: ["api_token"], keysRemoved: ["port"] });
    expect(readFileSync(join(d, ".keyfleet/audit.jsonl"), "utf8")).not.toContain(nv);
  });

  it("no change (and the same data re-indented): nothing written, says so, exit 0, no audit line", () => {
    const d = project();
    const before = readFileSync(join(d, "secrets/app.yaml"));
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: "true" });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("keyfleet: no changes; secrets/app.yaml left as it was\n");
    const reindent = editorScript(
      scripts(),
      `fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^    /gm, "  "));`,
    );
    const r2 = run(d, ["edit", "secrets/app.yaml"], { EDITOR: reindent });
    expect(r2.code).toBe(0);
    expect(r2.stderr).toBe("keyfleet: no changes; secrets/app.yaml left as it was\n");
    expect(readFileSync(join(d, "secrets/app.yaml")).equals(before)).toBe(true);
    expect(existsSync(join(d, ".keyfleet/audit.jsonl"))).toBe(false);
  });

  it("invalid YAML reopens the editor with the error on top; the fix is saved without the header", () => {
    const d = project();
    const rec = join(d, "rounds.json");
    const ed = editorScript(
      scripts(),
      `
      const rounds = fs.existsSync(process.env.REC) ? JSON.parse(fs.readFileSync(process.env.REC, "utf8")) : [];
      const t = fs.readFileSync(file, "utf8");
      const header = t.split("\\n").filter((l) => l.startsWith("# keyfleet edit: "));
      rounds.push({ headerLines: header.length, mentionsGiveUp: header.join(" ").includes("quit without saving to give up") });
      fs.writeFileSync(process.env.REC, JSON.stringify(rounds));
      if (rounds.length === 1) fs.writeFileSync(file, "db: [unclosed\\n" + t);
      else fs.writeFileSync(file, t.replace("db: [unclosed\\n", "").replace("s3cr3t", process.env.ED_NEW));`,
    );
    const nv = secret("fixed");
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: ed, ED_NEW: nv, REC: rec });
    expect(r.stderr).toBe("keyfleet: saved secrets/app.yaml (1 changed)\n");
    expect(r.code).toBe(0);
    const rounds = JSON.parse(readFileSync(rec, "utf8")) as { headerLines: number; mentionsGiveUp: boolean }[];
    expect(rounds).toHaveLength(2);
    expect(rounds[0]?.headerLines).toBe(0);
    expect(rounds[1]?.headerLines).toBeGreaterThan(1);
    expect(rounds[1]?.mentionsGiveUp).toBe(true);
    const plain = decryptJson(d, "secrets/app.yaml");
    expect((plain.db as Record<string, unknown>).password).toBe(nv);
    // the header was not stored as comments
    expect(run(d, ["decrypt", "secrets/app.yaml"]).stdout).not.toContain("keyfleet edit");
  });

  it("json and dotenv parse errors reopen too; the header (not json, not dotenv) is removed before parsing", () => {
    for (const [name, broken] of [
      ["a.json", "{ not json"],
      ["a.env", "LINE WITHOUT EQUALS"],
    ] as const) {
      const d = tmp();
      writeFileSync(join(d, name), PLAIN[name] as string);
      expect(run(d, ["encrypt", "-i", "--age", keys.alice.recipient, name]).code).toBe(0);
      const plainBefore = run(d, ["decrypt", name]).stdout;
      const ed = editorScript(
        scripts(),
        `
        const t = fs.readFileSync(file, "utf8");
        if (!t.startsWith("# keyfleet edit: ")) fs.writeFileSync(file, process.env.BROKEN + "\\n" + t);
        else fs.writeFileSync(file, t.replace(process.env.BROKEN + "\\n", "").replace("s3cr3t", process.env.ED_NEW));`,
      );
      const nv = secret("fix");
      const r = run(d, ["edit", name], { EDITOR: ed, ED_NEW: nv, BROKEN: broken });
      expect(r.stderr, name).toContain("(1 changed)");
      expect(r.code, name).toBe(0);
      expect(run(d, ["decrypt", name]).stdout, name).toBe(plainBefore.replace("s3cr3t", nv));
    }
  });

  it("invalid text, then quitting without a change: gives up (exit 200), the file stays as it was", () => {
    const d = project();
    const before = readFileSync(join(d, "secrets/app.yaml"));
    const ed = editorScript(
      scripts(),
      `
      const t = fs.readFileSync(file, "utf8");
      if (!t.startsWith("# keyfleet edit: ")) fs.writeFileSync(file, "db: [unclosed\\n" + t);`,
    );
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: ed });
    expect(r.code).toBe(200);
    expect(r.stderr).toBe("keyfleet: edit given up after a parse error; secrets/app.yaml left as it was\n");
    expect(readFileSync(join(d, "secrets/app.yaml")).equals(before)).toBe(true);
    expect(runDirs(xdg)).toEqual([]);
  });

  it("editor exit 1 or a crash: nothing written, exit 201 says why, temp removed", () => {
    const d = project();
    const before = readFileSync(join(d, "secrets/app.yaml"));
    const fail = editorScript(
      scripts(),
      `fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("s3cr3t", "x")); process.exit(1);`,
    );
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: fail });
    expect(r.code).toBe(201);
    expect(r.stderr).toContain("the editor exited with status 1; nothing was written");
    const crash = editorScript(scripts(), `fs.writeFileSync(file, "x: 1\\n"); process.kill(process.pid, "SIGSEGV");`);
    const r2 = run(d, ["edit", "secrets/app.yaml"], { EDITOR: crash });
    expect(r2.code).toBe(201);
    expect(r2.stderr).toContain("the editor was killed by SIGSEGV; nothing was written");
    const missing = run(d, ["edit", "secrets/app.yaml"], { EDITOR: join(d, "no-such-editor") });
    expect(missing.code).toBe(201);
    expect(missing.stderr).toContain("cannot run the editor");
    expect(readFileSync(join(d, "secrets/app.yaml")).equals(before)).toBe(true);
    expect(runDirs(xdg)).toEqual([]);
    expect(existsSync(join(d, ".keyfleet/audit.jsonl"))).toBe(false);
  });

  it("$EDITOR is split into words like a shell (quotes kept together) and run without a shell", () => {
    const d = project();
    const dir = join(tmp(), "dir with space");
    const rec = join(d, "argv.json");
    editorScript(dir, `fs.writeFileSync(process.env.REC, JSON.stringify(args.slice(0, -1)));`, "ed.js");
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: `'${dir}/ed.js' --flag "two words" $HOME;x`, REC: rec });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(rec, "utf8"))).toEqual(["--flag", "two words", "$HOME;x"]);
    // $SOPS_EDITOR wins over $VISUAL and $EDITOR
    const r2 = run(d, ["edit", "secrets/app.yaml"], { SOPS_EDITOR: "false", VISUAL: "true", EDITOR: "true" });
    expect(r2.code).toBe(201);
  });

  it("every format: json, dotenv and ini edit as text, binary as raw bytes; one ciphertext changes", () => {
    for (const name of ["a.json", "a.env", "a.ini", "a.bin"]) {
      const d = tmp();
      writeFileSync(join(d, name), PLAIN[name] as string | Buffer);
      expect(run(d, ["encrypt", "-i", "--age", keys.alice.recipient, name]).code).toBe(0);
      const before = readFileSync(join(d, name), "utf8");
      const plainBefore = run(d, ["decrypt", name]).out;
      const nv = secret("fmt");
      const ed =
        name === "a.bin"
          ? editorScript(
              scripts(),
              `const b = fs.readFileSync(file); if (b[0] !== 0 || b[3] !== 0xff) process.exit(3); fs.writeFileSync(file, Buffer.concat([b, Buffer.from(process.env.ED_NEW)]));`,
            )
          : editorScript(
              scripts(),
              `fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("s3cr3t", process.env.ED_NEW));`,
            );
      const r = run(d, ["edit", name], { EDITOR: ed, ED_NEW: nv });
      expect(r.stderr, name).toContain("(1 changed)");
      expect(r.code, name).toBe(0);
      const after = readFileSync(join(d, name), "utf8");
      const diff = lineDiff(before, after);
      expect(data(diff.removed), name).toHaveLength(1);
      expect(data(diff.added), name).toHaveLength(1);
      expect(after).not.toContain(nv);
      const out = run(d, ["decrypt", name]).out;
      if (name === "a.bin") expect(out.equals(Buffer.concat([PLAIN[name] as Buffer, Buffer.from(nv)]))).toBe(true);
      else expect(out.toString()).toBe(plainBefore.toString().replace("s3cr3t", nv));
    }
  });

  it("bare `keyfleet FILE` edits; an unknown word is still an unknown verb", () => {
    const d = project();
    const ed = editorScript(
      scripts(),
      `fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("s3cr3t", process.env.ED_NEW));`,
    );
    const nv = secret("bare");
    const r = run(d, ["secrets/app.yaml"], { EDITOR: ed, ED_NEW: nv });
    expect(r.code).toBe(0);
    expect((decryptJson(d, "secrets/app.yaml").db as Record<string, unknown>).password).toBe(nv);
    const bad = run(d, ["frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown verb");
  });
});

describe("edit: files changing and processes dying", () => {
  it("the file changed while the editor was open: refused, the edit kept as a 0600 file whose path is printed", () => {
    const d = project();
    const ed = editorScript(
      scripts(),
      `
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("s3cr3t", process.env.ED_NEW));
      fs.appendFileSync(process.env.TARGET, "# someone else\\n");`,
    );
    const nv = secret("lost");
    const target = join(d, "secrets/app.yaml");
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: ed, ED_NEW: nv, TARGET: target });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("secrets/app.yaml changed while the editor was open; nothing was written");
    const kept = /kept in (\S+) \(mode 0600\)/.exec(r.stderr)?.[1] as string;
    expect(kept).toBeTruthy();
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(readFileSync(kept, "utf8")).toContain(nv);
    expect(readFileSync(target, "utf8").endsWith("# someone else\n")).toBe(true);
    expect(readFileSync(target, "utf8")).not.toContain(nv);
    unlinkSync(kept);
    expect(existsSync(join(d, "secrets/.app.yaml.keyfleet-lock"))).toBe(false);
  });

  it("the file stays locked by another writer: nothing written, the edit kept (0600) and named in the error", () => {
    const d = project();
    const target = join(d, "secrets/app.yaml");
    const before = readFileSync(target);
    const lock = join(d, "secrets/.app.yaml.keyfleet-lock");
    writeFileSync(
      lock,
      JSON.stringify({
        pid: process.pid,
        command: "test holder",
        started: new Date().toISOString(),
        host: hostname(),
        token: "held-by-test",
      }),
    );
    const ed = editorScript(
      scripts(),
      `fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("s3cr3t", process.env.ED_NEW));`,
    );
    const nv = secret("locked");
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: ed, ED_NEW: nv, KEYFLEET_LOCK_TIMEOUT_MS: "300" });
    expect(r.code).toBe(11); // LOCK_TIMEOUT: keyfleet's "file locked by another writer" status
    expect(r.stderr).toContain(`waiting for pid ${process.pid} (test holder)`);
    expect(r.stderr).toContain("is locked by");
    const kept = /kept in (\S+) \(mode 0600\)/.exec(r.stderr)?.[1] as string;
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(readFileSync(kept, "utf8")).toContain(nv);
    expect(r.stderr).not.toContain(nv);
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(readFileSync(lock, "utf8")).toContain("held-by-test");
    unlinkSync(kept);
    unlinkSync(lock);
  });

  it("kill -9 of keyfleet while the editor is open: the next run sweeps the temp directory", async () => {
    const d = project();
    const mark = join(d, "editor.pid");
    const ed = editorScript(
      scripts(),
      `fs.writeFileSync(process.env.MARK, String(process.pid)); setTimeout(() => {}, 60_000);`,
    );
    const bg = kfBg(["edit", "secrets/app.yaml"], {
      cwd: d,
      env: { HOME: keys.home, ...env({ EDITOR: ed, MARK: mark }) },
    });
    const editorPid = await waitFor(
      () => (existsSync(mark) && readFileSync(mark, "utf8") ? Number(readFileSync(mark, "utf8")) : undefined),
      15_000,
      "the editor",
    );
    const dirs = runDirs(xdg);
    expect(dirs).toHaveLength(1);
    expect(dirs[0]).toContain(`keyfleet-edit.${bg.child.pid}.`);
    expect(findPlaintext(dirs, ["s3cr3t"])).toHaveLength(1);
    bg.child.kill("SIGKILL");
    await bg.done;
    process.kill(editorPid, "SIGKILL");
    await waitFor(() => (alive(editorPid) ? undefined : true), 5_000, "the editor to end");
    expect(runDirs(xdg)).toEqual(dirs); // killed outright: nothing could clean up
    const r = run(d, ["edit", "secrets/app.yaml"], { EDITOR: "true" });
    expect(r.code).toBe(0);
    expect(runDirs(xdg)).toEqual([]);
  });

  for (const [sig, code] of [
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    it(`${sig} to keyfleet while the editor is open: the editor is stopped, temp removed, exit ${code}`, async () => {
      const d = project();
      const before = readFileSync(join(d, "secrets/app.yaml"));
      const mark = join(d, "editor.pid");
      const ed = editorScript(
        scripts(),
        `fs.writeFileSync(file, "x: 1\\n"); fs.writeFileSync(process.env.MARK, String(process.pid)); setTimeout(() => {}, 60_000);`,
      );
      const bg = kfBg(["edit", "secrets/app.yaml"], {
        cwd: d,
        env: { HOME: keys.home, ...env({ EDITOR: ed, MARK: mark }) },
      });
      const editorPid = await waitFor(
        () => (existsSync(mark) && readFileSync(mark, "utf8") ? Number(readFileSync(mark, "utf8")) : undefined),
        15_000,
        "the editor",
      );
      bg.child.kill(sig);
      const end = await bg.done;
      expect(end.code).toBe(code);
      expect(bg.stderr()).toContain(`stopped by ${sig} while the editor was open; nothing was written`);
      expect(alive(editorPid)).toBe(false);
      expect(runDirs(xdg)).toEqual([]);
      expect(readFileSync(join(d, "secrets/app.yaml")).equals(before)).toBe(true);
    });
  }

  it("SIGINT to keyfleet alone does not end the edit (the editor owns Ctrl-C); the temp is still removed", async () => {
    const d = project();
    const mark = join(d, "editor.pid");
    const go = join(d, "go");
    const ed = editorScript(
      scripts(),
      `
      fs.writeFileSync(process.env.MARK, String(process.pid));
      const t = setInterval(() => { if (fs.existsSync(process.env.GO)) { clearInterval(t); fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("s3cr3t", process.env.ED_NEW)); } }, 20);`,
    );
    const nv = secret("int");
    const bg = kfBg(["edit", "secrets/app.yaml"], {
      cwd: d,
      env: { HOME: keys.home, ...env({ EDITOR: ed, MARK: mark, GO: go, ED_NEW: nv }) },
    });
    await waitFor(() => (existsSync(mark) && readFileSync(mark, "utf8") ? true : undefined), 15_000, "the editor");
    bg.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    expect(bg.child.exitCode).toBe(null);
    writeFileSync(go, "");
    const end = await bg.done;
    expect(end.code).toBe(0);
    expect((decryptJson(d, "secrets/app.yaml").db as Record<string, unknown>).password).toBe(nv);
    expect(runDirs(xdg)).toEqual([]);
  });
});

describe("edit a new file", () => {
  it("starts from a short example and encrypts to the .sops.yaml rule's recipients", () => {
    const d = project();
    const rec = join(d, "initial.json");
    const ed = editorScript(
      scripts(),
      `
      fs.writeFileSync(process.env.REC, JSON.stringify({ example: fs.readFileSync(file, "utf8").includes("example_key: example_value") }));
      fs.writeFileSync(file, "token: " + process.env.ED_NEW + "\\n");`,
    );
    const nv = secret("new");
    const r = run(d, ["edit", "secrets/new.yaml"], { EDITOR: ed, ED_NEW: nv, REC: rec });
    expect(r.stderr).toBe("keyfleet: created secrets/new.yaml (1 added)\n");
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(rec, "utf8"))).toEqual({ example: true });
    const text = readFileSync(join(d, "secrets/new.yaml"), "utf8");
    expect(text).not.toContain(nv);
    expect(statSync(join(d, "secrets/new.yaml")).mode & 0o777).toBe(0o600);
    expect(readMetadata(text, "yaml").recipients).toEqual([keys.alice.recipient]);
    expect(decryptJson(d, "secrets/new.yaml")).toEqual({ token: nv });
    expect(lastAudit(d)).toMatchObject({ file: "secrets/new.yaml", operation: "create", keysAdded: ["token"] });
    // left as the example: not created
    const r2 = run(d, ["edit", "secrets/other.yaml"], { EDITOR: "true" });
    expect(r2.code).toBe(0);
    expect(r2.stderr).toBe("keyfleet: no changes; secrets/other.yaml was not created\n");
    expect(existsSync(join(d, "secrets/other.yaml"))).toBe(false);
  });

  it("refuses with the fix when no creation rule matches; the editor never opens", () => {
    const d = project();
    mkdirSync(join(d, "elsewhere"));
    const mark = join(d, "opened");
    const ed = editorScript(scripts(), `fs.writeFileSync(process.env.MARK, "");`);
    const r = run(d, ["edit", "elsewhere/new.yaml"], { EDITOR: ed, MARK: mark });
    expect(r.code).toBe(61);
    expect(r.stderr).toContain(
      "elsewhere/new.yaml does not exist and no .sops.yaml creation rule says whom to encrypt it to",
    );
    expect(r.stderr).toContain("add a creation rule whose path_regex matches elsewhere/new.yaml");
    expect(existsSync(mark)).toBe(false);
    expect(existsSync(join(d, "elsewhere/new.yaml"))).toBe(false);
  });
});

describe("edit leaves no plaintext behind", () => {
  it("no run directory and no known plaintext in any temp directory", () => {
    const base = editBase(env());
    expect(runDirs(base)).toEqual([]);
    const roots = [xdg, process.env.TMPDIR as string, ...runDirs("/dev/shm"), ...runDirs("/tmp")];
    expect(findPlaintext(roots, used.slice(1))).toEqual([]);
    // the original value exists only in the runs' plaintext; none is left either
    expect(findPlaintext([xdg, ...runDirs("/dev/shm"), ...runDirs("/tmp")], ["s3cr3t"])).toEqual([]);
    expect(used.length).toBeGreaterThan(8);
  });
});
