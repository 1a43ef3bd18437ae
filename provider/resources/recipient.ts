/**
 * The Recipient resource: a person or CI key, fully parsed in check. Pure: no side effects.
 */
import type * as pulumi from "@pulumi/pulumi";
import { parseRecipient } from "../age";
import { isUnknown, keyFailureReason, type Failure } from "./inputs";
import { recipientOlds } from "./olds";
import { recipientFingerprint, recipientLabel } from "../access/names";

/** Inputs as the provider receives them. */
export interface RecipientInputs {
  /** Display name (defaults to the resource name in the SDK). */
  name: string;
  /** `age1…` or `ssh-ed25519 AAAA… [comment]`. */
  publicKey: string;
}

/** Outputs recorded in state. */
export interface RecipientOutputs extends RecipientInputs {
  /** Canonical recipient (`age1…` / `ssh-ed25519 AAAA…`). */
  recipient: string;
  /** `SHA256:…` fingerprint. */
  fingerprint: string;
  /** `name (age1abcd…wxyz)`. */
  label: string;
}

/** Validates `name` and parses `publicKey` fully (bech32 checksum, key length, ssh blob). */
export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  const failures: Failure[] = [];
  const name = news["name"];
  if (!isUnknown(name) && (typeof name !== "string" || name.trim() === "")) {
    failures.push({ property: "name", reason: "name must be a non-empty string" });
  }
  const pk = news["publicKey"];
  if (!isUnknown(pk)) {
    if (typeof pk !== "string" || pk.trim() === "") {
      failures.push({ property: "publicKey", reason: "publicKey must be an age1… or ssh-ed25519 public key" });
    } else {
      try {
        parseRecipient(pk, "publicKey");
      } catch (e) {
        failures.push({ property: "publicKey", reason: keyFailureReason(e) });
      }
    }
  }
  return { inputs: news, failures };
}

/** Computes the outputs from valid inputs. */
export function outputsOf(i: RecipientInputs): RecipientOutputs {
  const recipient = parseRecipient(i.publicKey, "publicKey").toString();
  return {
    name: i.name,
    publicKey: i.publicKey,
    recipient,
    fingerprint: recipientFingerprint(recipient),
    label: recipientLabel({ name: i.name, recipient }),
  };
}

/** Update when the name or the canonical key changes; never replace (nothing external exists). */
export async function diff(
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  if (isUnknown(news["publicKey"]) || isUnknown(news["name"])) return { changes: true };
  const changes = olds["name"] !== news["name"] || olds["publicKey"] !== news["publicKey"];
  return { changes, replaces: [], deleteBeforeReplace: false };
}

/** The id is the fingerprint; outputs are derived from the key. */
export async function create(inputs: RecipientInputs): Promise<pulumi.dynamic.CreateResult> {
  const outs = outputsOf(inputs);
  return { id: outs.fingerprint, outs };
}

/** Recomputes the outputs from the recorded inputs. */
export async function read(id: string, recorded: RecipientOutputs): Promise<pulumi.dynamic.ReadResult> {
  const props = recipientOlds(recorded);
  if (props.publicKey === "") return { id, props: recorded }; // nothing to recompute from: keep what is recorded
  return { id, props: outputsOf(props) };
}

/** Recomputes the outputs from the new inputs. */
export async function update(
  _id: string,
  _olds: RecipientOutputs,
  news: RecipientInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  return { outs: outputsOf(news) };
}

/** Nothing external to remove. */
export async function deleteResource(): Promise<void> {}
export { deleteResource as delete };
