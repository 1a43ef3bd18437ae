/**
 * The Pulumi projects in this repository (root and examples/fleet) must be runnable by the real CLI:
 * `main` a relative file inside the project (the CLI refuses a main outside it and runs the program in
 * main's directory), loading a program that `npm run build` produced.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";

const root = resolve(__dirname, "../..");

describe.each([".", "examples/fleet"])("Pulumi project %s", (dir) => {
  const projectDir = join(root, dir);
  const project = parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as { name?: string; runtime?: { name?: string }; main?: string };

  it("is a nodejs project whose main is a file in the project directory", () => {
    expect(project.runtime?.name).toBe("nodejs");
    expect(typeof project.main).toBe("string");
    const main = resolve(projectDir, project.main ?? "");
    expect(main.startsWith(projectDir + "/")).toBe(true);
    expect(dirname(main)).toBe(projectDir);
    expect(existsSync(main)).toBe(true);
  });

  it("main loads the compiled fleet program", () => {
    const main = resolve(projectDir, project.main ?? "");
    const m = /require\("([^"]+)"\)/.exec(readFileSync(main, "utf8"));
    expect(m).not.toBeNull();
    const target = resolve(projectDir, m?.[1] ?? "");
    expect(target).toBe(join(root, "dist/examples/fleet/index.js"));
    expect(existsSync(target)).toBe(true);
  });
});
