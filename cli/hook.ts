/**
 * `keyfleet hook install`: installs `keyfleet scan --staged` as the git pre-commit hook, in the
 * hooks directory git uses (honouring `core.hooksPath`). An existing hook that keyfleet did not
 * write is kept as `pre-commit.pre-keyfleet` and runs first; installing again changes nothing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { KeyfleetError } from "../provider/errors";
import { gitEnv, gitTop } from "../provider/access/scan/git";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { sopsVerb } from "./exit-codes";
import { writeOutput } from "./files";

/** The line that marks a hook as keyfleet's. */
export const HOOK_MARKER = "# keyfleet leak gate (keyfleet hook install)";
/** Name under which an existing hook is kept and chained. */
export const CHAINED = "pre-commit.pre-keyfleet";

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The hook script: the chained hook first, then the scan (keyfleet on PATH, else this installation). */
export function hookScript(node: string, cli: string): string {
  return [
    "#!/bin/sh",
    HOOK_MARKER,
    "# an existing hook kept by keyfleet runs first; its failure stops the commit",
    'hookdir=$(dirname "$0")',
    `if [ -x "$hookdir/${CHAINED}" ]; then "$hookdir/${CHAINED}" "$@" || exit $?; fi`,
    "if command -v keyfleet >/dev/null 2>&1; then exec keyfleet scan --staged; fi",
    `exec ${q(node)} ${q(cli)} scan --staged`,
    "",
  ].join("\n");
}

/** The hooks directory git uses for the repository at `top` (core.hooksPath honoured). */
export function hooksDir(top: string): string {
  const r = spawnSync("git", ["rev-parse", "--git-path", "hooks"], { cwd: top, env: gitEnv() });
  if (r.status !== 0)
    throw new KeyfleetError("GIT", "cannot find the git hooks directory", {
      file: top,
      hint: "run keyfleet hook install inside a git repository",
    });
  const p = r.stdout.toString("utf8").trim();
  return isAbsolute(p) ? p : resolve(top, p);
}

/** The hook verb. */
export const hookVerb = sopsVerb(
  {
    name: "hook",
    summary: "install the leak gate (keyfleet scan --staged) as the git pre-commit hook",
    usage: "install",
    details:
      "Writes the pre-commit hook in the directory git uses (core.hooksPath honoured). A hook already\n" +
      `there is kept as ${CHAINED} and runs first. Running it again changes nothing.\n` +
      "pre-commit framework users: add the repository with `id: keyfleet-scan` instead.",
    flags: {},
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    if (args.positionals[0] !== "install" || args.positionals.length > 1)
      throw new UsageError(
        "hook",
        args.positionals.length
          ? `unknown argument ${JSON.stringify(args.positionals.slice(-1)[0])}`
          : "missing install",
      );
    const top = gitTop(process.cwd());
    const dir = hooksDir(top);
    mkdirSync(dir, { recursive: true });
    const target = join(dir, "pre-commit");
    const script = hookScript(process.execPath, resolve(__dirname, "main.js"));
    if (existsSync(target)) {
      const current = readFileSync(target, "utf8");
      if (current.includes(HOOK_MARKER)) {
        if (current === script) {
          io.stderr(`keyfleet hook: already installed in ${target}\n`);
          return 0;
        }
      } else {
        const kept = join(dir, CHAINED);
        if (existsSync(kept))
          throw new KeyfleetError("HOOK_EXISTS", `${target} is not keyfleet's and ${kept} exists too`, {
            file: target,
            hint: `merge them by hand, then run keyfleet hook install again`,
          });
        renameSync(target, kept);
        io.stderr(`keyfleet hook: kept the existing hook as ${kept}; it runs first\n`);
      }
    }
    writeOutput(target, script, 0o755);
    io.stderr(`keyfleet hook: installed ${target}\n`);
    return 0;
  },
);
