/**
 * `Recipient`: a person's or CI runner's public key, as a Pulumi resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { recipientArgsSchema, validateArgs } from "./schemas";
import { canonicalRecipientText, type NamedRecipient } from "../provider/access/names";
import { lazyProvider, resourceProvider, RESOURCE_MODULE, type OutputsOf } from "./dynamic-provider";
import type * as RecipientModule from "../provider/resources/recipient";

/** Recipient outputs, typed from the provider's {@link RecipientModule.RecipientOutputs}. */
type Outs = OutputsOf<RecipientModule.RecipientOutputs>;

/** Forwards to `provider/resources/recipient`, loaded in the provider server (see {@link lazyProvider}). */
const provider = lazyProvider<typeof RecipientModule>("dist/provider/resources/recipient");

/** Arguments of a {@link Recipient}. */
export interface RecipientArgs {
  /** Display name in plans, outputs and the audit log. Default: the resource name. */
  name?: pulumi.Input<string>;
  /** `age1…` or `ssh-ed25519 AAAA… [comment]`. Required; parsed fully (checksum, key length) by check. */
  publicKey: pulumi.Input<string>;
}

/** A person or CI key that can read SecretFiles. */
export class Recipient extends pulumi.dynamic.Resource {
  /** Display name. */
  declare public readonly name: Outs["name"];
  /** The key as given. */
  declare public readonly publicKey: Outs["publicKey"];
  /** Canonical recipient (`age1…` or `ssh-ed25519 AAAA…`, comment dropped). */
  declare public readonly recipient: Outs["recipient"];
  /** `SHA256:…` fingerprint. */
  declare public readonly fingerprint: Outs["fingerprint"];
  /** `name (age1abcd…wxyz)`. */
  declare public readonly label: Outs["label"];
  /** Name and canonical key, known in preview (derived from the inputs), depending on this resource. */
  public readonly named: pulumi.Output<NamedRecipient>;

  constructor(name: string, args: RecipientArgs, opts?: pulumi.CustomResourceOptions) {
    validateArgs("Recipient", name, recipientArgsSchema, args);
    const displayName = args.name ?? name;
    super(
      resourceProvider(provider),
      name,
      { name: displayName, publicKey: args.publicKey, recipient: undefined, fingerprint: undefined, label: undefined },
      opts,
      RESOURCE_MODULE,
      "Recipient",
    );
    this.named = pulumi
      .all([displayName, args.publicKey, this.urn])
      .apply(([n, pk]) => ({ name: n, recipient: canonicalRecipientText(pk) }));
  }
}

/** The serialisable provider object (exported for the serialisation test). */
export { provider as recipientProvider };
