/**
 * sops's top-level forms, mapped onto keyfleet verbs before dispatch: `keyfleet -d FILE`
 * (`--decrypt`), `-e FILE` (`--encrypt`), `-r FILE` (`--rotate`) and `--version`. Flags around them
 * go to the verb, so `keyfleet -d --extract '["a"]' FILE` works as with sops.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const FORMS: Record<string, string> = {
  "-d": "decrypt",
  "--decrypt": "decrypt",
  "-e": "encrypt",
  "--encrypt": "encrypt",
  "-r": "rotate",
  "--rotate": "rotate",
};

/** keyfleet's version from its package.json (searched upwards from this module). */
export function keyfleetVersion(): string {
  let dir = __dirname;
  for (let k = 0; k < 5; k++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "keyfleet" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not here: look one level up
    }
    dir = dirname(dir);
  }
  return "unknown";
}

/**
 * Rewrites sops's top-level forms into verb form; `version` is set for `--version` / `-v`.
 * Anything else is returned unchanged.
 */
export function preDispatch(argv: readonly string[]): { argv: readonly string[]; version?: string } {
  const first = argv[0];
  if (first === "--version" || first === "-v" || first === "version")
    return { argv, version: `keyfleet ${keyfleetVersion()}\n` };
  if (first === undefined || !first.startsWith("-")) return { argv };
  const at = argv.findIndex((a) => a === "--" || FORMS[a] !== undefined);
  if (at < 0 || argv[at] === "--") return { argv };
  return { argv: [FORMS[argv[at] as string] as string, ...argv.slice(0, at), ...argv.slice(at + 1)] };
}
