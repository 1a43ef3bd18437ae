/**
 * `keyfleet push [--host NAME…] [--dry-run] [-y]`: reconciles every host of `fleet.yaml` without
 * Pulumi, on the same provider code as `pulumi up` (provider/fleet). It prints the plan, asks
 * unless `-y`, re-keys the files, then pushes the hosts in parallel (bounded), one progress line per
 * host and a summary table. An unreachable host does not stop the others; the exit status says so.
 */
import { KeyfleetError } from "../provider/errors";
import { applyFiles, applyHosts, nothingToDo, planChanges, selectedHosts } from "../provider/fleet/reconcile";
import type { CliIo, ParsedArgs } from "./args";
import { sopsVerb } from "./exit-codes";
import {
  CONCURRENCY_FLAG,
  INVENTORY_FLAG,
  concurrencyOf,
  desiredOf,
  openProject,
  withConnections,
} from "./fleet-project";
import { EXIT_SOME_HOSTS_FAILED, fileLines, planLines, progressLine, summaryTable } from "./fleet-report";
import { confirmOrRefuse } from "./updatekeys";

/** The push verb. */
export const pushVerb = sopsVerb(
  {
    name: "push",
    summary: "re-key the files and push every host's env files from fleet.yaml (no Pulumi)",
    usage: "[--host NAME]… [--dry-run] [-y] [--concurrency N] [--inventory FILE]",
    details:
      "Desired state: fleet.yaml plus the sops files; actual state: the files' recipients and the\n" +
      "hosts' files (read-back digests). keyfleet keeps no state of its own, so a push and a\n" +
      "`pulumi up` of the same inventory agree. The plan shows who gains or loses access per file\n" +
      "and which hosts get a new or changed env file; --dry-run stops there. Files are written\n" +
      "atomically; env files are written only where the host differs, and restarts run only then.\n" +
      "--host limits the run to those hosts and the files they use.\n" +
      `Exit status: 0 done, ${EXIT_SOME_HOSTS_FAILED} when some host failed (the others were pushed), 1 other errors.\n` +
      "example: keyfleet push -y",
    flags: {
      host: { type: "string", valueName: "NAME", description: "only this host (repeatable); default: every host" },
      "dry-run": { type: "boolean", description: "print the plan and change nothing" },
      yes: { type: "boolean", short: "y", description: "do not ask for confirmation" },
      concurrency: CONCURRENCY_FLAG,
      inventory: INVENTORY_FLAG,
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    if (args.positionals.length > 0)
      throw new KeyfleetError("USAGE", "push takes no arguments (hosts go after --host)", {
        hint: "see keyfleet push --help",
      });
    const concurrency = concurrencyOf("push", args.flags.concurrency);
    const project = openProject(args.flags.inventory, io.env);
    const d = desiredOf(project, io.env);
    const only = args.all?.["host"] ?? [];
    const unknown = only.filter((h) => !(project.inventory.hosts ?? {})[h]);
    if (unknown.length > 0)
      throw new KeyfleetError("USAGE", `no host named ${unknown.join(", ")} in ${project.file}`, {
        hint: `hosts: ${Object.keys(project.inventory.hosts ?? {}).join(", ") || "none"}`,
      });
    const files = only.length === 0 ? undefined : [...new Set(only.flatMap((h) => d.plan.hostFiles[h] ?? []))];
    return withConnections(async () => {
      const plan = await planChanges(d, { hosts: only, ...(files ? { files } : {}), concurrency });
      if (nothingToDo(plan)) {
        io.stderr("nothing to do: every file and host is up to date\n");
        return 0;
      }
      io.stderr(["plan:", ...planLines(plan), ""].join("\n"));
      if (args.flags["dry-run"] === true) {
        io.stderr("dry run: nothing changed\n");
        return 0;
      }
      if (!(await confirmOrRefuse(io, args.flags.yes === true, "push"))) {
        io.stderr("no changes made\n");
        return 0;
      }
      const fileResults = await applyFiles(d.files.filter((f) => files === undefined || files.includes(f.name)));
      for (const l of fileLines(fileResults)) io.stderr(l + "\n");
      const total = selectedHosts(d, only).length;
      let done = 0;
      const results = await applyHosts(d, {
        hosts: only,
        concurrency,
        onHost: (r) => io.stderr(progressLine(r, ++done, total) + "\n"),
      });
      if (results.length > 0) io.stdout(summaryTable(results).join("\n") + "\n");
      const failed = results.filter((r) => r.error !== undefined);
      if (failed.length > 0) {
        io.stderr(
          `keyfleet: ${failed.length} of ${results.length} hosts failed: ${failed.map((r) => r.host).join(", ")}; the others were pushed. Run keyfleet push again when they are reachable\n`,
        );
        return EXIT_SOME_HOSTS_FAILED;
      }
      return 0;
    });
  },
);
