/**
 * readGitUser (git config read without running git) against git itself: for every config below,
 * in a fresh HOME and repository, either it gives exactly what `git config --get` gives, or it
 * declines (undefined) and git is asked. The cases it must decline are listed, and the common
 * shapes must be answered directly (or the start-up gain is lost).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readGitUser } from "../../../provider/access/git-config";
import { resolveActor } from "../../../provider/access/actor";

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

interface Setup {
  home?: string;
  xdg?: string;
  repo?: string;
  /** Write the repository's config as a `.git` file pointing elsewhere (a worktree). */
  gitFile?: boolean;
}

/** A HOME with the given global configs and a repository with the given local config; git's env. */
function setup(s: Setup): { cwd: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(join(tmpdir(), "kf-gitcfg-"));
  roots.push(root);
  const home = join(root, "home");
  mkdirSync(join(home, ".config", "git"), { recursive: true });
  // the repository first, while HOME has no config (some configs below are ones git refuses)
  const init = spawnSync("git", ["init", "-q", join(root, "project")], {
    env: { PATH: process.env["PATH"], HOME: home },
    encoding: "utf8",
  });
  expect(init.status, init.stderr).toBe(0);
  if (s.home !== undefined) writeFileSync(join(home, ".gitconfig"), s.home);
  if (s.xdg !== undefined) writeFileSync(join(home, ".config", "git", "config"), s.xdg);
  const cwd = join(root, "project", "sub");
  mkdirSync(cwd, { recursive: true });
  const env: NodeJS.ProcessEnv = { PATH: process.env["PATH"], HOME: home, LANG: "C" };
  if (s.repo !== undefined)
    writeFileSync(join(root, "project", ".git", "config"), `[core]\n\trepositoryformatversion = 0\n${s.repo}`);
  if (s.gitFile) {
    rmSync(join(root, "project", ".git"), { recursive: true });
    writeFileSync(join(root, "project", ".git"), `gitdir: ${join(root, "elsewhere")}\n`);
  }
  return { cwd, env };
}

/** What git config prints for user.name and user.email (undefined when git fails or has none). */
function fromGit(cwd: string, env: NodeJS.ProcessEnv): { name?: string; email?: string } {
  const out: { name?: string; email?: string } = {};
  for (const k of ["name", "email"] as const) {
    const r = spawnSync("git", ["config", "--get", `user.${k}`], { cwd, env, encoding: "utf8" });
    if (r.status === 0) out[k] = r.stdout.replace(/\n$/, "");
  }
  return out;
}

const ANSWERED: [string, Setup][] = [
  ["global only", { home: "[user]\n\tname = Ada Lovelace\n\temail = ada@example.test\n" }],
  ["xdg, then ~/.gitconfig wins", { xdg: "[user]\n name = Xdg\n email = x@e.test\n", home: "[user]\n name = Home\n" }],
  ["xdg only", { xdg: "[user]\nname=Only Xdg\n" }],
  [
    "repository overrides global",
    { home: "[user]\n\tname = G\n\temail = g@e.test\n", repo: "[user]\n\temail = r@e.test\n" },
  ],
  ["case, spaces, comments", { home: "# c\n[User] ; c\n\tNAME   =   Grace  Hopper   # c\n\tEmail=g@e.test;c\n" }],
  ["repeated keys: the last wins", { home: "[user]\nname = A\n[core]\n\tx = 1\n[user]\nname = B\n" }],
  [
    "subsections are other sections",
    { home: '[user "x"]\n\tname = Sub\n[remote "origin"]\n\turl = u\n[user]\n\temail = e@e.test\n' },
  ],
  ["empty name", { home: "[user]\n\tname =\n\temail = e@e.test\n" }],
  ["nothing configured", {}],
];

const DECLINED: [string, Setup][] = [
  ["an include", { home: "[include]\n\tpath = other\n[user]\n\tname = A\n" }],
  ["an includeIf", { home: '[includeIf "gitdir:~/w/"]\n\tpath = w\n[user]\n\tname = A\n' }],
  ["a quoted name", { home: '[user]\n\tname = "A # not a comment"\n' }],
  ["an escape", { home: "[user]\n\tname = A\\tB\n" }],
  ["a continued line", { home: "[user]\n\tname = A \\\n B\n" }],
  ["an odd quote elsewhere", { home: '[core]\n\tx = "a\n[user]\n\tname = A\n' }],
  ["a variable before any section", { home: "name = A\n[user]\n\temail = e@e.test\n" }],
  ["a bare boolean key", { home: "[user]\n\tname\n" }],
  ["a header with a variable on its line", { home: "[user] name = A\n" }],
  ["a .git file (worktree or submodule)", { home: "[user]\n\tname = A\n", gitFile: true }],
  ["a per-worktree config", { repo: "[extensions]\n\tworktreeConfig = true\n[user]\n\tname = A\n" }],
];

describe("readGitUser against git config", () => {
  it.each(ANSWERED)("answers directly, as git does: %s", (_what, s) => {
    const { cwd, env } = setup(s);
    const direct = readGitUser(cwd, env);
    expect(direct).toBeDefined();
    const want = fromGit(cwd, env);
    expect(direct?.name ?? undefined).toBe(want.name);
    expect(direct?.email ?? undefined).toBe(want.email);
  });

  it.each(DECLINED)("declines, so git is asked: %s", (_what, s) => {
    const { cwd, env } = setup(s);
    expect(readGitUser(cwd, env)).toBeUndefined();
  });

  it("declines a config that is not a regular file (a FIFO would block the read)", () => {
    const { cwd, env } = setup({});
    const fifo = spawnSync("mkfifo", [join(env["HOME"] as string, ".gitconfig")]);
    expect(fifo.status).toBe(0);
    expect(readGitUser(cwd, env)).toBeUndefined();
  });

  it("declines when a GIT_ variable changes the config or the repository, not for others", () => {
    const { cwd, env } = setup({ home: "[user]\n\tname = A\n" });
    expect(readGitUser(cwd, env)).toBeDefined();
    expect(readGitUser(cwd, { ...env, GIT_SSL_CAINFO: "/x" })).toBeDefined();
    for (const k of [
      "GIT_DIR",
      "GIT_CONFIG_GLOBAL",
      "GIT_CONFIG_NOSYSTEM",
      "GIT_CONFIG_COUNT",
      "GIT_CEILING_DIRECTORIES",
    ])
      expect(readGitUser(cwd, { ...env, [k]: "1" }), k).toBeUndefined();
    expect(readGitUser(cwd, { ...env, HOME: "" })).toBeUndefined();
  });

  it("resolveActor gives git's answer both ways (read directly, and through git when declined)", () => {
    for (const [, s] of [...ANSWERED, ...DECLINED]) {
      const { cwd, env } = setup(s);
      const want = fromGit(cwd, env);
      const expected = want.name ? (want.email ? `${want.name} <${want.email}>` : want.name) : "someone";
      const saved = { ...process.env };
      try {
        for (const k of Object.keys(process.env)) delete process.env[k];
        Object.assign(process.env, env);
        expect(resolveActor(cwd, { USER: "someone" })).toBe(expected);
      } finally {
        for (const k of Object.keys(process.env)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    }
  });
});
