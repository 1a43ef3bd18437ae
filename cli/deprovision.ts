/**
 * `keyfleet deprovision NAME`: removes a host from fleet.yaml, rotates the files it could read
 * (printing which values it could read: change those), and removes its env files from the host
 * when it is reachable (saying so when it is not).
 */
import { KeyfleetError } from "../provider/errors";
import { desiredFleet } from "../provider/fleet/desired";
import { editInventory, removeHost } from "../provider/fleet/inventory-edit";
import { readInventory } from "../provider/fleet/inventory";
import { applyFiles, removeEnvs } from "../provider/fleet/reconcile";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { sopsVerb } from "./exit-codes";
import { INVENTORY_FLAG, openProject, withConnections } from "./fleet-project";
import { EXIT_SOME_HOSTS_FAILED, fileLines } from "./fleet-report";

/** The deprovision verb. */
export const deprovisionVerb = sopsVerb(
  {
    name: "deprovision",
    summary: "remove a host from fleet.yaml, rotate what it could read, remove its env files",
    usage: "NAME [--inventory FILE]",
    details:
      "The files the host could read get a new data key without it, and keyfleet prints the values it\n" +
      "could read: change those (it may have kept a copy). Its env files are removed from the host\n" +
      "when it is reachable (keepOnDelete: true keeps them); when it is not, keyfleet says so and\n" +
      `exits ${EXIT_SOME_HOSTS_FAILED}.\n` +
      "example: keyfleet deprovision web-2",
    flags: { inventory: INVENTORY_FLAG },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    if (args.positionals.length !== 1) throw new UsageError("deprovision", "give the host's NAME as in fleet.yaml");
    const name = args.positionals[0] as string;
    const project = openProject(args.flags.inventory, io.env);
    if (!(project.inventory.hosts ?? {})[name]) {
      throw new KeyfleetError("NOT_FOUND", `no host named ${name} in ${project.file}`, {
        file: project.file,
        hint: `hosts: ${Object.keys(project.inventory.hosts ?? {}).join(", ") || "none"}`,
      });
    }
    const before = desiredFleet(project.inventory, project.file, { env: io.env });
    const used = before.plan.hostFiles[name] ?? [];
    const previous = before.files.flatMap((f) => f.inputs.recipients);
    const envs = before.envs.filter((e) => e.host === name);
    editInventory(project.file, (doc) => void removeHost(doc, name));
    io.stderr(`${project.file}: host ${name} removed\n`);
    const after = desiredFleet(readInventory(project.file), project.file, { env: io.env });
    return withConnections(async () => {
      const results = await applyFiles(
        after.files.filter((f) => used.includes(f.name)),
        previous,
      );
      for (const l of fileLines(results)) io.stderr(l + "\n");
      const problem = before.hostProblems[name];
      const paths = (project.inventory.hosts?.[name]?.envFiles ?? [])
        .filter((e) => e.keepOnDelete !== true)
        .map((e) => e.path);
      if (paths.length === 0) return 0;
      try {
        if (problem !== undefined) throw new Error(problem);
        for (const p of await removeEnvs(envs)) io.stderr(`${name}: removed ${p}\n`);
      } catch (e) {
        io.stderr(
          `keyfleet: ${name} is not reachable (${e instanceof Error ? e.message : String(e)}); remove ${paths.join(", ")} from it by hand. The files were rotated: it cannot read new values\n`,
        );
        return EXIT_SOME_HOSTS_FAILED;
      }
      return 0;
    });
  },
);
