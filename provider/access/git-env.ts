/**
 * The environment git runs with, in a module of its own so that code which only may run git (the
 * audit actor) does not load node:child_process with the scan code.
 */

/**
 * Ours without the age key variables (SOPS_AGE_KEY holds a private key; no child needs it).
 */
export function gitEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SOPS_AGE_")));
}
