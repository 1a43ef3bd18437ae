/**
 * `keyfleet edit` with a real terminal editor: Debian's vi (vim or vim-tiny, installed by .ci/run)
 * inside a tmux session, driven with send-keys. It proves that the terminal is handed over: vi draws
 * the decrypted text on the pane and the keys typed there reach it, and what it saves is encrypted.
 * The tmux server has its own socket and is stopped by that socket and by its pid.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CLI, cleanupTmp, kf, lineDiff, project as makeProject, setupKeys, tmp, type Keys } from "./cli-helpers";
import { alive, findPlaintext, makeRuntimeDir, nextSecond, removeDir, runDirs, waitFor } from "./edit-helpers";

let keys: Keys;
let xdg: string;
let sock = "";
let serverPid = 0;

const tmux = (...args: string[]) => spawnSync("tmux", ["-S", sock, ...args], { encoding: "utf8", timeout: 10_000 });

beforeAll(() => {
  for (const tool of ["tmux", "vi"]) {
    const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${tool} is not installed: apt-get install -y tmux vim-tiny (as .ci/run does)`);
  }
  keys = setupKeys();
  xdg = makeRuntimeDir();
});
afterAll(() => {
  if (sock) spawnSync("tmux", ["-S", sock, "kill-server"], { timeout: 10_000 });
  if (serverPid && alive(serverPid)) process.kill(serverPid, "SIGKILL");
  cleanupTmp();
  removeDir(xdg);
});

it("vi under tmux: the decrypted text is on the terminal, typed keys change one value, :wq saves it encrypted", async () => {
  const d = makeProject(keys);
  const before = readFileSync(join(d, "secrets/app.yaml"), "utf8");
  await nextSecond(); // so that lastmodified must change
  const nv = `tty${randomBytes(6).toString("hex")}`;
  const done = join(d, "exit-status");
  const script = join(d, "run.sh");
  // a clean environment; vi without viminfo, vimrc or swap file, so nothing typed lands in HOME
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: keys.home,
    TERM: "xterm",
    SOPS_AGE_KEY_FILE: keys.alice.file,
    XDG_RUNTIME_DIR: xdg,
    EDITOR: "vi -i NONE -u NONE -n",
  };
  const envArgs = Object.entries(env)
    .map(([k, v]) => `'${k}=${v}'`)
    .join(" ");
  writeFileSync(
    script,
    `#!/bin/sh\ncd '${d}' || exit 99\nenv -i ${envArgs} '${process.execPath}' '${CLI}' edit secrets/app.yaml\necho $? > '${done}'\nsleep 30\n`,
  );
  chmodSync(script, 0o700);
  sock = join(tmp(), "tmux.sock");
  const started = tmux("new-session", "-d", "-x", "160", "-y", "30", script);
  expect(started.status, started.stderr).toBe(0);
  serverPid = Number(tmux("display-message", "-p", "#{pid}").stdout.trim());
  expect(serverPid).toBeGreaterThan(0);
  // vi draws the decrypted file on the pane: the terminal is vi's
  let last = "";
  const screen = await waitFor(
    () => {
      last = tmux("capture-pane", "-p").stdout;
      return last.includes("password: s3cr3t") ? last : undefined;
    },
    20_000,
    "vi to show the decrypted file",
  ).catch((e: Error) => {
    throw new Error(
      `${e.message}; the pane showed:\n${last}\nstatus: ${existsSync(done) ? readFileSync(done, "utf8") : "none"}; sessions: ${tmux("ls").stdout}${tmux("ls").stderr}`,
    );
  });
  expect(screen).toContain("user: alice");
  expect(runDirs(xdg)).toHaveLength(1);
  tmux("send-keys", "/s3cr3t", "Enter");
  tmux("send-keys", "c", "w");
  tmux("send-keys", "-l", nv);
  tmux("send-keys", "Escape");
  tmux("send-keys", ":wq", "Enter");
  const status = await waitFor(
    () => (existsSync(done) ? readFileSync(done, "utf8").trim() || undefined : undefined),
    20_000,
    "keyfleet to finish",
  );
  expect(status).toBe("0");
  const after = readFileSync(join(d, "secrets/app.yaml"), "utf8");
  expect(after).not.toContain(nv);
  const diff = lineDiff(before, after);
  expect(diff.added.map((l) => l.trim().split(":")[0]).sort()).toEqual(["lastmodified", "mac", "password"]);
  const plain = kf(["decrypt", "--extract", '["db"]["password"]', "secrets/app.yaml"], {
    cwd: d,
    home: keys.home,
    env: { SOPS_AGE_KEY_FILE: keys.alice.file },
  });
  expect(plain.stdout).toBe(nv);
  expect(runDirs(xdg)).toEqual([]);
  expect(findPlaintext([xdg, keys.home, d], [nv])).toEqual([]);
  tmux("kill-server");
  await waitFor(() => (alive(serverPid) ? undefined : true), 10_000, "the tmux server to stop");
});
