/**
 * Property marshalling as the Pulumi engine does it on the wire.
 *
 * Values travel as `google.protobuf.Struct`. Two special encodings ride inside plain values:
 * - an unknown (preview) value is the sentinel string {@link UNKNOWN};
 * - a secret is the envelope `{ "4dabf1…": "1b4706…", value }` ({@link secret}).
 *
 * The dynamic-provider server answers Configure with `acceptSecrets: false`, so the engine strips
 * secret envelopes ({@link stripSecrets}) from everything it sends to it, and re-marks outputs secret
 * afterwards (same-named secret inputs plus `additionalSecretOutputs`).
 */
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

/** The unknown-value sentinel the engine sends in previews (`rpc.unknownValue` in the SDK). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The special-signature key that marks an envelope object. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** Signature value of a secret envelope. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A JSON-like property map as carried in a Struct. */
export type PropertyMap = Record<string, unknown>;

/** Wraps `value` in a secret envelope. */
export function secret(value: unknown): PropertyMap {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/** True when `v` is a secret envelope (plaintext `value` or state-file `ciphertext` form). */
export function isSecret(v: unknown): v is PropertyMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && (v as PropertyMap)[SIG_KEY] === SECRET_SIG;
}

/** True when `v` is or contains a secret envelope anywhere. */
export function containsSecret(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (typeof v === "object" && v !== null) return Object.values(v).some(containsSecret);
  return false;
}

/** True when `v` is or contains the unknown sentinel. */
export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (typeof v === "object" && v !== null) return Object.values(v).some(containsUnknown);
  return false;
}

/** Returns a deep copy of `v` with every secret envelope replaced by its plain value. */
export function stripSecrets<T = unknown>(v: T): T {
  if (isSecret(v)) return stripSecrets(v["value"]) as T;
  if (Array.isArray(v)) return v.map((x) => stripSecrets(x)) as T;
  if (typeof v === "object" && v !== null) {
    const out: PropertyMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = stripSecrets(x);
    return out as T;
  }
  return v;
}

/**
 * Re-marks outputs secret as the engine's `annotateSecrets` does: an output whose same-named input
 * was secret becomes secret; when both are objects (or arrays) the rule applies member by member.
 */
export function annotateSecrets(outs: unknown, ins: unknown): unknown {
  if (isSecret(outs)) return outs;
  if (isSecret(ins)) return outs === undefined ? outs : secret(outs);
  if (Array.isArray(outs) && Array.isArray(ins)) return outs.map((o, i) => annotateSecrets(o, ins[i]));
  if (
    typeof outs === "object" &&
    outs !== null &&
    !Array.isArray(outs) &&
    typeof ins === "object" &&
    ins !== null &&
    !Array.isArray(ins)
  ) {
    const out: PropertyMap = { ...(outs as PropertyMap) };
    for (const [k, v] of Object.entries(ins)) if (k in out) out[k] = annotateSecrets(out[k], v);
    return out;
  }
  return outs;
}

/** Drops `undefined` members (a Struct cannot carry them) and checks the value is JSON-like. */
function clean(v: unknown, path: string): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`property ${path} is not a finite number`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => clean(x, `${path}[${i}]`));
  if (typeof v === "object") {
    const out: PropertyMap = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clean(x, `${path}.${k}`);
    return out;
  }
  throw new Error(`property ${path} has type ${typeof v}, which a protobuf Struct cannot carry`);
}

/** Plain properties → `google.protobuf.Struct`. */
export function toStruct(props: PropertyMap | undefined): Struct {
  return Struct.fromJavaScript((clean(props ?? {}, "") ?? {}) as Parameters<typeof Struct.fromJavaScript>[0]);
}

/** `google.protobuf.Struct` (or undefined) → plain properties. */
export function fromStruct(s: Struct | undefined): PropertyMap {
  return s ? (s.toJavaScript() as PropertyMap) : {};
}

/** Deep equality over JSON-like values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as PropertyMap)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as PropertyMap)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as PropertyMap)[k], (b as PropertyMap)[k]));
}

/** Top-level keys whose values differ between `olds` and `news` (the `__provider` key excluded). */
export function changedKeys(olds: PropertyMap, news: PropertyMap): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  keys.delete("__provider");
  return [...keys].filter((k) => !deepEqual(olds[k], news[k])).sort();
}

/** Builds a resource URN as the engine does (`parentType` is the parent's qualified type, if any). */
export function makeUrn(o: {
  stack: string;
  project: string;
  type: string;
  name: string;
  parentType?: string;
}): string {
  const qualified = o.parentType ? `${o.parentType}$${o.type}` : o.type;
  return `urn:pulumi:${o.stack}::${o.project}::${qualified}::${o.name}`;
}

/** Splits a URN into its qualified type, leaf type and name. */
export function parseUrn(urn: string): { qualifiedType: string; type: string; name: string } {
  const parts = urn.split("::");
  const qualifiedType = parts[2] ?? "";
  const name = parts.slice(3).join("::");
  const type = qualifiedType.split("$").pop() ?? qualifiedType;
  return { qualifiedType, type, name };
}
