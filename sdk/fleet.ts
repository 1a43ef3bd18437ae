/**
 * `Fleet`: operators, CI, hosts → secret files → env files, as one component.
 *
 * Each file is encrypted to the operators, the CI recipients and exactly the hosts whose env files
 * use it (the minimal recipient set, see {@link planFleet}). Adding a host is one entry in `hosts`;
 * removing one drops it from the files it used, which rotates their data keys (SecretFile does that)
 * and reports what it could read in `exposure`.
 */
import * as pulumi from "@pulumi/pulumi";
import { Recipient } from "./recipient";
import { HostKey } from "./host-key";
import { SecretFile } from "./secret-file";
import { HostEnv } from "./host-env";
import { planFleet, envFileSlug, type FleetPlan, type PlanInput } from "./fleet-plan";
import type { SopsFormat } from "../provider/sops";
import { KeyfleetError } from "../provider/errors";
import type { EnvFileOptions } from "../provider/resources/host-env-inputs";

export {
  planFleet,
  formatAccessMatrix,
  pathSlug,
  envFileSlug,
  FleetPlanError,
  type FleetPlan,
  type PlanInput,
} from "./fleet-plan";

/** A host of the fleet. Exactly one of `hostKey`, `expectedFingerprint`, `trustOnFirstUse: true`. */
export interface FleetHost {
  /** Address to connect to and scan. Required. */
  address: pulumi.Input<string>;
  /** SSH port. Default: 22. */
  port?: pulumi.Input<number>;
  /** Login user for pushing env files. Required when the host has env files. */
  user?: pulumi.Input<string>;
  /** OpenSSH private key text for the login (pass it as a secret). Default: none (then `agent`). */
  privateKey?: pulumi.Input<string>;
  /** ssh-agent socket path. Default: none. */
  agent?: pulumi.Input<string>;
  /** Pinned `ssh-ed25519 AAAA…` host key. Default: none. */
  hostKey?: pulumi.Input<string>;
  /** Expected `SHA256:…` host-key fingerprint; the key is scanned. Default: none. */
  expectedFingerprint?: pulumi.Input<string>;
  /** Accept the key the first scan sees, then hold it. Default: false. */
  trustOnFirstUse?: pulumi.Input<boolean>;
  /** Recipient form: "age" (ssh-to-age, for sops-nix) or "ssh" (native ssh-ed25519). Default: "age". */
  mode?: pulumi.Input<"age" | "ssh">;
  /** Env files materialised on this host. Default: none. */
  envFiles?: FleetEnvFile[];
}

/** One source of an env file: a fleet file and which of its keys to take. */
export interface FleetEnvSource {
  /** Name of a file in `files`. Required. */
  file: string;
  /** Key names to take. Default: every top-level key of the file. */
  keys?: string[];
  /** Prepended to each env name. Default: none. */
  prefix?: string;
  /** Source key → env name. Default: none. */
  rename?: Record<string, string>;
}

/** An env file on a host; the file options (format, mode, owner, …) are HostEnv's, with its defaults. */
export interface FleetEnvFile extends EnvFileOptions {
  /** Absolute path on the host. Required. */
  path: string;
  /**
   * Resource-name fragment: the HostEnv is named `<fleet>-<host>-<name>`. Letters, digits, `.`, `_`,
   * `-`; unique per host. Default: the path with `/` as `-` (`/etc/myapp/app.env` → `etc-myapp-app.env`).
   */
  name?: string;
  /** Where the values come from. Required, at least one. */
  sources: FleetEnvSource[];
  /** Plain, non-secret extra values. Default: none. */
  env?: Record<string, pulumi.Input<string>>;
}

/** A secret file of the fleet. */
export interface FleetFile {
  /** sops file path relative to the project directory. Required. */
  path: string;
  /** Managed values (key → value); keys not listed are left as they are in the file. Default: none. */
  values?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** sops format. Default: from the extension. */
  format?: SopsFormat;
}

/** Arguments of a {@link Fleet}. */
export interface FleetArgs {
  /** People who can decrypt every file: name → `age1…`/`ssh-ed25519 …` key or a Recipient. Default: none. */
  operators?: Record<string, string | Recipient>;
  /** CI runners who can decrypt every file: name → key or Recipient. Default: none. */
  ci?: Record<string, string | Recipient>;
  /** Hosts by name. Default: none. */
  hosts?: Record<string, FleetHost>;
  /** Secret files by name. Required, at least one. */
  files: Record<string, FleetFile>;
  /** Audit log path relative to the project. Default: `.keyfleet/audit.jsonl`. */
  auditLog?: string;
}

/** What a removed recipient could read in one file. */
export interface FleetExposure {
  /** The removed recipient's name. */
  recipient: string;
  /** Key names it could read: rotate these values. */
  keys: string[];
}

/** A fleet: builds Recipient, HostKey, SecretFile and HostEnv resources as its children. */
export class Fleet extends pulumi.ComponentResource {
  /** The derived plan (known at construction, so in preview too). */
  public readonly plan: FleetPlan;
  /** Recipient resources by operator / CI name. */
  public readonly recipients: Record<string, Recipient>;
  /** HostKey resources by host name. */
  public readonly hostKeys: Record<string, HostKey>;
  /** SecretFile resources by file name. */
  public readonly files: Record<string, SecretFile>;
  /** HostEnv resources by host name, then env file path. */
  public readonly envFiles: Record<string, Record<string, HostEnv>>;
  /** File name → recipient names as recorded in the file after apply. */
  public readonly accessMatrix: pulumi.Output<Record<string, string[]>>;
  /** Host name → env file path → the env names it holds (names only). */
  public readonly hostEnvKeys: pulumi.Output<Record<string, Record<string, string[]>>>;
  /** File name → what recipients removed by its last rotation could read. Empty files are left out. */
  public readonly exposure: pulumi.Output<Record<string, FleetExposure[]>>;
  /** File name: the key names pending rotation in it (names only; files with none left out). */
  public readonly pendingRotations: pulumi.Output<Record<string, string[]>>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyfleet:index:Fleet", name, {}, opts);
    const hosts = args.hosts ?? {};
    this.plan = planFleet(planInput(name, args));
    const child = { parent: this };
    this.recipients = buildRecipients(name, { ...(args.operators ?? {}), ...(args.ci ?? {}) }, child);
    this.hostKeys = buildHostKeys(name, hosts, child);
    const byName = (n: string): Recipient | HostKey => {
      const r = this.recipients[n] ?? this.hostKeys[n];
      if (!r) throw new Error(`fleet "${name}": no recipient named ${n}`); // unreachable: planFleet checked the names
      return r;
    };
    this.files = buildFiles(name, args, this.plan, byName, child);
    this.envFiles = {};
    for (const [h, spec] of Object.entries(hosts)) {
      this.envFiles[h] = buildEnvFiles(name, h, spec, this.hostKeys[h] as HostKey, this.files, this.plan, this);
    }
    this.accessMatrix = accessMatrixOf(this.files);
    this.exposure = exposureOf(this.files);
    this.pendingRotations = pendingOf(this.files);
    this.hostEnvKeys = hostEnvKeysOf(Object.keys(hosts), this.envFiles);
    this.registerOutputs({
      accessMatrix: this.accessMatrix,
      hostEnvKeys: this.hostEnvKeys,
      exposure: this.exposure,
      pendingRotations: this.pendingRotations,
      plan: this.plan.fileRecipients,
    });
  }
}

/** The names-only view of the inventory that {@link planFleet} derives access from. */
function planInput(name: string, args: FleetArgs): PlanInput {
  const hosts = args.hosts ?? {};
  return {
    operators: Object.keys(args.operators ?? {}),
    ci: Object.keys(args.ci ?? {}),
    hosts: Object.fromEntries(Object.entries(hosts).map(([h, spec]) => [h, { envFiles: spec.envFiles ?? [] }])),
    files: Object.keys(args.files),
    fleetName: name,
  };
}

/** One Recipient per operator / CI key given as text; Recipient resources given are used as they are. */
function buildRecipients(
  fleet: string,
  keys: Record<string, string | Recipient>,
  child: pulumi.CustomResourceOptions,
): Record<string, Recipient> {
  const out: Record<string, Recipient> = {};
  for (const [n, key] of Object.entries(keys))
    out[n] = key instanceof Recipient ? key : new Recipient(`${fleet}-${n}`, { name: n, publicKey: key }, child);
  return out;
}

/** One HostKey per host, trusted as the host spec says (pin, expected fingerprint or first use). */
function buildHostKeys(
  fleet: string,
  hosts: Record<string, FleetHost>,
  child: pulumi.CustomResourceOptions,
): Record<string, HostKey> {
  const out: Record<string, HostKey> = {};
  for (const [h, spec] of Object.entries(hosts)) {
    out[h] = new HostKey(
      `${fleet}-${h}`,
      {
        name: h,
        host: spec.address,
        ...(spec.port !== undefined ? { port: spec.port } : {}),
        ...(spec.hostKey !== undefined ? { publicKey: spec.hostKey } : {}),
        ...(spec.expectedFingerprint !== undefined ? { expectedFingerprint: spec.expectedFingerprint } : {}),
        ...(spec.trustOnFirstUse !== undefined ? { trustOnFirstUse: spec.trustOnFirstUse } : {}),
        ...(spec.mode !== undefined ? { mode: spec.mode } : {}),
      },
      child,
    );
  }
  return out;
}

/** One SecretFile per file, encrypted to the plan's minimal recipient set. */
function buildFiles(
  fleet: string,
  args: FleetArgs,
  plan: FleetPlan,
  byName: (n: string) => Recipient | HostKey,
  child: pulumi.CustomResourceOptions,
): Record<string, SecretFile> {
  const out: Record<string, SecretFile> = {};
  for (const [f, spec] of Object.entries(args.files)) {
    out[f] = new SecretFile(
      `${fleet}-${f}`,
      {
        path: spec.path,
        recipients: (plan.fileRecipients[f] ?? []).map(byName),
        ...(spec.values !== undefined ? { values: spec.values } : {}),
        ...(spec.format !== undefined ? { format: spec.format } : {}),
        ...(args.auditLog !== undefined ? { auditLog: args.auditLog } : {}),
      },
      child,
    );
  }
  return out;
}

/** The HostEnvs of one host (by path), each depending on the host's HostKey. */
function buildEnvFiles(
  fleet: string,
  h: string,
  spec: FleetHost,
  hostKey: HostKey,
  files: Record<string, SecretFile>,
  plan: FleetPlan,
  parent: pulumi.Resource,
): Record<string, HostEnv> {
  const envs: Record<string, HostEnv> = {};
  for (const env of spec.envFiles ?? []) {
    if (spec.user === undefined)
      throw new KeyfleetError(
        "BAD_ARGUMENTS",
        `fleet "${fleet}": host "${h}" has env files but no user; set hosts.${h}.user`,
      );
    const { path, sources, name: _fragment, ...fileOptions } = env; // fileOptions: env and EnvFileOptions, passed to HostEnv as they are
    envs[env.path] = new HostEnv(
      `${fleet}-${h}-${plan.envFileNames[h]?.[path] ?? envFileSlug(env)}`,
      {
        connection: {
          host: spec.address,
          user: spec.user,
          hostKey: spec.hostKey ?? hostKey.publicKey,
          ...(spec.port !== undefined ? { port: spec.port } : {}),
          ...(spec.privateKey !== undefined ? { privateKey: spec.privateKey } : {}), // HostEnv stores it as a secret
          ...(spec.agent !== undefined ? { agent: spec.agent } : {}),
        },
        path,
        sources: sources.map((s) => ({
          file: files[s.file] as SecretFile,
          ...(s.keys !== undefined ? { keys: s.keys } : {}),
          ...(s.prefix !== undefined ? { prefix: s.prefix } : {}),
          ...(s.rename !== undefined ? { rename: s.rename } : {}),
        })),
        ...fileOptions,
      },
      { parent, dependsOn: [hostKey] },
    );
  }
  return envs;
}

/** File name → recipient names as recorded in the file after apply. */
function accessMatrixOf(files: Record<string, SecretFile>): pulumi.Output<Record<string, string[]>> {
  const names = Object.keys(files);
  return pulumi
    .all(names.map((f) => (files[f] as SecretFile).recipients))
    .apply((rs) => Object.fromEntries(names.map((f, k) => [f, (rs[k] ?? []).map((r) => r.name)])));
}

/** File name → what recipients removed by its last rotation could read (files with nothing to rotate left out). */
function exposureOf(files: Record<string, SecretFile>): pulumi.Output<Record<string, FleetExposure[]>> {
  const names = Object.keys(files);
  return pulumi.all(names.map((f) => (files[f] as SecretFile).exposure)).apply((es) => {
    const out: Record<string, FleetExposure[]> = {};
    names.forEach((f, k) => {
      const e = (es[k] ?? [])
        .filter((x) => x.keys.length > 0)
        .map((x) => ({ recipient: x.recipient, keys: [...x.keys] }));
      if (e.length > 0) out[f] = e;
    });
    return out;
  });
}

/** File name: the key names pending rotation in it (files with none left out). */
function pendingOf(files: Record<string, SecretFile>): pulumi.Output<Record<string, string[]>> {
  const names = Object.keys(files);
  return pulumi.all(names.map((f) => (files[f] as SecretFile).pendingRotations)).apply((ps) => {
    const out: Record<string, string[]> = {};
    names.forEach((f, k) => {
      const p = ps[k] ?? [];
      if (p.length > 0) out[f] = [...p];
    });
    return out;
  });
}

/** Host name → env file path → the env names it holds (names only); hosts without env files map to {}. */
function hostEnvKeysOf(
  hostNames: string[],
  envFiles: Record<string, Record<string, HostEnv>>,
): pulumi.Output<Record<string, Record<string, string[]>>> {
  const envList = Object.entries(envFiles).flatMap(([h, envs]) => Object.entries(envs).map(([p, e]) => ({ h, p, e })));
  return pulumi.all(envList.map((x) => x.e.keyNames)).apply((ks) => {
    const out: Record<string, Record<string, string[]>> = Object.fromEntries(hostNames.map((h) => [h, {}]));
    envList.forEach((x, k) => ((out[x.h] ??= {})[x.p] = [...(ks[k] ?? [])]));
    return out;
  });
}
