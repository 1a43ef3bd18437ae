/**
 * Helpers shared by the resource checks: the engine's unknown sentinel and per-property failures.
 */

/** The value the Pulumi engine sends for a not-yet-known input during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A per-property check failure, as pulumi.dynamic.CheckFailure. */
export interface Failure {
  /** The input property that failed. */
  readonly property: string;
  /** Why, lowercase, naming the fix. */
  readonly reason: string;
}

/** True when `v` is the engine's unknown sentinel. */
export function isUnknown(v: unknown): boolean {
  return v === UNKNOWN;
}

/** True when `v` is, or contains at any depth, an unknown value. Bounded by the input's size. */
export function containsUnknown(v: unknown, depth = 0): boolean {
  if (v === UNKNOWN) return true;
  if (depth > 32 || v === null || typeof v !== "object") return false;
  const items = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
  return items.some((x) => containsUnknown(x, depth + 1));
}

/** The message of an unknown thrown value, without its stack. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** How to fix a public key that does not parse, when the parser gave no more specific hint. */
export const KEY_FIX = "give the public key as age-keygen -y or the .pub file prints it (age1… or ssh-ed25519 AAAA…)";

/**
 * The check failure reason for a public key that did not parse: the parser's message (which already
 * names where, e.g. `recipients[1] (bob)`) and a fix: the parser's own hint, else {@link KEY_FIX}.
 */
export function keyFailureReason(e: unknown): string {
  const msg = messageOf(e);
  const hint = (e as { hint?: unknown } | null)?.hint;
  return typeof hint === "string" && hint !== "" ? msg : `${msg}; ${KEY_FIX}`;
}

/** A plain (non-array) object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
