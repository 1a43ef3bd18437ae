/**
 * `user.name` and `user.email` read from git's config files without running git, for the audit
 * actor of a `keyfleet set` (a git process and node:child_process cost a start-up about 9 ms, issue
 * 13 §4). It reads only what it understands exactly and answers `undefined` for anything else, so
 * the caller runs `git config` instead: a `GIT_*` variable that changes the config or the repository, an include of any kind, a quoted
 * `[user]` value, a backslash anywhere (escapes, continued lines), a line git would refuse, a `.git` file (worktree, submodule), a repository found across a
 * file system or owned by another user, a bare repository, a per-worktree config, a file it cannot
 * read. test/unit/access/git-config.test.ts checks its answers against git's own.
 */
import { readFileSync, statSync, type Stats } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The two values, as git config would give them (the last one of each wins). */
export interface GitUser {
  name?: string;
  email?: string;
}

/** Largest config file read here (larger: let git read it). */
const MAX_CONFIG_BYTES = 1024 * 1024;
/** Directories walked up at most while looking for the repository. */
const MAX_DEPTH = 256;

/** The variables that change which config git reads or where it finds the repository. */
const GIT_CONFIG_VARS =
  /^GIT_(CONFIG\w*|DIR|COMMON_DIR|WORK_TREE|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|TEST_\w*)$/;

/** Thrown inside this module when git must answer instead. */
class AskGit extends Error {}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false }); // ENOENT without an exception: the walk up meets many
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
      return undefined;
    throw new AskGit();
  }
}

/** A config file's text, undefined when it does not exist. */
function readConfig(path: string): string | undefined {
  const st = statOrUndefined(path);
  if (!st) return undefined;
  if (!st.isFile()) throw new AskGit(); // a FIFO would block this read; git runs with its timeout
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
      return undefined;
    throw new AskGit();
  }
  if (text.length > MAX_CONFIG_BYTES || text.startsWith("\uFEFF") || /include|worktreeconfig|[\\\r\0]/i.test(text))
    throw new AskGit();
  return text;
}

const SECTION = /^\s*\[([A-Za-z0-9.-]+)\]\s*(?:[#;].*)?$/;
const SUBSECTION = /^\s*\[[A-Za-z0-9.-]+\s+"[^"\\]*"\]\s*(?:[#;].*)?$/;
const VARIABLE = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/;

/**
 * Applies one config file's `[user]` name and email to `into`. Every line must be a comment, a
 * section header or a variable of a section, as git requires (git fails on anything else, and so
 * is asked); values with an odd number of quotes are left to git, and quoted ones in `[user]` too.
 */
function applyFile(text: string, into: GitUser): void {
  let section: string | undefined;
  for (const line of text.split("\n")) {
    const bare = line.trim();
    if (bare === "" || bare.startsWith("#") || bare.startsWith(";")) continue;
    if (bare.startsWith("[")) {
      const m = SECTION.exec(line);
      if (m) section = (m[1] as string).toLowerCase();
      else if (SUBSECTION.test(line)) section = "";
      else throw new AskGit();
      continue;
    }
    const v = VARIABLE.exec(line);
    if (!v || section === undefined || (v[2] ?? "").split('"').length % 2 === 0) throw new AskGit();
    if (section !== "user") continue;
    const key = (v[1] as string).toLowerCase();
    if (key !== "name" && key !== "email") continue;
    if (v[2] === undefined || v[2].includes('"')) throw new AskGit(); // a bare key is boolean true
    into[key] = (v[2].split(/[#;]/)[0] as string).trim();
  }
}

/** The `.git/config` of the repository around `cwd`, undefined outside any repository. */
function repoConfig(cwd: string): string | undefined {
  let dir = resolve(cwd);
  const start = statOrUndefined(dir);
  if (!start) throw new AskGit();
  for (let i = 0; i < MAX_DEPTH; i++) {
    const here = statOrUndefined(dir);
    if (!here || here.dev !== start.dev) throw new AskGit();
    const dotGit = statOrUndefined(join(dir, ".git"));
    if (dotGit) {
      if (!dotGit.isDirectory() || here.uid !== process.getuid?.() || dotGit.uid !== here.uid) throw new AskGit();
      return join(dir, ".git", "config");
    }
    if (statOrUndefined(join(dir, "HEAD")) && statOrUndefined(join(dir, "objects"))) throw new AskGit(); // bare
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  throw new AskGit();
}

/**
 * `user.name` and `user.email` as `git config` run in `cwd` with `env` would find them (system,
 * XDG, ~/.gitconfig, then the repository's config), or undefined when git must be asked.
 */
export function readGitUser(cwd: string, env: Readonly<Record<string, string | undefined>>): GitUser | undefined {
  if (Object.keys(env).some((k) => GIT_CONFIG_VARS.test(k)) || !env["HOME"] || typeof process.getuid !== "function")
    return undefined;
  try {
    const home = env["HOME"];
    const xdg = env["XDG_CONFIG_HOME"]
      ? join(env["XDG_CONFIG_HOME"], "git", "config")
      : join(home, ".config/git/config");
    const files = ["/etc/gitconfig", xdg, join(home, ".gitconfig")];
    const repo = repoConfig(cwd);
    if (repo) files.push(repo);
    const user: GitUser = {};
    for (const f of files) {
      const text = readConfig(f);
      if (text !== undefined) applyFile(text, user);
    }
    return user;
  } catch (e) {
    if (e instanceof AskGit) return undefined;
    throw e;
  }
}
