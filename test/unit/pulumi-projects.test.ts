/**
 * The Pulumi projects in this repository (root, examples/fleet, examples/raw-resources) must be runnable by the real CLI:
 * `main` a relative file inside the project (the CLI refuses a main outside it and runs the program in
 * main's directory), loading a program that `npm run build` produced.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";

const root = resolve(__dirname, "../..");

describe.each([
  [".", "dist/examples/fleet/index.js"],
  ["examples/fleet", "dist/examples/fleet/index.js"],
  ["examples/raw-resources", "dist/examples/raw-resources/index.js"],
])("Pulumi project %s", (dir, program) => {
  const projectDir = join(root, dir);
  const project = parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as {
    name?: string;
    runtime?: { name?: string };
    main?: string;
  };

  it("is a nodejs project whose main is a file in the project directory", () => {
    expect(project.runtime?.name).toBe("nodejs");
    expect(typeof project.main).toBe("string");
    const main = resolve(projectDir, project.main ?? "");
    expect(main.startsWith(projectDir + "/")).toBe(true);
    expect(dirname(main)).toBe(projectDir);
    expect(existsSync(main)).toBe(true);
  });

  it("main loads the compiled program", () => {
    const main = resolve(projectDir, project.main ?? "");
    const m = /require\("([^"]+)"\)/.exec(readFileSync(main, "utf8"));
    expect(m).not.toBeNull();
    const target = resolve(projectDir, m?.[1] ?? "");
    expect(target).toBe(join(root, program));
    expect(existsSync(target)).toBe(true);
  });
});
