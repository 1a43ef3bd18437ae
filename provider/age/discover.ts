/**
 * Identity discovery as sops does it (getsops/sops age/keysource.go), every source that is there:
 * `SOPS_AGE_SSH_PRIVATE_KEY_FILE` and `~/.ssh/id_ed25519`, `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE` and
 * `$XDG_CONFIG_HOME/sops/age/keys.txt` (or `~/.config/sops/age/keys.txt`), `SOPS_AGE_KEY_CMD`.
 * Returns what it found and a report of every source tried, never key material.
 */
import type * as ChildProcess from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { KeyParseError } from "./errors";
import { MAX_IDENTITY_FILE_BYTES, parseIdentities } from "./parse";
import type { AgeIdentity } from "./types";

/** What `discoverIdentities` found. */
export interface DiscoveryResult {
  /** All identities found, in discovery order. */
  identities: AgeIdentity[];
  /** One line per source tried, e.g. `SOPS_AGE_KEY_FILE=/x/keys.txt: 2 identities`; no key material. */
  report: string[];
}

/** Options for {@link discoverIdentities}. */
export interface DiscoveryOptions {
  /** Environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Home directory (default `os.homedir()`). */
  home?: string;
  /** Timeout for `SOPS_AGE_KEY_CMD` in ms (default 30 s). */
  cmdTimeoutMs?: number;
}

/*
 * Key files are small (at most MAX_IDENTITY_FILE_BYTES) and read synchronously: a CLI start-up then
 * never starts libuv's thread pool nor waits on it (several round trips per file), and does not load
 * node:fs/promises (issue 13 §4).
 */
function readBounded(path: string, where: string): string | null {
  let size: number;
  try {
    const st = statSync(path, { throwIfNoEntry: false }); // an absent default file is the common case
    if (!st) return null;
    size = st.size;
  } catch (e) {
    throw new KeyParseError(`cannot read key file: ${(e as Error).message}`, { where, file: path, cause: e });
  }
  if (size > MAX_IDENTITY_FILE_BYTES)
    throw new KeyParseError(`key file larger than ${MAX_IDENTITY_FILE_BYTES} bytes`, { where, file: path });
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new KeyParseError(`cannot read key file: ${(e as Error).message}`, { where, file: path, cause: e });
  }
}

/**
 * The identities of a key file named by environment variable `name`, and their report label. Set on
 * purpose, so a missing file is an error (with `hint`), unlike the default files.
 */
function readNamedFile(name: string, path: string, hint: string): [AgeIdentity[], string] {
  const label = `${name}=${path}`;
  const text = readBounded(path, label);
  if (text === null) throw new KeyParseError("file not found", { where: label, file: path, hint });
  return [parseIdentities(text, label), label];
}

function count(n: number): string {
  return `${n} identit${n === 1 ? "y" : "ies"}`;
}

/**
 * Splits a command line into argv like a POSIX shell's word splitting, without running a shell:
 * whitespace separates words, single quotes are literal, double quotes allow `\"` and `\\`,
 * a backslash outside quotes escapes the next character.
 * @throws KeyParseError on an unterminated quote
 */
export function splitCommandLine(cmd: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i] as string;
    if (c === "'" || c === '"') {
      const end = c === "'" ? cmd.indexOf("'", i + 1) : findDq(cmd, i + 1);
      if (end < 0) throw new KeyParseError("unterminated quote in command", { where: "SOPS_AGE_KEY_CMD" });
      const body = cmd.slice(i + 1, end);
      cur += c === "'" ? body : body.replace(/\\(["\\$`])/g, "$1");
      inWord = true;
      i = end;
    } else if (c === "\\" && i + 1 < cmd.length) {
      cur += cmd[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

function findDq(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

function runCommand(argv: string[], env: Record<string, string | undefined>, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    // loaded on first use: node:child_process costs every CLI start-up ~5 ms, and few users set a key command
    const { execFile } = require("node:child_process") as typeof ChildProcess;
    execFile(
      file as string,
      args,
      { env: env as NodeJS.ProcessEnv, timeout, maxBuffer: MAX_IDENTITY_FILE_BYTES, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err) {
          // no `cause`: execFile's error carries the command's stdout and stderr (key material, maybe)
          const why =
            err.code === "ENOENT"
              ? "command not found"
              : `command failed (${err.killed ? `timed out after ${timeout} ms` : typeof err.code === "number" ? `exit status ${err.code}` : `${err.signal ?? String(err.code)}`})`;
          const last = stderr.trim().split("\n").slice(-1)[0] ?? "";
          const tail = !last
            ? ""
            : /AGE-SECRET-KEY|PRIVATE KEY/i.test(last)
              ? ": (last stderr line withheld: it looks like key material)"
              : `: ${last.slice(0, 200)}`;
          reject(
            new KeyParseError(`${why}${tail}`, {
              where: "SOPS_AGE_KEY_CMD",
              hint: "check the command prints age identities on stdout",
            }),
          );
        } else resolve(stdout);
      },
    ).stdin?.end();
  });
}

/**
 * Finds the age identities available to this process the way sops does. Sources that are set but
 * unusable (unreadable file, bad key, failing command) throw; absent default files are reported
 * and skipped, as is a passphrase-protected or non-ed25519 `~/.ssh/id_ed25519` default.
 * @throws KeyParseError (with `where` naming the source)
 */
export async function discoverIdentities(opts: DiscoveryOptions = {}): Promise<DiscoveryResult> {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const identities: AgeIdentity[] = [];
  const report: string[] = [];
  const add = (ids: AgeIdentity[], label: string) => {
    identities.push(...ids);
    report.push(`${label}: ${count(ids.length)}`);
  };

  const sshFile = env.SOPS_AGE_SSH_PRIVATE_KEY_FILE;
  if (sshFile)
    add(
      ...readNamedFile(
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        sshFile,
        "point SOPS_AGE_SSH_PRIVATE_KEY_FILE at an ssh-ed25519 private key",
      ),
    );
  // sops (age/keysource.go loadAgeSSHIdentities) reads ~/.ssh/id_ed25519 as well, not instead
  const sshDefault = join(home, ".ssh", "id_ed25519");
  if (!sshFile || resolve(sshFile) !== resolve(sshDefault)) {
    const text = readBounded(sshDefault, sshDefault);
    if (text === null) report.push(`${sshDefault}: not found`);
    else {
      try {
        add(parseIdentities(text, sshDefault), sshDefault);
      } catch (e) {
        if (!(e instanceof KeyParseError)) throw e;
        report.push(
          `${sshDefault}: skipped (${e.code === "KEY_ENCRYPTED" ? "passphrase-protected" : e.code === "KEY_UNSUPPORTED" ? "not ed25519" : "unreadable key"})`,
        );
      }
    }
  }

  const inline = env.SOPS_AGE_KEY;
  if (inline && inline.trim())
    add(parseIdentities(inline.trim().split(/\s+/).join("\n"), "SOPS_AGE_KEY"), "SOPS_AGE_KEY");
  else report.push("SOPS_AGE_KEY: not set");

  const keyFile = env.SOPS_AGE_KEY_FILE;
  if (keyFile) add(...readNamedFile("SOPS_AGE_KEY_FILE", keyFile, "fix SOPS_AGE_KEY_FILE or unset it"));
  // sops reads the user config keys.txt as well as SOPS_AGE_KEY_FILE, not instead of it
  const base = env.XDG_CONFIG_HOME || join(home, ".config");
  const keysTxt = join(base, "sops", "age", "keys.txt");
  if (!keyFile || resolve(keyFile) !== resolve(keysTxt)) {
    const text = readBounded(keysTxt, keysTxt);
    if (text === null) report.push(`${keysTxt}: not found`);
    else add(parseIdentities(text, keysTxt), keysTxt);
  }

  const cmd = env.SOPS_AGE_KEY_CMD;
  if (cmd && cmd.trim()) {
    const argv = splitCommandLine(cmd);
    const out = await runCommand(argv, env, opts.cmdTimeoutMs ?? 30_000);
    add(parseIdentities(out, `SOPS_AGE_KEY_CMD (${argv[0]})`), `SOPS_AGE_KEY_CMD (${argv[0]})`);
  } else report.push("SOPS_AGE_KEY_CMD: not set");

  return { identities, report };
}
