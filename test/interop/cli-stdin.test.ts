/**
 * `keyfleet set` reads a piped value with read(2), whatever kind of descriptor standard input is: a
 * socket (what node's spawn and libuv give a child for a pipe), a FIFO (a shell pipe) or a regular
 * file (`< file`). Each stores the value (one trailing newline removed), and none builds
 * process.stdin's stream, whose net and stream code would cost the start-up (issue 13 §4): a
 * `--require` hook reports whether node's `net` module was loaded.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cleanupTmp, kf, project, setupKeys, tmp, type Keys } from "./cli-helpers";

let k: Keys;
let hook: string;
beforeAll(() => {
  k = setupKeys();
  hook = join(tmp(), "net-hook.js");
  // at exit: whether net was loaded, and what kind of descriptor stdin was
  writeFileSync(
    hook,
    [
      'const fs = require("fs");',
      "const st = fs.fstatSync(0);",
      'const kind = st.isFIFO() ? "fifo" : st.isSocket() ? "socket" : st.isFile() ? "file" : "other";',
      'process.on("exit", () => fs.writeFileSync(process.env.KF_HOOK_OUT, JSON.stringify({ kind, net: process.moduleLoadList.includes("NativeModule net") })));',
      "",
    ].join("\n"),
  );
});
afterAll(cleanupTmp);

/** Runs `sh -c script` in `d` with the CLI's environment; returns the exit code, stderr and the hook's report. */
function viaShell(
  d: string,
  script: string,
  input?: string,
): { code: number | null; stderr: string; kind: string; net: boolean } {
  const out = join(d, "hook-out.json");
  const r = spawnSync("sh", ["-c", script], {
    cwd: d,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: k.home,
      SOPS_AGE_KEY_FILE: k.alice.file,
      KF_HOOK_OUT: out,
      NODE: process.execPath,
      CLI,
      HOOK: hook,
    },
    input: input ?? "",
    encoding: "utf8",
    timeout: 30_000,
  });
  const report = JSON.parse(readFileSync(out, "utf8")) as { kind: string; net: boolean };
  return { code: r.status, stderr: r.stderr, ...report };
}

function decrypted(d: string): string {
  const r = kf(["decrypt", "--extract", '["db"]["password"]', "secrets/app.yaml"], {
    cwd: d,
    home: k.home,
    env: { SOPS_AGE_KEY_FILE: k.alice.file },
  });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

const SET = '"$NODE" --require "$HOOK" "$CLI" set secrets/app.yaml db.password';

describe("set reads a piped value without building process.stdin", () => {
  it("from a socket (node's spawn with input)", () => {
    const d = project(k);
    const r = viaShell(d, `exec ${SET}`, "from-a-socket\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.kind).toBe("socket");
    expect(r.net).toBe(false);
    expect(decrypted(d)).toBe("from-a-socket");
  });

  it("from a FIFO (a shell pipe)", () => {
    const d = project(k);
    const r = viaShell(d, `printf 'from-a-fifo\\n' | ${SET}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.kind).toBe("fifo");
    expect(r.net).toBe(false);
    expect(decrypted(d)).toBe("from-a-fifo");
  });

  it("from a regular file (< file), a value of several reads (more than 64 KiB)", () => {
    const d = project(k);
    const big = "x".repeat(100_000);
    writeFileSync(join(d, "value.txt"), `${big}\n`);
    const r = viaShell(d, `${SET} < value.txt`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.kind).toBe("file");
    expect(r.net).toBe(false);
    expect(decrypted(d)).toBe(big);
  });

  it("the hook itself sees net loaded when process.stdin is built (so the checks above can fail)", () => {
    const d = tmp();
    const out = join(d, "hook-out.json");
    const r = spawnSync(process.execPath, ["--require", hook, "-e", "process.stdin.on('data', () => {})"], {
      env: { ...process.env, KF_HOOK_OUT: out },
      input: "x\n",
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual({ kind: "socket", net: true });
  });
});
