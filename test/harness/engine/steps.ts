/**
 * The per-resource steps of the engine stand-in for dynamic resources: Check → Diff →
 * Create / Update / Replace (or nothing), preview variants, Delete and Read (refresh).
 *
 * Follows the engine's contract with a provider that answered `acceptSecrets: false`: secret
 * envelopes are stripped before each call (see {@link ProviderClient}); Check gets the prior
 * INPUTS as olds, Diff and Update get the prior OUTPUTS; afterwards outputs are marked secret again
 * as the engine does (`annotateSecrets` against the inputs, member by member, then
 * `additionalSecretOutputs`). Preview calls only Check and Diff; a replacement creates the new
 * resource before deleting the old one unless `deleteBeforeReplace` is set (by the program or the
 * provider's Diff); a step that throws leaves the prior state entry as it was.
 */
import type { ProviderClient } from "./provider-client";
import { UNKNOWN, annotateSecrets, changedKeys, isSecret, secret, stripSecrets, type PropertyMap } from "./marshal";
import type { ResourceState } from "./state";

/** What happened (or would happen, in preview) to one resource. */
export type StepOp = "create" | "update" | "replace" | "delete" | "same" | "refresh";

/** One resource's step in a run summary. */
export interface ResourceChange {
  /** Resource URN. */
  urn: string;
  /** Type token. */
  type: string;
  /** The operation. */
  op: StepOp;
  /** Top-level input (or, for refresh, output) keys that differ, `__provider` excluded. */
  diffKeys: string[];
  /** Keys the provider said force a replacement. */
  replaceKeys: string[];
}

/** A dynamic resource as registered by the program. */
export interface Registration {
  urn: string;
  type: string;
  /** Inputs as the SDK sent them (secret envelopes, unknown sentinels, `__provider`). */
  inputs: PropertyMap;
  parent: string;
  dependencies: string[];
  additionalSecretOutputs: string[];
  deleteBeforeReplace: boolean;
  retainOnDelete: boolean;
}

/** Marks `keys` of `props` secret (top-level), leaving values already secret alone. */
export function markSecret(props: PropertyMap, keys: Iterable<string>): PropertyMap {
  const out = { ...props };
  for (const k of keys) if (k in out && !isSecret(out[k]) && out[k] !== undefined) out[k] = secret(out[k]);
  return out;
}

/** Error raised when Check reports failures; lists each property and reason. */
export class CheckFailedError extends Error {
  constructor(
    urn: string,
    readonly failures: { property: string; reason: string }[],
  ) {
    super(
      `check failed for ${urn}: ${failures.map((f) => (f.reason.startsWith(f.property) ? f.reason : `${f.property}: ${f.reason}`)).join("; ")}`,
    );
    this.name = "CheckFailedError";
  }
}

/** Result of one dynamic step: the new state entry (undefined in preview) and the outputs for the SDK. */
export interface StepResult {
  change: ResourceChange;
  state: ResourceState | undefined;
  id: string;
  outputs: PropertyMap;
}

/**
 * Runs the steps for one registered dynamic resource against its prior state `old`.
 * @throws CheckFailedError on Check failures, ProviderCallError when a provider call fails
 */
export async function stepDynamic(
  p: ProviderClient,
  reg: Registration,
  old: ResourceState | undefined,
  dryRun: boolean,
): Promise<StepResult> {
  const checked = await p.check({ urn: reg.urn, olds: old?.inputs ?? {}, news: reg.inputs });
  if (checked.failures.length > 0) throw new CheckFailedError(reg.urn, checked.failures);
  const inputs = annotateSecrets(checked.inputs, reg.inputs) as PropertyMap;
  const reMark = (outs: PropertyMap): PropertyMap =>
    markSecret(annotateSecrets(outs, inputs) as PropertyMap, reg.additionalSecretOutputs);
  const base = { urn: reg.urn, type: reg.type };
  const entry = (id: string, outputs: PropertyMap): ResourceState => ({
    urn: reg.urn,
    type: reg.type,
    custom: true,
    id,
    inputs,
    outputs: reMark(outputs),
    parent: reg.parent || undefined,
    dependencies: reg.dependencies,
    deleteBeforeReplace: reg.deleteBeforeReplace,
    retainOnDelete: reg.retainOnDelete,
  });

  if (!old) {
    const change: ResourceChange = {
      ...base,
      op: "create",
      diffKeys: changedKeys({}, stripSecrets(inputs)),
      replaceKeys: [],
    };
    if (dryRun) return { change, state: undefined, id: "", outputs: inputs };
    const r = await p.create({ urn: reg.urn, properties: inputs });
    const st = entry(r.id, r.properties);
    return { change, state: st, id: r.id, outputs: st.outputs };
  }

  const oldId = old.id ?? "";
  const d = await p.diff({ id: oldId, urn: reg.urn, olds: old.outputs, news: inputs, oldInputs: old.inputs });
  const diffKeys = changedKeys(stripSecrets(old.inputs), stripSecrets(inputs));
  const changed = d.changes === "some" || (d.changes === "unknown" && diffKeys.length > 0);
  if (!changed) {
    const st: ResourceState = {
      ...old,
      inputs,
      outputs: reMark(old.outputs),
      parent: reg.parent || undefined,
      dependencies: reg.dependencies,
    };
    return {
      change: { ...base, op: "same", diffKeys: [], replaceKeys: [] },
      state: dryRun ? undefined : st,
      id: oldId,
      outputs: st.outputs,
    };
  }
  const replace = d.replaces.length > 0;
  const change: ResourceChange = { ...base, op: replace ? "replace" : "update", diffKeys, replaceKeys: d.replaces };
  if (dryRun) {
    // Outputs the provider computes are unknown; known inputs pass through, as the engine does.
    const unknownOuts = Object.fromEntries(Object.keys(old.outputs).map((k) => [k, UNKNOWN]));
    return { change, state: undefined, id: replace ? "" : oldId, outputs: reMark({ ...unknownOuts, ...inputs }) };
  }
  if (!replace) {
    const r = await p.update({ id: oldId, urn: reg.urn, olds: old.outputs, news: inputs, oldInputs: old.inputs });
    const st = entry(oldId, r.properties);
    return { change, state: st, id: oldId, outputs: st.outputs };
  }
  const dbr = d.deleteBeforeReplace || reg.deleteBeforeReplace;
  if (dbr) await deleteResource(p, old);
  const r = await p.create({ urn: reg.urn, properties: inputs });
  if (!dbr) await deleteResource(p, old);
  const st = entry(r.id, r.properties);
  return { change, state: st, id: r.id, outputs: st.outputs };
}

/** Deletes one resource through the provider (skipped for components and `retainOnDelete`). */
export async function deleteResource(p: ProviderClient | undefined, r: ResourceState): Promise<void> {
  if (!r.custom || r.retainOnDelete || !p) return;
  await p.delete({ id: r.id ?? "", urn: r.urn, properties: r.outputs, oldInputs: r.inputs });
}

/** Refreshes one dynamic resource with Read; returns the new entry (undefined when gone) and the change. */
export async function refreshResource(
  p: ProviderClient,
  r: ResourceState,
): Promise<{ state: ResourceState | undefined; change: ResourceChange }> {
  const res = await p.read({ id: r.id ?? "", urn: r.urn, properties: r.outputs, inputs: r.inputs });
  if (!res.id)
    return { state: undefined, change: { urn: r.urn, type: r.type, op: "delete", diffKeys: [], replaceKeys: [] } };
  const secretOut = Object.keys(r.outputs).filter((k) => isSecret(r.outputs[k]));
  const secretIn = Object.keys(r.inputs).filter((k) => isSecret(r.inputs[k]));
  const outputs = markSecret(res.properties, secretOut);
  const inputs = res.inputs ? markSecret(res.inputs, secretIn) : r.inputs;
  const diffKeys = changedKeys(stripSecrets(r.outputs), stripSecrets(outputs));
  return {
    state: { ...r, id: res.id, outputs, inputs },
    change: { urn: r.urn, type: r.type, op: diffKeys.length ? "refresh" : "same", diffKeys, replaceKeys: [] },
  };
}
