/**
 * Who did it, for the audit log: git `user.name <user.email>` of the project, else `$USER`.
 */
import type * as ChildProcess from "node:child_process";
import { gitEnv } from "./git-env";
import { readGitUser, type GitUser } from "./git-config";

/** node:child_process, loaded only when git must run (most `keyfleet set` runs never load it). */
function childProcess(): typeof ChildProcess {
  return require("node:child_process") as typeof ChildProcess;
}

/**
 * `user.name` and `user.email` of git config in `cwd`, in one git process (each git process is a few
 * milliseconds of a `keyfleet set`): `--get-regexp` lists every value in config order, and the last
 * one of each key is the one `git config --get` would print.
 */
const GIT_USER = ["config", "-z", "--get-regexp", "^user\\.(name|email)$"];

/** The name and email in the `-z` output of {@link GIT_USER}, the last value of each. */
function gitUser(out: string): { name?: string; email?: string } {
  const found: { name?: string; email?: string } = {};
  for (const rec of out.split("\0")) {
    const nl = rec.indexOf("\n");
    const key = nl < 0 ? rec : rec.slice(0, nl);
    const value = nl < 0 ? "" : rec.slice(nl + 1).trim();
    if (key === "user.name") found.name = value;
    else if (key === "user.email") found.email = value;
  }
  return found;
}

/** The actor for git's output (`undefined` when git failed or found nothing), or for values read directly. */
function actorOf(gitOut: string | GitUser | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const { name, email } = typeof gitOut === "string" ? gitUser(gitOut) : (gitOut ?? {});
  if (name && email) return `${name} <${email}>`;
  if (name) return name;
  return env.USER || env.USERNAME || "unknown";
}

/**
 * `Name <email>` from git config in `cwd`, else `$USER` (or `$USERNAME`), else "unknown". The
 * config files are read directly when git-config.ts understands them all, else git runs.
 */
export function resolveActor(cwd: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const direct = readGitUser(cwd, process.env);
  if (direct) return actorOf(direct, env);
  const r = childProcess().spawnSync("git", GIT_USER, { cwd, env: gitEnv(), timeout: 10_000 });
  return actorOf(r.status === 0 && r.stdout ? r.stdout.toString("utf8") : undefined, env);
}

/**
 * {@link resolveActor} without blocking: git runs while the caller does its work (`keyfleet set`
 * starts it first, so the git process costs it no wall time). Never rejects.
 */
export function resolveActorLater(
  cwd: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const direct = readGitUser(cwd, process.env);
  if (direct) return Promise.resolve(actorOf(direct, env));
  return new Promise((done) => {
    try {
      childProcess().execFile(
        "git",
        GIT_USER,
        { cwd, env: gitEnv(), timeout: 10_000, encoding: "utf8" },
        (err, stdout) => done(actorOf(err ? undefined : stdout, env)),
      );
    } catch {
      done(actorOf(undefined, env));
    }
  });
}

/** Longest reason kept. */
export const MAX_REASON = 500;

/**
 * A `--reason` value checked: one line, printable, at most {@link MAX_REASON} characters;
 * undefined stays undefined. Returns the trimmed text or an error phrase.
 */
export function checkReason(text: string | undefined): { reason?: string; error?: string } {
  if (text === undefined) return {};
  const t = text.trim();
  if (t === "") return { error: "--reason must not be empty" };
  if (t.length > MAX_REASON) return { error: `--reason is longer than ${MAX_REASON} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(t)) return { error: "--reason must be one line of printable text" };
  return { reason: t };
}
