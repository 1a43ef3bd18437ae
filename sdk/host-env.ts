/**
 * `HostEnv`: an env file materialised from SecretFiles and pushed over SSH to a pinned host.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { validateArgs } from "./schemas";
import { SecretFile } from "./secret-file";
import { lazyProvider, resourceProvider, RESOURCE_MODULE, type OutputsOf } from "./dynamic-provider";
import type * as HostEnvModule from "../provider/resources/host-env";

/** HostEnv outputs, typed from the provider's {@link HostEnvModule.HostEnvOutputs}. */
type Outs = OutputsOf<HostEnvModule.HostEnvOutputs>;

/** Forwards to `provider/resources/host-env`, loaded in the provider server (see {@link lazyProvider}). */
const provider = lazyProvider<typeof HostEnvModule>("dist/provider/resources/host-env");

/**
 * How to reach the host: the shape of `@pulumi/command`'s `remote.Command` connection plus the
 * required `hostKey`, so one object serves both.
 */
export interface HostEnvConnectionArgs {
  /** Host name or address. Required; changing it replaces the resource. */
  host: pulumi.Input<string>;
  /** SSH port. Default: 22. Changing it replaces the resource. */
  port?: pulumi.Input<number>;
  /** Login user; it must be able to write the file's directory (and chown, when `owner` is set). Required. */
  user: pulumi.Input<string>;
  /** OpenSSH private key text (unencrypted ed25519 or RSA); always stored as a secret. Default: none (then `agent` is required). */
  privateKey?: pulumi.Input<string>;
  /** ssh-agent socket path, e.g. `process.env.SSH_AUTH_SOCK`. Default: none. */
  agent?: pulumi.Input<string>;
  /**
   * Pinned host key: a {@link HostKey}'s `publicKey` output or an `ssh-ed25519 AAAA…` line. Required:
   * nothing is sent to a host that presents another key; the connection is refused before
   * authentication with an error naming both fingerprints.
   */
  hostKey: pulumi.Input<string>;
}

/** One source of values. */
export interface HostEnvSource {
  /** A {@link SecretFile}, or the path of a sops file relative to the project directory. Required. */
  file: SecretFile | pulumi.Input<string>;
  /**
   * Keys to take. Default: every top-level scalar key (for dotenv files, every key). Nested yaml /
   * json values are addressed with dots (`db.password`) and need a `rename` to a valid env name.
   * The host only ever receives the keys listed here (least privilege).
   */
  keys?: string[];
  /** Prepended to every env name from this source (after `rename`). Default: none. */
  prefix?: string;
  /** Source key → env name, e.g. `{ "db.password": "DB_PASSWORD" }`. Default: none. */
  rename?: Record<string, string>;
}

/** Arguments of a {@link HostEnv}. */
export interface HostEnvArgs {
  /** SSH connection with a pinned host key. Required. */
  connection: pulumi.Input<HostEnvConnectionArgs>;
  /** Absolute path of the env file on the host; its directory must exist. Required; changing it replaces the resource. */
  path: pulumi.Input<string>;
  /** Where the values come from, in order; an env name set twice is an error. Default: none. */
  sources?: HostEnvSource[];
  /** Plain, non-secret extra values (stored in state as they are), written after the sources. Default: none. */
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** `dotenv` (docker compose env_file and bash `source`), `systemd` (EnvironmentFile=) or `json`. Default: `dotenv`. */
  format?: pulumi.Input<"dotenv" | "systemd" | "json">;
  /** File mode as an octal string, set on the temp file before any content is written. Default: `"0600"`. */
  mode?: pulumi.Input<string>;
  /** Owner user of the file (the login user must be allowed to chown). Default: the login user. */
  owner?: pulumi.Input<string>;
  /** Owner group of the file. Default: the login user's group. */
  group?: pulumi.Input<string>;
  /** systemd units restarted (`systemctl restart -- units…`, as argv) when the content changed. Default: none. */
  restartUnits?: pulumi.Input<pulumi.Input<string>[]>;
  /** Shell command run on the host (as the login user) when the content changed; not with `restartUnits`. Default: none. */
  onChange?: pulumi.Input<string>;
  /** Leave the file on the host on delete / destroy. Default: false (the file is removed). */
  keepOnDelete?: pulumi.Input<boolean>;
  /** Allow a `mode` with setuid, setgid or sticky bits, or group / world write. Default: false (such modes are refused). */
  allowUnsafeMode?: pulumi.Input<boolean>;
  /**
   * Put a failing restart command's (stderr) output into the error. Default: false: the error carries
   * the exit code and how to see the output on the host. **This can leak values**: a command may print
   * them in a form no scrubber recognises, and errors reach Pulumi's output and CI logs.
   */
  showRestartOutput?: pulumi.Input<boolean>;
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** HostEnv arguments (values that are Outputs are checked by the provider). */
export const hostEnvArgsSchema = z.object({
  connection: z.unknown(),
  path: z.string().startsWith("/", "must be an absolute path on the host"),
  sources: z
    .array(
      z
        .object({
          file: z.unknown(),
          keys: z.array(z.string().min(1)).min(1, "list at least one key, or omit keys for all").optional(),
          prefix: z
            .string()
            .regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, "must be letters, digits and _")
            .optional(),
          rename: z
            .record(z.string(), z.string().regex(envName, "env names must match [A-Za-z_][A-Za-z0-9_]*"))
            .optional(),
        })
        .strict(),
    )
    .optional(),
  env: z.record(z.string().regex(envName, "env names must match [A-Za-z_][A-Za-z0-9_]*"), z.unknown()).optional(),
  format: z.enum(["dotenv", "systemd", "json"]).optional(),
  mode: z
    .string()
    .regex(/^[0-7]{3,4}$/, 'must be an octal string such as "0600"')
    .optional(),
  owner: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  restartUnits: z.array(z.unknown()).optional(),
  onChange: z.string().min(1).optional(),
  keepOnDelete: z.boolean().optional(),
  allowUnsafeMode: z.boolean().optional(),
  showRestartOutput: z.boolean().optional(),
});

/**
 * The keyed digests a SecretFile source passes to HostEnv: those of the selected keys only, so a
 * change to another key of the file (`keyfleet set`, a managed value) does not touch this HostEnv.
 * SecretFile digests every key of the file; a selected key missing from its map (the deployer
 * could not decrypt the file, or the key does not exist) falls back to the file's sha256, which
 * changes with any edit of the file: conservative, never a missed change.
 */
export function selectedDigests(
  keys: string[] | undefined,
  keyNames: string[],
  valueDigests: Record<string, string>,
  fileSha256: string,
  format: string,
): Record<string, string> {
  const selected = keys ?? keyNames.filter((k) => format === "dotenv" || format === "binary" || !k.includes("."));
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(valueDigests, k);
  return Object.fromEntries(
    [...new Set(selected)].sort().map((k) => [k, has(k) ? (valueDigests[k] as string) : `file:${fileSha256}`]),
  );
}

/** An env file on a host, materialised from sops sources. Outputs carry names and keyed digests, never values. */
export class HostEnv extends pulumi.dynamic.Resource {
  /** Host. */
  declare public readonly host: Outs["host"];
  /** Port. */
  declare public readonly port: Outs["port"];
  /** Path on the host. */
  declare public readonly path: Outs["path"];
  /** Format written. */
  declare public readonly format: Outs["format"];
  /** Mode on the host ("0600"); a refresh shows a chmod made outside Pulumi. */
  declare public readonly mode: Outs["mode"];
  /** Owner on the host. */
  declare public readonly owner: Outs["owner"];
  /** Group on the host. */
  declare public readonly group: Outs["group"];
  /** Env names in the file. */
  declare public readonly keyNames: Outs["keyNames"];
  /** `SHA256:…` of the pinned host key. */
  declare public readonly hostFingerprint: Outs["hostFingerprint"];
  /** HMAC of the content on the host under a key derived from the sources' data keys (secret). */
  declare public readonly contentDigest: Outs["contentDigest"];
  /** True when the last apply ran the restart. */
  declare public readonly restarted: Outs["restarted"];
  /** What the last refresh found wrong (`missing`, `content changed`, `host key changed …`); the next up repairs it. */
  declare public readonly drift: Outs["drift"];

  constructor(name: string, args: HostEnvArgs, opts?: pulumi.CustomResourceOptions) {
    validateArgs("HostEnv", name, hostEnvArgsSchema, args);
    const sources = (args.sources ?? []).map(sourceInput);
    super(
      resourceProvider(provider),
      name,
      {
        connection: connectionInput(args.connection),
        path: args.path,
        sources: sources.map((s) => s.input),
        sourceDigests: sources.map((s) => s.digests),
        env: args.env,
        format: args.format,
        mode: args.mode,
        owner: args.owner,
        group: args.group,
        restartUnits: args.restartUnits,
        onChange: args.onChange,
        keepOnDelete: args.keepOnDelete,
        allowUnsafeMode: args.allowUnsafeMode,
        showRestartOutput: args.showRestartOutput,
        host: undefined,
        port: undefined,
        keyNames: undefined,
        hostFingerprint: undefined,
        contentDigest: undefined,
        restarted: undefined,
        drift: undefined,
      },
      {
        ...opts,
        additionalSecretOutputs: [
          ...(opts?.additionalSecretOutputs ?? []),
          "connection",
          "sourceDigests",
          "contentDigest",
          "writtenDigest",
        ],
      },
      RESOURCE_MODULE,
      "HostEnv",
    );
  }
}

/**
 * The connection as the provider receives it: every field plain except `privateKey`, always secret.
 * Each field is taken on its own from a plain connection object as given, so a field that is known
 * stays known in preview when another one (say a HostKey's scanned hostKey) is not. Through the whole
 * connection Output, an unknown hostKey made host and port unknown too, and an unknown port plans a
 * replacement that up then does not do.
 */
function connectionInput(connection: HostEnvArgs["connection"]): Record<string, pulumi.Output<unknown>> {
  const conn = pulumi.output(connection);
  const given: unknown = connection;
  const plainConn =
    pulumi.Output.isInstance(given) || given instanceof Promise
      ? undefined
      : (given as Record<string, pulumi.Input<unknown>>);
  const field = <K extends string>(k: K): pulumi.Output<unknown> =>
    plainConn !== undefined
      ? pulumi.output(plainConn[k])
      : conn.apply((c) => (c as unknown as Record<string, unknown>)[k]);
  return {
    host: pulumi.unsecret(field("host")),
    port: pulumi.unsecret(field("port")),
    user: pulumi.unsecret(field("user")),
    hostKey: pulumi.unsecret(field("hostKey")),
    agent: pulumi.unsecret(field("agent")),
    privateKey: pulumi.secret(field("privateKey")),
  };
}

/** One source's provider input, with the digests of the values it selects (a SecretFile's; none for a plain path). */
function sourceInput(s: HostEnvSource): {
  input: Record<string, unknown>;
  digests: pulumi.Output<Record<string, string>>;
} {
  const base = { keys: s.keys, prefix: s.prefix, rename: s.rename };
  if (s.file instanceof SecretFile) {
    const f = s.file;
    return {
      input: { ...base, path: f.path, format: f.format, secretFile: true },
      digests: pulumi
        .all([f.keyNames, f.valueDigests, f.fileSha256, f.format])
        .apply(([names, digests, sha, format]) =>
          selectedDigests(s.keys, names ?? [], digests ?? {}, sha ?? "", format),
        ),
    };
  }
  return { input: { ...base, path: s.file, secretFile: false }, digests: pulumi.output({} as Record<string, string>) };
}

/** The serialisable provider object (exported for the serialisation test). */
export { provider as hostEnvProvider };
