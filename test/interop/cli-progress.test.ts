/**
 * The progress line of `keyfleet updatekeys` as a user sees it: on a real terminal (a pty made by
 * util-linux `script`), a batch past the quiet period shows "updatekeys: N/M files", rewritten in
 * place with carriage returns and ended by a newline, with counts only: no file names, no values.
 * The quiet period is set to 0 through KEYFLEET_PROGRESS_AFTER_MS so a small batch shows it (a real
 * batch shows it after 2 s; the period itself is tested on a fake clock in test/unit/cli/progress).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cleanupTmp, kf, project, setupKeys, type Keys } from "./cli-helpers";

const N = 30;
let keys: Keys;

beforeAll(() => {
  const r = spawnSync("sh", ["-c", "command -v script"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error("script (util-linux) is not installed: apt-get install -y bsdutils");
  keys = setupKeys();
});
afterAll(() => cleanupTmp());

/** A project with N files for alice, its rule now naming alice and bob. */
function batch(): { d: string; files: string[] } {
  const d = project(keys);
  const files = Array.from({ length: N }, (_, i) => `secrets/f${i}.yaml`);
  for (const f of files) copyFileSync(join(d, "secrets/app.yaml"), join(d, f));
  const cfg = readFileSync(join(d, ".sops.yaml"), "utf8");
  writeFileSync(
    join(d, ".sops.yaml"),
    cfg.replace("age: *alice", `age: ${keys.alice.recipient},${keys.bob.recipient}`),
  );
  return { d, files };
}

const env = (): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: keys.home,
  TERM: "dumb",
  SOPS_AGE_KEY_FILE: keys.alice.file,
  KEYFLEET_PROGRESS_AFTER_MS: "0",
});

describe("updatekeys progress line", () => {
  it("on a terminal: 'updatekeys: N/M files' rewritten in place up to the last file, then a newline; counts only", () => {
    const { d, files } = batch();
    const cmd = [process.execPath, CLI, "updatekeys", "-y", ...files].map((a) => `'${a}'`).join(" ");
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], {
      cwd: d,
      env: env(),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const screen = r.stdout;
    expect(screen).toContain(`secrets/f${N - 1}.yaml: updated (1 added, 0 removed)`);
    const lines = [...screen.matchAll(/\rupdatekeys: [^\r\n]*/g)].map((m) => m[0]);
    expect(lines.length).toBeGreaterThan(0);
    expect(
      lines.every((l) => new RegExp(`^\\rupdatekeys: \\d+/${N} files$`).test(l)),
      lines.join("|"),
    ).toBe(true);
    expect(screen).toMatch(new RegExp(`\\rupdatekeys: ${N}/${N} files\\r?\\n`));
    expect(screen).not.toContain("s3cr3t");
    expect(screen).not.toContain(keys.alice.secret);
    for (const f of files) expect(readFileSync(join(d, f), "utf8")).toContain(keys.bob.recipient);
  });

  it("elsewhere (stderr a pipe): whole lines, counts only, no carriage return", () => {
    const { d, files } = batch();
    const r = kf(["updatekeys", "-y", ...files], { cwd: d, home: keys.home, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("updatekeys:"));
    expect(lines.at(-1)).toBe(`updatekeys: ${N}/${N} files`);
    expect(lines.every((l) => new RegExp(`^updatekeys: \\d+/${N} files$`).test(l))).toBe(true);
    expect(r.stderr).not.toContain("\r");
    expect(r.stderr).not.toContain("s3cr3t");
  });
});
