/**
 * The desired state of a fleet, from `fleet.yaml` alone: the plan (who reads which file), each
 * file's SecretFile inputs and each env file's HostEnv inputs, exactly as the Fleet component hands
 * them to the providers. No network, no decryption: a host's recipient comes from its pinned key.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { sshToAgeRecipient } from "../age";
import { canonicalRecipientText, type NamedRecipient } from "../access/names";
import { KeyfleetError } from "../errors";
import type { SecretFileInputs } from "../resources/secret-file-inputs";
import type { HostEnvInputs } from "../resources/host-env-inputs";
import { expandHome, type Inventory } from "./inventory";
import { envFileSlug, planFleet, type FleetPlan } from "./plan";

/** One secret file of the fleet, as SecretFile's provider receives it. */
export interface DesiredFile {
  /** Name in `files`. */
  readonly name: string;
  /** SecretFile inputs: path, format, named recipients, managed values from `{ env }` seeds. */
  readonly inputs: SecretFileInputs;
}

/** One env file on a host, as HostEnv's provider receives it. */
export interface DesiredEnv {
  /** Host name in `hosts`. */
  readonly host: string;
  /** Resource-name fragment (the Fleet names the HostEnv `<fleet>-<host>-<fragment>`). */
  readonly fragment: string;
  /** HostEnv inputs (the connection holds the SSH private key: keep in memory, never print). */
  readonly inputs: HostEnvInputs;
}

/** The whole desired state. */
export interface DesiredFleet {
  readonly plan: FleetPlan;
  readonly files: DesiredFile[];
  readonly envs: DesiredEnv[];
  /** Host name → why its env files cannot be pushed (no pinned key, no user, no SSH key). */
  readonly hostProblems: Record<string, string>;
}

/** Where SSH private keys and agents are looked up when a host names none. */
export interface SshDefaults {
  /** The environment (`SSH_AUTH_SOCK`, `HOME`). Default: process.env. */
  readonly env?: Record<string, string | undefined>;
}

/**
 * A host's recipient as the HostKey resource derives it from a pinned key: the ssh-to-age form in
 * mode "age" (default), the native `ssh-ed25519` line in mode "ssh".
 */
export function hostRecipient(hostKey: string, mode: "age" | "ssh" | undefined): string {
  const key = canonicalRecipientText(hostKey);
  return (mode ?? "age") === "age" ? sshToAgeRecipient(key) : key;
}

/** The login for a host: privateKeyFile, else agent, else $SSH_AUTH_SOCK, else ~/.ssh/id_ed25519. */
function login(
  inv: Inventory,
  file: string,
  h: string,
  o: SshDefaults,
): { privateKey?: string; agent?: string } | string {
  const spec = inv.hosts?.[h];
  const env = o.env ?? process.env;
  if (spec?.privateKeyFile !== undefined) {
    const p = expandHome(spec.privateKeyFile, dirname(file));
    try {
      return { privateKey: readFileSync(p, "utf8") };
    } catch (e) {
      return `hosts.${h}.privateKeyFile ${p} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
    }
  }
  if (spec?.agent !== undefined) return { agent: spec.agent };
  if (env["SSH_AUTH_SOCK"]) return { agent: env["SSH_AUTH_SOCK"] };
  const def = join(env["HOME"] ?? homedir(), ".ssh", "id_ed25519");
  if (existsSync(def)) {
    try {
      return { privateKey: readFileSync(def, "utf8") };
    } catch (e) {
      return `${def} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
    }
  }
  return `no SSH login for host ${h}: set hosts.${h}.privateKeyFile or agent in the inventory, or SSH_AUTH_SOCK`;
}

/**
 * The desired state of `inv` (read from `file`). Values of `{ env: VAR }` seeds come from `o.env`
 * while set, as in the fleet example; `{ config }` seeds are Pulumi config and are left unmanaged.
 * @throws FleetPlanError when the inventory cannot be planned; KeyfleetError `INVENTORY_INVALID`
 *   when a host that the files need has no pinned `hostKey`
 */
export function desiredFleet(inv: Inventory, file: string, o: SshDefaults = {}): DesiredFleet {
  const hosts = inv.hosts ?? {};
  const plan = planFleet({
    operators: Object.keys(inv.operators ?? {}),
    ci: Object.keys(inv.ci ?? {}),
    hosts: Object.fromEntries(Object.entries(hosts).map(([h, s]) => [h, { envFiles: s.envFiles ?? [] }])),
    files: Object.keys(inv.files),
  });
  const recipients = recipientsByName(inv, file, plan);
  const named = (n: string): NamedRecipient => ({ name: n, recipient: recipients.get(n) as string });
  const files = desiredFiles(inv, plan, named, o.env ?? process.env);
  return { plan, files, ...desiredEnvs(inv, file, plan, o) };
}

/**
 * Every recipient's text by name: operators and CI as written, hosts from their pinned key.
 * @throws KeyfleetError `INVENTORY_INVALID` when a host that the files need has no pinned `hostKey`
 */
function recipientsByName(inv: Inventory, file: string, plan: FleetPlan): Map<string, string> {
  const hosts = inv.hosts ?? {};
  const recipients = new Map<string, string>();
  for (const [n, k] of [...Object.entries(inv.operators ?? {}), ...Object.entries(inv.ci ?? {})])
    recipients.set(n, canonicalRecipientText(k));
  const unpinned = Object.keys(hosts).filter(
    (h) => hosts[h]?.hostKey === undefined && (plan.hostFiles[h] ?? []).length > 0,
  );
  if (unpinned.length > 0) {
    throw new KeyfleetError(
      "INVENTORY_INVALID",
      `fleet inventory ${file}: host ${unpinned.join(", ")} has no pinned hostKey, which keyfleet push needs to encrypt to it without a scan`,
      {
        file,
        hint: "run keyfleet provision for the host (it pins the key after you confirm its fingerprint), or set hostKey: ssh-ed25519 AAAA…",
      },
    );
  }
  for (const [h, s] of Object.entries(hosts))
    if (s.hostKey !== undefined) recipients.set(h, hostRecipient(s.hostKey, s.mode));
  return recipients;
}

/** Each file's SecretFile inputs; `{ env: VAR }` seeds are managed while VAR is set and non-empty. */
function desiredFiles(
  inv: Inventory,
  plan: FleetPlan,
  named: (n: string) => NamedRecipient,
  env: Record<string, string | undefined>,
): DesiredFile[] {
  return Object.entries(inv.files).map(([f, spec]) => {
    const values: Record<string, string> = {};
    for (const [k, ref] of Object.entries(spec.values ?? {})) {
      const v = "env" in ref ? env[ref.env] : undefined;
      if (v !== undefined && v !== "") values[k] = v;
    }
    const inputs: SecretFileInputs = {
      path: spec.path,
      recipients: (plan.fileRecipients[f] ?? []).map(named),
      ...(spec.format ? { format: spec.format } : {}),
      ...(Object.keys(values).length > 0 ? { values } : {}),
      ...(inv.auditLog ? { auditLog: inv.auditLog } : {}),
    };
    return { name: f, inputs };
  });
}

/** Each env file's HostEnv inputs, and why a host's env files cannot be pushed (no user, no login). */
function desiredEnvs(
  inv: Inventory,
  file: string,
  plan: FleetPlan,
  o: SshDefaults,
): { envs: DesiredEnv[]; hostProblems: Record<string, string> } {
  const envs: DesiredEnv[] = [];
  const hostProblems: Record<string, string> = {};
  for (const [h, spec] of Object.entries(inv.hosts ?? {})) {
    if ((spec.envFiles ?? []).length === 0) continue;
    if (spec.user === undefined) {
      hostProblems[h] = `host ${h} has env files but no user; set hosts.${h}.user`;
      continue;
    }
    const how = login(inv, file, h, o);
    if (typeof how === "string") {
      hostProblems[h] = how;
      continue;
    }
    for (const e of spec.envFiles ?? []) {
      const { path, sources, name: _fragment, ...options } = e;
      const inputs: HostEnvInputs = {
        connection: {
          host: spec.address,
          user: spec.user,
          hostKey: spec.hostKey as string,
          ...(spec.port !== undefined ? { port: spec.port } : {}),
          ...how,
        },
        path,
        sources: sources.map((s) => envSource(inv, s)),
        ...options,
      };
      envs.push({ host: h, fragment: plan.envFileNames[h]?.[path] ?? envFileSlug(e), inputs });
    }
  }
  return { envs, hostProblems };
}

type InventorySource = NonNullable<NonNullable<Inventory["hosts"]>[string]["envFiles"]>[number]["sources"][number];

/** One env-file source as HostEnv takes it: the file's path and format, with the source's selection. */
function envSource(inv: Inventory, s: InventorySource): HostEnvInputs["sources"][number] {
  const f = inv.files[s.file];
  return {
    path: f?.path ?? s.file,
    ...(f?.format ? { format: f.format } : {}),
    ...(s.keys !== undefined ? { keys: s.keys } : {}),
    ...(s.prefix !== undefined ? { prefix: s.prefix } : {}),
    ...(s.rename !== undefined ? { rename: s.rename } : {}),
    secretFile: true,
  };
}
