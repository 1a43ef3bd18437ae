/**
 * How the `keyfleet` executable ends (cli/main.ts exitWhenDone): at once when nothing is left to
 * run, else as node would. What is still pending is never cut short: a large output read slowly
 * through a pipe arrives whole, a timer something set still fires, and a `beforeExit` listener
 * still runs.
 */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTmp, kf, ROOT, setupKeys, tmp, type Keys } from "./cli-helpers";

const BIN = join(ROOT, "dist/cli/bin.js");

let k: Keys;
let d: string;
/** Length of big.yaml's plaintext (what decrypt prints). */
let plainLength: number;
beforeAll(() => {
  k = setupKeys();
  d = tmp();
  // about 3 MB of plaintext: more than a pipe holds, so the writes wait for the reader
  const lines = Array.from({ length: 3000 }, (_, i) => `k${i}: ${"v".repeat(1000)}`);
  const plain = lines.join("\n") + "\n";
  plainLength = plain.length;
  writeFileSync(join(d, "big.yaml"), plain);
  const r = kf(["encrypt", "--age", k.alice.recipient, "-i", "big.yaml"], { cwd: d, home: k.home });
  expect(r.code, r.stderr).toBe(0);
});
afterAll(cleanupTmp);

/** A fresh FIFO in the test directory (so the shell can report the writer's own status). */
function fifo(): string {
  const f = join(d, `out-${Math.random().toString(36).slice(2)}.fifo`);
  expect(spawnSync("mkfifo", [f]).status).toBe(0);
  return f;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: k.home,
    SOPS_AGE_KEY_FILE: k.alice.file,
    NODE: process.execPath,
    BIN,
    ...extra,
  };
}

describe("the keyfleet executable's exit", () => {
  it("a large decrypt read slowly through a pipe arrives whole", () => {
    const r = spawnSync("sh", ["-c", '"$NODE" "$BIN" decrypt big.yaml | (sleep 1; wc -c)'], {
      cwd: d,
      env: env(),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(plainLength);
  });

  it("a reader that closes early ends the decrypt quietly with 141, as SIGPIPE ends other tools", () => {
    // the shell reports the status of the first command of the pipe; head reads 5 bytes and closes
    const r = spawnSync(
      "sh",
      ["-c", '"$NODE" "$BIN" decrypt big.yaml > "$FIFO" & (head -c 5 < "$FIFO" > /dev/null); wait $!'],
      {
        cwd: d,
        env: env({ FIFO: fifo() }),
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(141);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at /);
  });

  it("waits for a timer still pending and runs beforeExit listeners, as node's own exit does", () => {
    const hook = join(d, "pending-hook.js");
    const timerMark = join(d, "timer-fired");
    const beforeExitMark = join(d, "before-exit-ran");
    writeFileSync(
      hook,
      [
        'const fs = require("fs");',
        `setTimeout(() => fs.writeFileSync(${JSON.stringify(timerMark)}, "1"), 300);`,
        `process.once("beforeExit", () => fs.writeFileSync(${JSON.stringify(beforeExitMark)}, "1"));`,
        "",
      ].join("\n"),
    );
    const r = spawnSync(process.execPath, ["--require", hook, BIN, "decrypt", "big.yaml"], {
      cwd: d,
      env: env(),
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(plainLength);
    expect(existsSync(timerMark)).toBe(true);
    expect(existsSync(beforeExitMark)).toBe(true);
  });

  it("keeps the exit code of a failed verb", () => {
    const r = spawnSync(process.execPath, [BIN, "decrypt", "missing.yaml"], { cwd: d, env: env(), encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^keyfleet: /);
    const u = spawnSync(process.execPath, [BIN, "nosuchverb"], { cwd: d, env: env(), encoding: "utf8" });
    expect(u.status).toBe(2);
  });
});
