/**
 * The sops file formats, listed once: the type, the zod enums of the SDK and the fleet example, and
 * the checks of the provider and the CLI all derive from {@link SOPS_FORMATS}. No imports, so the
 * SDK can use it during program evaluation at no cost.
 */

/** The five sops formats, in the order messages list them. */
export const SOPS_FORMATS = ["yaml", "json", "dotenv", "ini", "binary"] as const;

/** One of the {@link SOPS_FORMATS}. */
export type SopsFormat = (typeof SOPS_FORMATS)[number];

/** True when `x` names a sops format. */
export function isSopsFormat(x: unknown): x is SopsFormat {
  return typeof x === "string" && (SOPS_FORMATS as readonly string[]).includes(x);
}

/** The formats as a message lists them: `yaml, json, dotenv, ini or binary`. */
export function sopsFormatList(conjunction = "or"): string {
  return `${SOPS_FORMATS.slice(0, -1).join(", ")} ${conjunction} ${SOPS_FORMATS[SOPS_FORMATS.length - 1]}`;
}
