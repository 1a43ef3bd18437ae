/**
 * `keyfleet provision [NAME=]user@host[:port] --env PATH:secrets/FILE[:KEY,…]`: gives a new server
 * its secrets through the SSH trust it already has.
 *  1. reads the host's ed25519 host key and shows its fingerprint; asks unless `--fingerprint`
 *     pins it (or fleet.yaml already pins the same key);
 *  2. adds the host to fleet.yaml with its pinned key and env files;
 *  3. re-keys the files those env files use (same data key: only a new age entry);
 *  4. pushes the env files (pinned, atomic, read back), restarting only on a change.
 * A second run finds nothing to change and says so.
 */
import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { sshFingerprint } from "../provider/age";
import { canonicalRecipientText } from "../provider/access/names";
import { KeyfleetError } from "../provider/errors";
import { scanHostKey } from "../provider/ssh";
import { desiredFleet } from "../provider/fleet/desired";
import { editInventory, ensureFile, setHost, type InventoryHost } from "../provider/fleet/inventory-edit";
import { readInventory } from "../provider/fleet/inventory";
import { applyFiles, applyHost } from "../provider/fleet/reconcile";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { sopsVerb } from "./exit-codes";
import { fileNameFor, parseEnvSpec, parseTarget, type Target } from "./fleet-args";
import { INVENTORY_FLAG, openProject, withConnections } from "./fleet-project";
import { EXIT_SOME_HOSTS_FAILED, fileLines, progressLine } from "./fleet-report";
import { confirm, stdinIsTty } from "./prompt";

const FP = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Scans the host and checks its key against `--fingerprint`, the inventory's pin, or the user. */
async function trustedHostKey(
  t: Target,
  pinned: string | undefined,
  fingerprint: string | undefined,
  io: CliIo,
): Promise<string> {
  const port = t.port ?? 22;
  let line: string;
  try {
    line = canonicalRecipientText(await scanHostKey(t.host, port, { timeoutMs: 10_000 }));
  } catch (e) {
    throw new KeyfleetError(
      "HOST_SCAN",
      `cannot read the ssh host key of ${t.host}:${port}: ${e instanceof Error ? e.message : String(e)}`,
      { hint: "check that sshd is reachable and offers an ed25519 host key", cause: e },
    );
  }
  const seen = sshFingerprint(line);
  const expected = fingerprint ?? (pinned ? sshFingerprint(canonicalRecipientText(pinned)) : undefined);
  if (expected !== undefined) {
    if (expected !== seen) {
      throw new KeyfleetError("HOST_KEY_MISMATCH", `host key of ${t.host}:${port} is ${seen}, expected ${expected}`, {
        hint: fingerprint
          ? "check the fingerprint with the host's provider (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host)"
          : "the host's key changed since it was pinned in fleet.yaml; if that is legitimate, deprovision and provision it again",
      });
    }
    return line;
  }
  if (!stdinIsTty()) {
    throw new KeyfleetError(
      "CONFIRM_NEEDED",
      `the host key of ${t.host}:${port} is ${seen}; refusing to trust it without confirmation: standard input is not a terminal`,
      {
        hint: `check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and pass --fingerprint ${seen}`,
      },
    );
  }
  io.stderr(`host key of ${t.host}:${port}: ED25519 ${seen}\n`);
  if (!(await confirm("Is this the host's key? (y/n): ", io)))
    throw new KeyfleetError("NOT_CONFIRMED", `the host key of ${t.host}:${port} was not confirmed`, {
      hint: "nothing was changed",
    });
  return line;
}

/** The provision verb. */
export const provisionVerb = sopsVerb(
  {
    name: "provision",
    summary: "add a host to fleet.yaml, encrypt its files to it and push its env files",
    usage:
      "[NAME=]user@host[:port] --env PATH:secrets/FILE[:KEY,…]… [--format systemd] [--restart UNIT | --on-change CMD] [--fingerprint SHA256:…] [--ssh-key FILE]",
    details:
      "Reads the host's ed25519 host key and asks you to confirm its fingerprint, unless --fingerprint\n" +
      "pins it (as CI does) or fleet.yaml already pins that key. Then adds the host to fleet.yaml,\n" +
      "re-keys the files its env files use (same data key: only a new age entry in the git diff) and\n" +
      "pushes the env files (pinned, atomic, read back), running --restart only when the file changed.\n" +
      "Running it again changes nothing and says so.\n" +
      "example: keyfleet provision web-1=deploy@203.0.113.10 --env /etc/app/app.env:secrets/app.yaml:DB_PASSWORD --restart app.service",
    flags: {
      env: {
        type: "string",
        valueName: "PATH:FILE[:KEYS]",
        description: "an env file on the host from a sops file (repeatable); KEYS comma separated, default every key",
      },
      format: { type: "string", valueName: "FORMAT", description: "dotenv, systemd or json; default: dotenv" },
      restart: {
        type: "string",
        valueName: "UNIT",
        description: "systemd unit restarted when an env file changed (repeatable)",
      },
      "on-change": {
        type: "string",
        valueName: "CMD",
        description: "shell command run on the host when an env file changed (instead of --restart)",
      },
      fingerprint: {
        type: "string",
        valueName: "SHA256:…",
        description: "the expected host-key fingerprint (no question asked)",
      },
      "ssh-key": {
        type: "string",
        valueName: "FILE",
        description:
          "SSH private key for the login, recorded as privateKeyFile; default: $SSH_AUTH_SOCK, else ~/.ssh/id_ed25519",
      },
      inventory: INVENTORY_FLAG,
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    if (args.positionals.length !== 1)
      throw new UsageError(
        "provision",
        args.positionals.length === 0 ? "missing the target [NAME=]user@host[:port]" : "give one target per run",
      );
    const target = parseTarget(args.positionals[0] as string);
    const specs = (args.all?.["env"] ?? []).map(parseEnvSpec);
    if (specs.length === 0) throw new UsageError("provision", "give at least one --env PATH:secrets/FILE[:KEY,…]");
    const format = typeof args.flags.format === "string" ? args.flags.format : undefined;
    if (format !== undefined && !["dotenv", "systemd", "json"].includes(format))
      throw new UsageError("provision", "--format must be dotenv, systemd or json");
    const fingerprint = typeof args.flags.fingerprint === "string" ? args.flags.fingerprint : undefined;
    if (fingerprint !== undefined && !FP.test(fingerprint))
      throw new UsageError(
        "provision",
        "--fingerprint must look like SHA256:<43 base64 characters>, as ssh-keygen -lf prints it",
      );
    const restart = args.all?.["restart"] ?? [];
    const onChange = typeof args.flags["on-change"] === "string" ? args.flags["on-change"] : undefined;
    if (onChange !== undefined && restart.length > 0)
      throw new UsageError("provision", "give --restart or --on-change, not both");
    const project = openProject(args.flags.inventory, io.env);
    const sshKey =
      typeof args.flags["ssh-key"] === "string" ? relative(process.cwd(), resolve(args.flags["ssh-key"])) : undefined;
    for (const s of specs)
      if (!existsSync(s.file))
        throw new KeyfleetError("NOT_FOUND", `${s.file} does not exist`, {
          file: s.file,
          hint: `add its values first: keyfleet add NAME --file ${s.file}`,
        });
    const existing = project.inventory.hosts?.[target.name];
    return withConnections(async () => {
      const hostKey = await trustedHostKey(target, existing?.hostKey, fingerprint, io);
      // file entries: an existing entry with the same path, else a new one
      const files = { ...project.inventory.files };
      const byPath = new Map(Object.entries(files).map(([n, f]) => [f.path.replace(/^\.\//, ""), n] as const));
      const names = specs.map(
        (s) =>
          byPath.get(s.file) ??
          (() => {
            const n = fileNameFor(s.file, new Set(Object.keys(files)));
            files[n] = { path: s.file };
            byPath.set(s.file, n);
            return n;
          })(),
      );
      const envFiles = (existing?.envFiles ?? []).filter((e) => !specs.some((s) => s.path === e.path));
      specs.forEach((s, k) =>
        envFiles.push({
          path: s.path,
          ...(format ? { format: format as "dotenv" | "systemd" | "json" } : {}),
          sources: [{ file: names[k] as string, ...(s.keys ? { keys: s.keys } : {}) }],
          ...(restart.length > 0 ? { restartUnits: restart } : {}),
          ...(onChange !== undefined ? { onChange } : {}),
        }),
      );
      const host: InventoryHost = {
        ...(existing ?? {}),
        address: target.host,
        ...(target.port !== undefined ? { port: target.port } : {}),
        user: target.user,
        hostKey,
        ...(sshKey !== undefined ? { privateKeyFile: sshKey } : {}),
        envFiles,
      };
      if (target.port === undefined) delete (host as { port?: number }).port;
      // validate the whole new inventory (names, sources) before writing it
      desiredFleet(
        { ...project.inventory, files, hosts: { ...(project.inventory.hosts ?? {}), [target.name]: host } },
        project.file,
        { env: io.env },
      );
      const changedInventory = editInventory(project.file, (doc) => {
        specs.forEach((s, k) => ensureFile(doc, names[k] as string, s.file));
        setHost(doc, target.name, host);
      });
      if (changedInventory)
        io.stderr(
          `${relative(process.cwd(), project.file) || project.file}: host ${target.name} (${sshFingerprint(hostKey)}) with ${envFiles.length} env file(s)\n`,
        );
      const d = desiredFleet(readInventory(project.file), project.file, { env: io.env });
      const used = d.plan.hostFiles[target.name] ?? [];
      const fileResults = await applyFiles(d.files.filter((f) => used.includes(f.name)));
      for (const l of fileLines(fileResults)) io.stderr(l + "\n");
      const r = await applyHost(d, target.name);
      const changedHost = r.envs.some((e) => e.written || e.restarted);
      if (!changedInventory && !fileResults.some((f) => f.changed) && !changedHost && r.error === undefined) {
        io.stderr(`nothing to do: ${target.name} is already provisioned and up to date\n`);
        return 0;
      }
      io.stderr(progressLine(r, 1, 1) + "\n");
      return r.error === undefined ? 0 : EXIT_SOME_HOSTS_FAILED;
    });
  },
);
