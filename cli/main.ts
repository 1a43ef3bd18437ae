#!/usr/bin/env node
/**
 * The `keyfleet` command: a dispatcher over a verb table. A new verb is one line in `VERBS`.
 * Exit codes: 0 success, 1 a keyfleet error (printed as `keyfleet: <message>`, no stack),
 * 2 a usage error, 70 an unexpected internal error.
 */
import { isKeyfleetError } from "../provider/errors";
import { helpText, parseArgs, type CliIo, type Verb } from "./args";
import { existsSync, fstatSync, readSync } from "node:fs";
import { preDispatch } from "./sops-style";

/**
 * Every verb, by name, as a loader: a run imports only its own verb's modules (start-up, issue 13 §4).
 * A new verb is one line: `name: async () => (await import("./file.js")).nameVerb`.
 */
export const VERBS: Record<string, () => Promise<Verb>> = {
  keygen: async () => (await import("./keygen.js")).keygenVerb,
  "ssh-to-age": async () => (await import("./ssh-to-age.js")).sshToAgeVerb,
  decrypt: async () => (await import("./decrypt.js")).decryptVerb,
  encrypt: async () => (await import("./encrypt.js")).encryptVerb,
  set: async () => (await import("./set.js")).setVerb,
  updatekeys: async () => (await import("./updatekeys.js")).updatekeysVerb,
  rotate: async () => (await import("./rotate.js")).rotateVerb,
  "exec-env": async () => (await import("./exec-env.js")).execEnvVerb,
  audit: async () => (await import("./audit.js")).auditVerb,
  edit: async () => (await import("./edit.js")).editVerb,
  scan: async () => (await import("./scan.js")).scanVerb,
  hook: async () => (await import("./hook.js")).hookVerb,
  log: async () => (await import("./log.js")).logVerb,
  exposed: async () => (await import("./exposed.js")).exposedVerb,
  init: async () => (await import("./init.js")).initVerb,
  add: async () => (await import("./add.js")).addVerb,
  migrate: async () => (await import("./migrate.js")).migrateVerb,
  provision: async () => (await import("./provision.js")).provisionVerb,
  deprovision: async () => (await import("./deprovision.js")).deprovisionVerb,
  push: async () => (await import("./push.js")).pushVerb,
};

/** `keyfleet FILE` means `keyfleet edit FILE` (as `sops FILE`): a word that is no verb but a path. */
function bareFile(word: string): boolean {
  return !word.startsWith("-") && (word.includes("/") || word.includes(".") || existsSync(word));
}

/** The top-level `keyfleet --help` text (loads every verb, for its summary). */
export async function mainHelp(): Promise<string> {
  const width = Math.max(...Object.keys(VERBS).map((k) => k.length));
  const verbs = await Promise.all(Object.entries(VERBS).map(async ([k, load]) => [k, await load()] as const));
  const rows = verbs.map(([k, v]) => `  ${k.padEnd(width)}  ${v.spec.summary}`);
  return (
    [
      "usage: keyfleet <verb> [flags]",
      "",
      "verbs:",
      ...rows,
      "",
      "keyfleet FILE is keyfleet edit FILE.",
      "keyfleet <verb> --help describes each verb.",
    ].join("\n") + "\n"
  );
}

/** Runs the CLI with `argv` (words after the program name); returns the exit code. Never throws. */
export async function main(argvIn: readonly string[], io: CliIo): Promise<number> {
  const pre = preDispatch(argvIn);
  if (pre.version !== undefined) {
    io.stdout(pre.version);
    return 0;
  }
  const [name, ...rest] = pre.argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(await mainHelp());
    return name === undefined ? 2 : 0;
  }
  const own = Object.hasOwn(VERBS, name) ? VERBS[name] : undefined;
  const load = own ?? (bareFile(name) ? VERBS["edit"] : undefined);
  if (!own && load) rest.unshift(name);
  if (!load) {
    io.stderr(`keyfleet: unknown verb ${JSON.stringify(name)}; see keyfleet --help\n`);
    return 2;
  }
  try {
    const verb = await load();
    const args = parseArgs(rest, verb.spec);
    if (args.help) {
      io.stdout(helpText(verb.spec));
      return 0;
    }
    return await verb.run(args, io);
  } catch (e) {
    if (isKeyfleetError(e)) {
      io.stderr(`keyfleet: ${e.message}\n`);
      return e.code === "USAGE" ? 2 : 1;
    }
    io.stderr(`keyfleet: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 70;
  }
}

/**
 * Reads standard input to its end with read(2) when it is a pipe, a socket (what a parent gets from
 * libuv, node's spawn included, when it asks for a pipe) or a file, into `chunks`; true when it got
 * to the end. A `keyfleet set` then never builds process.stdin's stream (net's socket code, and the
 * stderr stream its teardown builds): start-up, issue 13 §4. False for a terminal or anything else,
 * or when a non-blocking pipe or socket has no data yet (EAGAIN): the caller goes on with the stream.
 */
function readStdinSync(chunks: Buffer[]): boolean {
  let st;
  try {
    st = fstatSync(0);
  } catch {
    return false;
  }
  if (!st.isFIFO() && !st.isSocket() && !st.isFile()) return false;
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(0, buf, 0, buf.length, null);
      if (n === 0) return true;
      chunks.push(buf.subarray(0, n));
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EAGAIN") return false;
    throw e;
  }
}

/** The real process's IO. */
export function processIo(): CliIo {
  return {
    readStdin: async () => {
      const chunks: Buffer[] = [];
      if (!readStdinSync(chunks)) for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    stdout: (t) => {
      guardStdout();
      void process.stdout.write(t);
    },
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
  };
}

/** The exit status when the reader of stdout went away: 128 + SIGPIPE, what a shell shows for `cat` there. */
export const EXIT_BROKEN_PIPE = 141;
let stdoutGuarded = false;

/**
 * On the first write to stdout: a reader that closes early (`keyfleet decrypt f | head`) ends the
 * process quietly with {@link EXIT_BROKEN_PIPE}, as SIGPIPE ends other tools, instead of an
 * unhandled EPIPE error with a stack trace. Other errors still surface.
 */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(EXIT_BROKEN_PIPE);
    throw e;
  });
}

/**
 * Ends the process with `code` once {@link main} is done. When nothing is left to run (no handle,
 * request or timer keeps the event loop alive: then node would exit by itself) and nobody listens
 * for `beforeExit`, it exits at once ('exit' listeners still run), without node's teardown of the
 * heap and the garbage collection it may run before: a few milliseconds of every start-up (issue
 * 13 §4). Otherwise (a write still queued on a pipe, a child still running) it only sets the exit
 * code and node exits after the rest, as usual.
 */
export function exitWhenDone(code: number): void {
  process.exitCode = code;
  if (process.getActiveResourcesInfo().length === 0 && process.listenerCount("beforeExit") === 0) process.exit();
}

if (require.main === module) void main(process.argv.slice(2), processIo()).then(exitWhenDone);
