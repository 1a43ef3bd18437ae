/**
 * `keyfleet set` refuses an empty value (closed stdin, Enter or Ctrl-D at a prompt all give "") with
 * its own exit code, 10, and leaves the file untouched; `--allow-empty` stores the empty string.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTmp, kf, project, setupKeys, type Keys } from "./cli-helpers";

let k: Keys;
beforeAll(() => {
  k = setupKeys();
});
afterAll(cleanupTmp);

describe("set with an empty value", () => {
  it("is refused with exit code 10 (closed stdin, a lone newline, an empty --json string); the file is unchanged", () => {
    const d = project(k);
    const env = { SOPS_AGE_KEY_FILE: k.alice.file };
    const before = readFileSync(join(d, "secrets/app.yaml"), "utf8");
    for (const [args, input] of [
      [[], ""],
      [[], "\n"],
      [["--json"], '""'],
    ] as const) {
      const r = kf(["set", ...args, "secrets/app.yaml", "db.password"], { cwd: d, home: k.home, env, input });
      expect(r.code, r.stderr).toBe(10);
      expect(r.stderr).toContain(
        `keyfleet: refusing to store an empty value at ["db"]["password"] in secrets/app.yaml; type or pipe the value, or pass --allow-empty`,
      );
    }
    expect(readFileSync(join(d, "secrets/app.yaml"), "utf8")).toBe(before);
  });

  it("--allow-empty stores the empty string", () => {
    const d = project(k);
    const env = { SOPS_AGE_KEY_FILE: k.alice.file };
    expect(
      kf(["set", "--allow-empty", "secrets/app.yaml", "db.password"], { cwd: d, home: k.home, env, input: "" }).code,
    ).toBe(0);
    const r = kf(["decrypt", "--extract", '["db"]["password"]', "secrets/app.yaml"], { cwd: d, home: k.home, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
  });
});
