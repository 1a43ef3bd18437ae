/**
 * Who did it, for the audit log: git `user.name <user.email>` of the project, else `$USER`.
 */
import { spawnSync } from "node:child_process";
import { gitEnv } from "./scan/git";

function gitConfig(cwd: string, key: string): string | undefined {
  const r = spawnSync("git", ["config", "--get", key], { cwd, env: gitEnv(), timeout: 10_000 });
  if (r.status !== 0) return undefined;
  const v = r.stdout.toString("utf8").trim();
  return v === "" ? undefined : v;
}

/** `Name <email>` from git config in `cwd`, else `$USER` (or `$USERNAME`), else "unknown". */
export function resolveActor(cwd: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const name = gitConfig(cwd, "user.name");
  const email = gitConfig(cwd, "user.email");
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
