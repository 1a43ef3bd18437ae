/**
 * What `recipients` accepts, and how it becomes plain `{ name, recipient }` inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  canonicalRecipientText,
  deriveRecipientName,
  recipientLabel,
  type NamedRecipient,
} from "../provider/access/names";
import { Recipient } from "./recipient";
import { HostKey } from "./host-key";

/** A recipient: a Recipient or HostKey resource, a key string (`age1…`, `ssh-ed25519 AAAA… comment`), or `{ name, recipient }`. */
export type RecipientLike = Recipient | HostKey | string | NamedRecipient;

/** One resolved entry: its name (known early) and the named recipient. */
export interface RecipientEntry {
  readonly name: pulumi.Output<string>;
  readonly named: pulumi.Output<NamedRecipient>;
  readonly label: pulumi.Output<string>;
  /** A host pinned by expected fingerprint: name and fingerprint, known in preview before its key is. */
  readonly planned?: pulumi.Output<{ name: string; fingerprint: string }>;
}

/** A recipient known by name and fingerprint only until up reads its key. */
export interface PlannedRecipient {
  readonly name: string;
  readonly fingerprint: string;
}

/**
 * The entry's recipient when it is known, else (a host pinned by fingerprint whose key is read at
 * up, in preview) its planned name and fingerprint. The SDK has no public way to ask whether an
 * Output is known; every Output carries an `isKnown` promise, used here.
 */
export function knownOrPlanned(e: RecipientEntry): pulumi.Output<NamedRecipient | PlannedRecipient> {
  if (e.planned === undefined) return e.named;
  const planned = e.planned;
  const known = (e.named as unknown as { isKnown?: Promise<boolean> }).isKnown ?? Promise.resolve(true);
  return pulumi.output(
    known.then((k) => (k ? e.named : planned)) as Promise<pulumi.Output<NamedRecipient | PlannedRecipient>>,
  );
}

function fromPlain(v: string | NamedRecipient): NamedRecipient {
  if (typeof v === "string") return { name: deriveRecipientName(v), recipient: canonicalRecipientText(v) };
  return { name: v.name, recipient: canonicalRecipientText(v.recipient) };
}

/** Turns one `recipients` element into its entry. */
export function recipientEntry(r: pulumi.Input<RecipientLike>): RecipientEntry {
  let name: pulumi.Output<string>;
  let named: pulumi.Output<NamedRecipient>;
  if (r instanceof Recipient) {
    named = r.named;
    name = r.named.apply((n) => n.name);
  } else if (r instanceof HostKey) {
    named = r.named;
    name = pulumi.output(r.displayName);
    if (r.planned) return { name, named, label: named.apply(recipientLabel), planned: pulumi.output(r.planned) };
  } else {
    named = pulumi
      .output(r as pulumi.Input<string | NamedRecipient>)
      .apply((v) => fromPlain(v as string | NamedRecipient));
    name = named.apply((n) => n.name);
  }
  return { name, named, label: named.apply(recipientLabel) };
}
