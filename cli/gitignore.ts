/**
 * `.gitignore` upkeep for `init` and `migrate`: appends missing patterns, never reorders or
 * removes a line; written atomically.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../provider/fs";

/** Patterns `keyfleet init` ignores: plaintext env files (encrypted ones live in secrets/). */
export const PLAINTEXT_PATTERNS = [".env", ".env.*", "!.env.example", "*.env.plain"];

/** Appends each missing pattern (under `comment` when any is added); returns the patterns added. */
export function ensureIgnored(file: string, patterns: readonly string[], comment: string): string[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const missing = patterns.filter((p) => !have.has(p));
  if (missing.length === 0) return [];
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileAtomic(file, `${text}${sep}${text === "" ? "" : "\n"}# ${comment}\n${missing.join("\n")}\n`, {
    mode: 0o644,
  });
  return missing;
}
