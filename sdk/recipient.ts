/**
 * `Recipient`: a person's or CI runner's public key, as a Pulumi resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { recipientArgsSchema, validateArgs } from "./schemas";
import { canonicalRecipientText, type NamedRecipient } from "../provider/resources/names";
import type * as RecipientModule from "../provider/resources/recipient";

/**
 * Loads the provider module at call time inside the provider server (see README "how the provider
 * is found"): keyfleet in node_modules, else $KEYFLEET_ROOT, else the current directory.
 */
function load(): typeof RecipientModule {
  const rel = "dist/provider/resources/recipient";
  // cached per server process: a failed package lookup walks the file system on every call
  const cache = globalThis as unknown as Record<string, unknown>;
  const hit = cache["__keyfleet:" + rel];
  if (hit) return hit as ReturnType<typeof load>;
  let mod: ReturnType<typeof load> | undefined;
  try {
    mod = require("keyfleet/" + rel);
  } catch (e) {
    if (!String((e as Error).message).includes("keyfleet/" + rel)) throw e;
  }
  mod ??= require(require("path").resolve(process.env["KEYFLEET_ROOT"] ?? ".", rel)) as ReturnType<typeof load>;
  cache["__keyfleet:" + rel] = mod;
  return mod;
}

const provider = {
  async check(olds, news) {
    return load().check(olds, news);
  },
  async diff(id, olds, news) {
    return load().diff(id, olds, news);
  },
  async create(inputs) {
    return load().create(inputs);
  },
  async read(id, props) {
    return load().read(id, props);
  },
  async update(id, olds, news) {
    return load().update(id, olds, news);
  },
  async delete() {
    return load().delete();
  },
} satisfies pulumi.dynamic.ResourceProvider;

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
  declare public readonly name: pulumi.Output<string>;
  /** The key as given. */
  declare public readonly publicKey: pulumi.Output<string>;
  /** Canonical recipient (`age1…` or `ssh-ed25519 AAAA…`, comment dropped). */
  declare public readonly recipient: pulumi.Output<string>;
  /** `SHA256:…` fingerprint. */
  declare public readonly fingerprint: pulumi.Output<string>;
  /** `name (age1abcd…wxyz)`. */
  declare public readonly label: pulumi.Output<string>;
  /** Name and canonical key, known in preview (derived from the inputs), depending on this resource. */
  public readonly named: pulumi.Output<NamedRecipient>;

  constructor(name: string, args: RecipientArgs, opts?: pulumi.CustomResourceOptions) {
    validateArgs("Recipient", name, recipientArgsSchema, args);
    const displayName = args.name ?? name;
    super(provider, name, { name: displayName, publicKey: args.publicKey, recipient: undefined, fingerprint: undefined, label: undefined }, opts);
    this.named = pulumi.all([displayName, args.publicKey, this.urn]).apply(([n, pk]) => ({ name: n, recipient: canonicalRecipientText(pk) }));
  }
}

/** The serialisable provider object (exported for the serialisation test). */
export { provider as recipientProvider };
