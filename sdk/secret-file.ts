/**
 * `SecretFile`: a sops file in the repo whose recipients and values are declared in the program.
 */
import * as pulumi from "@pulumi/pulumi";
import { secretFileArgsSchema, validateArgs } from "./schemas";
import { knownOrPlanned, recipientEntry, type PlannedRecipient, type RecipientLike } from "./recipients";
import type { NamedRecipient } from "../provider/access/names";
import { accessSummary } from "./access-log";
import { pendingWarning } from "../provider/access/pending-file";
import type { SopsFormat } from "../provider/sops";
import { lazyProvider, resourceProvider, RESOURCE_MODULE, type OutputsOf } from "./dynamic-provider";
import type * as SecretFileModule from "../provider/resources/secret-file";

/** SecretFile outputs, typed from the provider's {@link SecretFileModule.SecretFileOutputs}. */
type Outs = OutputsOf<SecretFileModule.SecretFileOutputs>;

/** Forwards to `provider/resources/secret-file`, loaded in the provider server (see {@link lazyProvider}). */
const provider = lazyProvider<typeof SecretFileModule>("dist/provider/resources/secret-file");

/** Arguments of a {@link SecretFile}. */
export interface SecretFileArgs {
  /**
   * File path relative to the project directory (the working directory of `pulumi`). Missing parent
   * directories are created (mode 0755 less the umask, as git creates them). Required. Changing it
   * moves the file with every key, managed or not (same data key and ciphertexts): the old file is
   * removed once the copy verifies if `deleteFileOnDestroy` is true, else kept; preview logs the move.
   */
  path: pulumi.Input<string>;
  /** Who can read the file: Recipient / HostKey resources, key strings or `{ name, recipient }`. Required, at least one. */
  recipients: pulumi.Input<RecipientLike>[];
  /**
   * Managed values, key → string; always stored as a secret. Keys are dotted paths in yaml/json
   * (`db.password`), `section.key` in ini (a key without a dot is in `DEFAULT`), and plain names in dotenv. Keys not listed are left as
   * they are; removing a key from `values` stops managing it without deleting it. Default: none.
   */
  values?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** sops format. Default: from the extension (.yaml/.yml, .json, .env, .ini, else binary). */
  format?: pulumi.Input<SopsFormat>;
  /** Encrypt only keys matching this regex (sops --encrypted-regex); applied when the file is created. Default: all. */
  encryptedRegex?: pulumi.Input<string>;
  /** Leave keys matching this regex in clear; applied at creation. Default: none. */
  unencryptedRegex?: pulumi.Input<string>;
  /** Encrypt only keys with this suffix; applied at creation. Default: none. */
  encryptedSuffix?: pulumi.Input<string>;
  /** Leave keys with this suffix in clear (sops default `_unencrypted`); applied at creation. Default: none. */
  unencryptedSuffix?: pulumi.Input<string>;
  /** Encrypt values whose comment matches; applied at creation. Default: none. */
  encryptedCommentRegex?: pulumi.Input<string>;
  /** Leave values whose comment matches in clear; applied at creation. Default: none. */
  unencryptedCommentRegex?: pulumi.Input<string>;
  /** Audit log (JSON lines) path relative to the project. Default: `.keyfleet/audit.jsonl`. */
  auditLog?: pulumi.Input<string>;
  /** Delete the file on `pulumi destroy`, unless another resource has claimed it since (a forced replacement). Default: false (the file stays in the repo). */
  deleteFileOnDestroy?: pulumi.Input<boolean>;
  /** Log the access change (who gains / loses access) during program evaluation. Default: true. */
  logAccessChanges?: boolean;
}

/** A sops + age encrypted file in the repo. Outputs carry names and keyed digests, never values. */
export class SecretFile extends pulumi.dynamic.Resource {
  /** The path as given. */
  declare public readonly path: Outs["path"];
  /** The format in effect. */
  declare public readonly format: Outs["format"];
  /** Recipients in the file: `{ name, recipient, fingerprint }`. */
  declare public readonly recipients: Outs["recipients"];
  /** `name (age1…)` labels of the recipients. */
  declare public readonly recipientLabels: Outs["recipientLabels"];
  /** Dotted names of every key in the file. */
  declare public readonly keyNames: Outs["keyNames"];
  /** The keys of `values`. */
  declare public readonly managedKeys: Outs["managedKeys"];
  /**
   * Key name (as in `keyNames`) → HMAC of its value under a key derived from the file's data key,
   * for every key of the file, managed or not (secret). The digest of a key changes only when its
   * value or the data key (a rotation) changes. Empty when the deployer cannot decrypt the file.
   */
  declare public readonly valueDigests: Outs["valueDigests"];
  /** True when a refresh could not recompute `valueDigests` for a changed file; the next up does. */
  declare public readonly digestsStale: Outs["digestsStale"];
  /** sha256 of the encrypted file text. */
  declare public readonly fileSha256: Outs["fileSha256"];
  /** sops lastmodified. */
  declare public readonly lastmodified: Outs["lastmodified"];
  /** What recipients removed by the last rotation could read: rotate these values. */
  declare public readonly exposure: Outs["exposure"];
  /**
   * Key names (never values) pending rotation in this file, from the audit log: exposed to someone
   * who lost access, or marked by hand, and not changed since. Preview warns about them.
   */
  declare public readonly pendingRotations: Outs["pendingRotations"];
  /**
   * Preview only: what a `path` change will do (the file moves, which keys not in `values` go with
   * it, the old file's fate), as Check planned it; logged during preview. Undefined after up.
   */
  declare public readonly move: pulumi.Output<string | undefined>;

  constructor(name: string, args: SecretFileArgs, opts?: pulumi.CustomResourceOptions) {
    validateArgs("SecretFile", name, secretFileArgsSchema, args);
    const entries = args.recipients.map(recipientEntry);
    const { recipients: _r, values, logAccessChanges, ...rest } = args;
    super(
      resourceProvider(provider),
      name,
      {
        ...rest,
        recipients: entries.map((e) => e.named),
        recipientNames: entries.map((e) => e.name),
        recipientLabels: entries.map((e) => e.label),
        values: values === undefined ? undefined : pulumi.secret(values),
        format: args.format,
        keyNames: undefined,
        managedKeys: undefined,
        valueDigests: undefined,
        digestsStale: undefined,
        fileSha256: undefined,
        lastmodified: undefined,
        exposure: undefined,
        pendingRotations: undefined,
        move: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "valueDigests"] },
      RESOURCE_MODULE,
      "SecretFile",
    );
    // a planned move is in the checked inputs, which preview hands back as outputs
    this.move.apply((m) => {
      if (typeof m === "string" && m !== "") void pulumi.log.info(m, this);
    });
    // rotations still pending, from the audit log at program time (names and ages only, no decryption)
    pulumi.all([args.path, args.auditLog]).apply(([path, auditLog]) => {
      const msg = pendingWarning({ path, ...(auditLog ? { auditLog } : {}) });
      if (msg !== "") void pulumi.log.warn(msg, this);
    });
    if (logAccessChanges !== false) {
      pulumi
        .all([args.path, args.format, args.auditLog, pulumi.all(entries.map(knownOrPlanned))])
        .apply(([path, format, auditLog, all]) => {
          const desired = all.filter((r): r is NamedRecipient => "recipient" in r);
          const planned = all.filter((r): r is PlannedRecipient => !("recipient" in r));
          const msg = accessSummary({
            path,
            desired,
            planned,
            ...(format ? { format } : {}),
            ...(auditLog ? { auditLog } : {}),
          });
          if (msg !== "") void pulumi.log.info(msg, this);
        });
    }
  }
}

/** The serialisable provider object (exported for the serialisation test). */
export { provider as secretFileProvider };
