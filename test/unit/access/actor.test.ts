// resolveActor: one `git config --get-regexp` process gives what two `git config --get` gave, the
// last value of a key given more than once included; outside git config it falls back to $USER.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveActor, resolveActorLater } from "../../../provider/access/actor";

/** A git repository whose config is `config` and whose global and system configs are empty files. */
function repo(config: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), "kf-actor-"));
  const r = spawnSync("git", ["init", "-q", dir], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  writeFileSync(join(dir, ".git", "config"), `[core]\n\trepositoryformatversion = 0\n${config}`);
  writeFileSync(join(dir, "empty"), "");
  return { dir, env: { ...process.env, GIT_CONFIG_GLOBAL: join(dir, "empty"), GIT_CONFIG_NOSYSTEM: "1" } };
}

function gitGet(dir: string, env: NodeJS.ProcessEnv, key: string): string {
  return spawnSync("git", ["config", "--get", key], { cwd: dir, env, encoding: "utf8" }).stdout.trim();
}

/**
 * resolveActor with `env` as the process environment (git reads it; $USER comes from `users`), after
 * checking that resolveActorLater (git started now, awaited later) gives the same.
 */
async function actorIn(
  dir: string,
  env: NodeJS.ProcessEnv,
  users: Record<string, string | undefined>,
): Promise<string> {
  const saved = { ...process.env };
  try {
    Object.assign(process.env, env);
    const later = resolveActorLater(dir, users);
    const now = resolveActor(dir, users);
    expect(await later).toBe(now);
    return now;
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe("resolveActor", () => {
  it("is `name <email>` from git config, the last value of a repeated key as git config --get prints it", async () => {
    const { dir, env } = repo("[user]\n\tname = First Name\n\temail = a@example.test\n[user]\n\tname = Last Name\n");
    expect(gitGet(dir, env, "user.name")).toBe("Last Name");
    expect(await actorIn(dir, env, { USER: "someone" })).toBe("Last Name <a@example.test>");
  });

  it("is the name alone without an email, and $USER without a name", async () => {
    const named = repo("[user]\n\tname = Only Name\n");
    expect(await actorIn(named.dir, named.env, { USER: "someone" })).toBe("Only Name");
    const bare = repo("[user]\n\temail = e@example.test\n\tname =\n");
    expect(await actorIn(bare.dir, bare.env, { USER: "someone" })).toBe("someone");
    expect(await actorIn(bare.dir, bare.env, {})).toBe("unknown");
  });

  it("does not take other user.* keys for the name or the email", async () => {
    const { dir, env } = repo("[user]\n\tnamex = Not It\n\temailaddr = no@example.test\n\tsigningkey = ABC\n");
    expect(await actorIn(dir, env, { USERNAME: "win-user" })).toBe("win-user");
  });
});
