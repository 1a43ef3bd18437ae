/**
 * The structure rule of the leak gate: a file that a `.sops.yaml` creation rule covers, or that
 * matches `*.env*` or `secrets/**`, must be a sops file with its metadata and MAC.
 */
import { posix } from "node:path";
import { compileRe2, formatFromPath, loadEncrypted, type CreationRule } from "../../sops";

/** The `.sops.yaml` rules that apply, with the config's directory relative to the scan root. */
export interface StructureConfig {
  /** Creation rules of the project's `.sops.yaml` (empty when there is none). */
  readonly rules: readonly CreationRule[];
  /** A scanned path (relative to the scan root) made relative to the directory of `.sops.yaml`; undefined when outside it. */
  readonly relToConfig: (path: string) => string | undefined;
  /** Globs (`*` within a name, `**` across directories) exempt from the structure rule. */
  readonly allowPlain?: readonly string[];
}

/** A glob over `/`-separated paths: `**` any directories, `*` within a name, `?` one character. */
export function globRegex(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * Which rule covers `path` (`/`-separated, relative to the scan root), as a phrase for the finding,
 * or undefined. A creation rule without `path_regex` (a catch-all for `sops encrypt`) covers no
 * file here: it would make every file of the repository a secret.
 */
export function coveringRule(path: string, cfg: StructureConfig): string | undefined {
  if (cfg.allowPlain?.some((g) => globRegex(g).test(path))) return undefined;
  const base = posix.basename(path);
  if (base === ".sops.yaml") return undefined;
  const rel = cfg.relToConfig(path);
  if (rel !== undefined) {
    for (const r of cfg.rules) {
      if (r.pathRegex === undefined) continue;
      if (compileRe2(r.pathRegex, "path_regex").test(rel))
        return `.sops.yaml creation rule ${r.index + 1} (path_regex ${r.pathRegex})`;
    }
  }
  if (/\.env/.test(base)) return "the *.env* rule";
  if (path.startsWith("secrets/") || path.includes("/secrets/")) return "the secrets/** rule";
  return undefined;
}

/**
 * Why `text` is not a complete sops file (no metadata, no MAC), or undefined when it is one. The
 * reason never quotes the content.
 */
export function notSopsReason(text: string, path: string): string | undefined {
  if (!text.includes("sops")) return "it has no sops metadata (plaintext)";
  try {
    const { meta } = loadEncrypted(text, formatFromPath(path), path);
    if (!meta.mac || !meta.mac.startsWith("ENC[")) return "its sops metadata has no mac";
    if (meta.age.length === 0 && meta.keyGroups <= 1) return "its sops metadata has no age recipients";
    return undefined;
  } catch {
    return "it has no valid sops metadata";
  }
}
