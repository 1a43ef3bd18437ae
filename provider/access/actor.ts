/**
 * Who did it, for the audit log: git `user.name <user.email>` of the project, else `$USER`.
 */
import { spawnSync } from "node:child_process";
import { gitEnv } from "./scan/git";

/**
 * `user.name` and `user.email` of git config in `cwd`, in one git process (each git process is a few
 * milliseconds of a `keyfleet set`): `--get-regexp` lists every value in config order, and the last
 * one of each key is the one `git config --get` would print.
 */
function gitUser(cwd: string): { name?: string; email?: string } {
  const r = spawnSync("git", ["config", "-z", "--get-regexp", "^user\\.(name|email)$"], {
    cwd,
    env: gitEnv(),
    timeout: 10_000,
  });
  if (r.status !== 0 || !r.stdout) return {};
  const found: { name?: string; email?: string } = {};
  for (const rec of r.stdout.toString("utf8").split("\0")) {
    const nl = rec.indexOf("\n");
    const key = nl < 0 ? rec : rec.slice(0, nl);
    const value = nl < 0 ? "" : rec.slice(nl + 1).trim();
    if (key === "user.name") found.name = value;
    else if (key === "user.email") found.email = value;
  }
  return found;
}

/** `Name <email>` from git config in `cwd`, else `$USER` (or `$USERNAME`), else "unknown". */
export function resolveActor(cwd: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const { name, email } = gitUser(cwd);
  if (name && email) return `${name} <${email}>`;
  if (name) return name;
  return env.USER || env.USERNAME || "unknown";
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
