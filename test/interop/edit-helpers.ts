/**
 * Shared setup of the `keyfleet edit` tests: a private-temp base on tmpfs (a fresh directory under
 * /dev/shm given as $XDG_RUNTIME_DIR, else under TMPDIR), editor scripts written as small node
 * programs, async runs of the built CLI (for signals), and a search for plaintext left in temp
 * directories.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  lstatSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMemoryDir, privateTempBase } from "../../provider/fs/private-temp";
import { CLI } from "./cli-helpers";

/** A directory to use as $XDG_RUNTIME_DIR: under /dev/shm when that is tmpfs. Remove it in afterAll. */
export function makeRuntimeDir(): string {
  const base = isMemoryDir("/dev/shm") ? "/dev/shm" : tmpdir();
  const d = mkdtempSync(join(base, "kf-edit-xdg-"));
  chmodSync(d, 0o700);
  return d;
}

/** Where edit puts its private directories for this environment. */
export function editBase(env: Record<string, string | undefined>): string {
  return privateTempBase(env).dir;
}

/** keyfleet-edit run directories currently in `base`. */
export function runDirs(base: string): string[] {
  return readdirSync(base)
    .filter((n) => n.startsWith("keyfleet-edit."))
    .map((n) => join(base, n));
}

let n = 0;
/**
 * Writes an editor program (node, given the temp file as its last argument) to `dir` and returns
 * its path. `body` runs with `file` (the temp path), `fs` and `args` in scope.
 */
export function editorScript(dir: string, body: string, name = `ed-${++n}.js`): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(
    p,
    `#!${process.execPath}\nconst fs = require("node:fs");\nconst args = process.argv.slice(2);\nconst file = args[args.length - 1];\n${body}\n`,
  );
  chmodSync(p, 0o755);
  return p;
}

/** A CLI run started in the background (for signals); `done` resolves with its exit. */
export interface BgRun {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI with a clean environment plus `env`. */
export function kfBg(args: string[], o: { cwd: string; env: Record<string, string | undefined> }): BgRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: o.cwd,
    env: { PATH: process.env.PATH, ...o.env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  child.stdout?.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on("exit", (code, signal) => res({ code, signal })),
  );
  return { child, stderr: () => err, done };
}

/** Waits (bounded: `ms`, polling every 20 ms) until `f` returns a value that is not undefined. */
export async function waitFor<T>(f: () => T | undefined, ms = 15_000, what = "condition"): Promise<T> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** True when process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Files under `roots` (recursively, bounded to 20,000 entries, symlinks not followed) whose bytes
 * contain any of `needles`.
 */
export function findPlaintext(roots: readonly string[], needles: readonly string[]): string[] {
  const hits: string[] = [];
  const stack = roots.filter((r) => existsSync(r));
  let seen = 0;
  const bufs = needles.map((s) => Buffer.from(s));
  while (stack.length && seen < 20_000) {
    const p = stack.pop() as string;
    seen++;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      try {
        for (const c of readdirSync(p)) stack.push(join(p, c));
      } catch {
        /* unreadable: not ours */
      }
    } else if (st.isFile() && st.size < 8 * 1024 * 1024) {
      try {
        const b = readFileSync(p);
        if (bufs.some((x) => b.includes(x))) hits.push(p);
      } catch {
        /* raced with removal */
      }
    }
  }
  return hits;
}

/** Removes a directory tree (afterAll). */
export function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
}

/** Waits until the wall clock enters its next second (lastmodified has whole seconds). */
export async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}
