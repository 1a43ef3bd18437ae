/**
 * examples/ci/github-actions.yml: it runs `keyfleet push -y` on a push that touches secrets/ or
 * fleet.yaml, takes the CI identity from the SOPS_AGE_KEY repository secret and the SSH key from
 * another, and every keyfleet command it runs exists with the flags it passes (parsed by the CLI's
 * own argument parser against each verb's spec).
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { VERBS } from "../../../cli/main";
import { parseArgs } from "../../../cli/args";

type Step = { run?: string; env?: Record<string, string>; uses?: string };
type Workflow = { on: { push: { paths: string[]; branches?: string[] } }; jobs: Record<string, { steps: Step[] }> };

const wf = parse(readFileSync(join(__dirname, "../../../examples/ci/github-actions.yml"), "utf8")) as Workflow;
const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
const commands = steps.flatMap((s) =>
  (s.run ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /(^|\s)keyfleet\s/.test(l))
    .map((l) => ({ line: l, step: s })),
);

describe("examples/ci/github-actions.yml", () => {
  it("triggers on pushes touching secrets/ or fleet.yaml", () => {
    expect(wf.on.push.paths).toEqual(expect.arrayContaining(["secrets/**", "fleet.yaml"]));
  });

  it("runs keyfleet push -y with SOPS_AGE_KEY from a repository secret, and the SSH key from another", () => {
    const push = commands.find((c) => /keyfleet push\b.*\s-y\b/.test(c.line));
    expect(push).toBeDefined();
    expect(push?.step.env?.["SOPS_AGE_KEY"]).toBe("${{ secrets.SOPS_AGE_KEY }}");
    const ssh = steps.find((s) =>
      Object.values(s.env ?? {}).some((v) => /\$\{\{ secrets\.(?!SOPS_AGE_KEY\b)\w+ \}\}/.test(v)),
    );
    expect(ssh?.run).toContain("~/.ssh/id_ed25519");
    // the key reaches the file through the environment, never as an argument
    expect(ssh?.run).not.toMatch(/\$\{\{/);
  });

  it("every keyfleet command exists with the flags it passes", async () => {
    expect(commands.length).toBeGreaterThan(0);
    for (const { line } of commands) {
      const words = line.split(/\s+/);
      const [verb, ...rest] = words.slice(words.indexOf("keyfleet") + 1);
      const load = VERBS[verb as string];
      expect(load, `verb ${verb} in "${line}"`).toBeDefined();
      const args = parseArgs(rest, (await load!()).spec); // throws UsageError on an unknown flag or a missing value
      expect(args.positionals, line).toEqual([]);
    }
  });
});
