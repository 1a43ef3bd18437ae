/**
 * `HostKey`: a host's SSH ed25519 host key as a recipient (secret zero: no key is carried to the host).
 */
import * as pulumi from "@pulumi/pulumi";
import { hostKeyArgsSchema, validateArgs } from "./schemas";
import { canonicalRecipientText, type NamedRecipient } from "../provider/access/names";
import { sshToAgeRecipient } from "../provider/age";
import { lazyProvider, resourceProvider, RESOURCE_MODULE, type OutputsOf } from "./dynamic-provider";
import type * as HostKeyModule from "../provider/resources/host-key";

/** HostKey outputs, typed from the provider's {@link HostKeyModule.HostKeyOutputs}. */
type Outs = OutputsOf<HostKeyModule.HostKeyOutputs>;

/** Forwards to `provider/resources/host-key`, loaded in the provider server (see {@link lazyProvider}). */
const provider = lazyProvider<typeof HostKeyModule>("dist/provider/resources/host-key");

/** Arguments of a {@link HostKey}. Exactly one of `publicKey`, `expectedFingerprint`, `trustOnFirstUse: true`. */
export interface HostKeyArgs {
  /** Display name in plans, outputs and the audit log. Default: the resource name. */
  name?: pulumi.Input<string>;
  /** Host name or address to scan. Required. */
  host: pulumi.Input<string>;
  /** SSH port. Default: 22. */
  port?: pulumi.Input<number>;
  /** Pinned `ssh-ed25519 AAAA…` host key; the scan must present exactly this key. Default: none. */
  publicKey?: pulumi.Input<string>;
  /** Expected `SHA256:…` fingerprint (as `ssh-keygen -lf` prints it). Default: none. */
  expectedFingerprint?: pulumi.Input<string>;
  /** Accept whatever key the first scan sees, then hold it. Must be set explicitly. Default: false. */
  trustOnFirstUse?: pulumi.Input<boolean>;
  /** `recipient` form: "age" (ssh-to-age X25519, for sops-nix) or "ssh" (native ssh-ed25519). Default: "age". */
  mode?: pulumi.Input<"age" | "ssh">;
  /** Scan timeout in milliseconds. Default: 10000. */
  timeoutMs?: pulumi.Input<number>;
}

/** An SSH host key, scanned and verified, usable as a SecretFile recipient. */
export class HostKey extends pulumi.dynamic.Resource {
  /** Display name. */
  declare public readonly name: Outs["name"];
  /** Host. */
  declare public readonly host: Outs["host"];
  /** Port. */
  declare public readonly port: Outs["port"];
  /** The trusted `ssh-ed25519 AAAA…` host key. */
  declare public readonly publicKey: Outs["publicKey"];
  /** Its `SHA256:…` fingerprint. */
  declare public readonly fingerprint: Outs["fingerprint"];
  /** ssh-to-age form (`age1…`), byte-identical to ssh-to-age. */
  declare public readonly ageRecipient: Outs["ageRecipient"];
  /** Native `ssh-ed25519 AAAA…` recipient. */
  declare public readonly sshRecipient: Outs["sshRecipient"];
  /** The recipient selected by `mode`. */
  declare public readonly recipient: Outs["recipient"];
  /** Fingerprint seen by the last scan; differs from `fingerprint` when the host key changed (drift). */
  declare public readonly observedFingerprint: Outs["observedFingerprint"];
  /** Name and recipient for SecretFile; known in preview when the key is pinned. */
  public readonly named: pulumi.Output<NamedRecipient>;
  /** The display name as an input (known in preview). */
  public readonly displayName: pulumi.Input<string>;
  /**
   * For a host trusted by `expectedFingerprint` (no pinned key): its name and fingerprint, known in
   * preview although the key itself is read only at up. Undefined otherwise.
   */
  public readonly planned:
    { readonly name: pulumi.Input<string>; readonly fingerprint: pulumi.Input<string> } | undefined;

  constructor(name: string, args: HostKeyArgs, opts?: pulumi.CustomResourceOptions) {
    validateArgs("HostKey", name, hostKeyArgsSchema, args);
    const displayName = args.name ?? name;
    super(
      resourceProvider(provider),
      name,
      {
        ...args,
        name: displayName,
        publicKey: args.publicKey,
        fingerprint: undefined,
        ageRecipient: undefined,
        sshRecipient: undefined,
        recipient: undefined,
        observedFingerprint: undefined,
      },
      opts,
      RESOURCE_MODULE,
      "HostKey",
    );
    this.displayName = displayName;
    this.planned =
      args.publicKey === undefined && args.expectedFingerprint !== undefined
        ? { name: displayName, fingerprint: args.expectedFingerprint }
        : undefined;
    // A pinned key gives the recipient before the scan, so preview can show it.
    this.named =
      args.publicKey !== undefined
        ? pulumi.all([displayName, args.publicKey, args.mode ?? "age", this.urn]).apply(([n, pk, mode]) => ({
            name: n,
            recipient: mode === "ssh" ? canonicalRecipientText(pk) : sshToAgeRecipient(pk),
          }))
        : pulumi.all([displayName, this.recipient]).apply(([n, r]) => ({ name: n, recipient: r }));
  }
}

/** The serialisable provider object (exported for the serialisation test). */
export { provider as hostKeyProvider };
