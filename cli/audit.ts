/**
 * `keyfleet audit [DIR]`: who can decrypt which sops file, from metadata only (no key needed).
 * Walks DIR for files carrying sops metadata (yaml/json `sops:` key, dotenv `sops_` keys, ini
 * `[sops]`, the binary store's JSON envelope) and prints each file's recipients, with names from
 * `.keyfleet/names`, `.sops.yaml` anchors/comments or the audit log, and its key names.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { canonicalRecipientText, shortRecipient } from "../provider/access/names";
import { discoverIdentities, type AgeIdentity } from "../provider/age";
import {
  describeMismatch,
  formatFromPath,
  labelMismatches,
  listKeys,
  loadEncrypted,
  MAX_SOPS_FILE_BYTES,
  readMetadata,
  type SopsFormat,
} from "../provider/sops";
import { isKeyfleetError, KeyfleetError } from "../provider/errors";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { exitCodeFor, sopsVerb } from "./exit-codes";
import { loadNames, projectDir } from "./recipient-names";
import { computePending } from "../provider/access/pending";
import { DEFAULT_AUDIT_LOG, readAudit } from "../provider/access/audit-log";
import { formatPending } from "./pending-view";

/** Limits of the walk. */
const MAX_FILES = 20_000;
const MAX_DEPTH = 32;
/** The same cap as every other reader: a file encrypt can write is audited, not skipped. */
const MAX_FILE_BYTES = MAX_SOPS_FILE_BYTES;
/** Directories never entered. */
const SKIP_DIRS = new Set([".git", "node_modules", ".keyfleet", ".pulumi", ".terraform", ".direnv"]);

/** One sops file as audit reports it. */
export interface AuditedFile {
  file: string;
  format: SopsFormat;
  version: string;
  lastmodified: string;
  keyGroups: number;
  recipients: { recipient: string; name: string | null }[];
  /** Shamir files: the recipients of each key group and how many groups are needed. */
  groups?: { threshold: number; recipients: { recipient: string; name: string | null }[][] };
  keys: { name: string; encrypted: boolean }[];
  /** Entries whose label your own identities contradict (see provider/sops/labels.ts); only with identities. */
  labelWarnings?: string[];
}

/** A line that starts sops metadata in one of the stores (yaml, json, dotenv, ini). */
const SOPS_MARKER = /^sops:|^\s*"sops"\s*:|^sops_(?:mac|lastmodified|version)=|^\[sops\]/m;

/** A file that looks like a sops file but could not be read (hostile or corrupt), for the report. */
export interface AuditProblem {
  file: string;
  error: KeyfleetError;
}

/**
 * Reads the sops metadata of one file, or undefined when it is not a sops file. A file whose parse
 * fails for another reason than missing metadata (invalid yaml, an alias bomb, nesting too deep) is
 * passed to `problem`, so audit reports it instead of skipping it silently.
 */
export function auditFile(
  path: string,
  shown: string,
  names: Map<string, string>,
  problem?: (p: AuditProblem) => void,
  identities: readonly AgeIdentity[] = [],
): AuditedFile | undefined {
  let text: string;
  try {
    if (statSync(path).size > MAX_FILE_BYTES) return undefined;
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  if (!text.includes("sops")) return undefined;
  const format = formatFromPath(path);
  try {
    const meta = readMetadata(text, format, shown);
    const named = (r: string) => ({
      recipient: canonicalRecipientText(r),
      name: names.get(canonicalRecipientText(r)) ?? null,
    });
    const keys = listKeys(text, format, shown).map((k) => ({ name: k.path.join("."), encrypted: k.encrypted }));
    const labelWarnings = identities.length
      ? labelMismatches(loadEncrypted(text, format, shown).meta.age, identities).map((m) => describeMismatch(shown, m))
      : [];
    return {
      ...(labelWarnings.length ? { labelWarnings } : {}),
      file: shown,
      format,
      version: meta.version,
      lastmodified: meta.lastmodified,
      keyGroups: meta.keyGroups,
      recipients: meta.recipients.map(named),
      keys,
      ...(meta.groupRecipients
        ? {
            groups: {
              threshold: meta.shamirThreshold ?? meta.groupRecipients.length,
              recipients: meta.groupRecipients.map((g) => g.map(named)),
            },
          }
        : {}),
    };
  } catch (e) {
    if (
      problem &&
      isKeyfleetError(e) &&
      !/sops metadata not found/.test(e.message) &&
      (SOPS_MARKER.test(text) || /excessive aliasing|levels deep/.test(e.message))
    )
      problem({ file: shown, error: e });
    return undefined;
  }
}

/** Files under `dir` (sorted, bounded), skipping VCS and dependency directories. */
export function walkFiles(dir: string): string[] {
  const out: string[] = [];
  const rec = (d: string, depth: number): void => {
    if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
    let ents;
    try {
      ents = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of ents) {
      if (out.length >= MAX_FILES) return;
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) rec(p, depth + 1);
      } else if (e.isFile()) out.push(p);
    }
  };
  rec(dir, 0);
  return out;
}

/** Audits every sops file under `dir`; paths are shown relative to `dir`. */
export function auditDir(
  dir: string,
  problems: AuditProblem[] = [],
  identities: readonly AgeIdentity[] = [],
): AuditedFile[] {
  const names = loadNames(projectDir(dir));
  const out: AuditedFile[] = [];
  for (const p of walkFiles(dir)) {
    const a = auditFile(p, relative(dir, p) || p, names, (x) => problems.push(x), identities);
    if (a) out.push(a);
  }
  return out;
}

function who(r: { recipient: string; name: string | null }): string {
  return r.name ? `${r.name} (${shortRecipient(r.recipient)})` : shortRecipient(r.recipient);
}

/** The human report: per file, then per recipient. */
export function formatAudit(files: readonly AuditedFile[]): string {
  if (!files.length) return "no sops files found\n";
  const lines: string[] = [];
  const byRecipient = new Map<string, { label: string; files: string[] }>();
  for (const f of files) {
    lines.push(
      `${f.file} (${f.format}, sops ${f.version || "?"}, last modified ${f.lastmodified || "?"}${f.keyGroups > 1 ? `, ${f.keyGroups} key groups` : ""})`,
    );
    if (f.groups) {
      // Shamir: nobody decrypts alone; keyfleet cannot decrypt these files at all
      lines.push(
        `  key groups: ${f.groups.threshold} of ${f.groups.recipients.length} groups needed to decrypt (Shamir; use the sops binary)`,
      );
      f.groups.recipients.forEach((g, i) =>
        lines.push(`    group ${i + 1}: ${g.length ? g.map(who).join(", ") : "no age entries"}`),
      );
    } else
      lines.push(`  recipients: ${f.recipients.length ? f.recipients.map(who).join(", ") : "none (no age entries)"}`);
    const enc = f.keys.filter((k) => k.encrypted).map((k) => k.name);
    const clear = f.keys.filter((k) => !k.encrypted).map((k) => k.name);
    for (const w of f.labelWarnings ?? []) lines.push(`  ${w}`);
    lines.push(`  encrypted keys: ${enc.length ? enc.join(", ") : "none"}`);
    if (clear.length) lines.push(`  clear keys: ${clear.join(", ")}`);
    for (const r of f.recipients) {
      const e = byRecipient.get(r.recipient) ?? { label: who(r), files: [] };
      e.files.push(f.file);
      byRecipient.set(r.recipient, e);
    }
  }
  lines.push("", "who can decrypt what:");
  for (const { label, files: fs } of [...byRecipient.values()].sort((a, b) => (a.label < b.label ? -1 : 1)))
    lines.push(`  ${label}: ${fs.join(", ")}`);
  return lines.join("\n") + "\n";
}

/** The audit verb. */
export const auditVerb = sopsVerb(
  {
    name: "audit",
    summary: "show who can decrypt which sops file, from metadata only (no key needed)",
    usage: "[DIR] [--json]",
    details:
      "Walks DIR (default .), skipping .git and node_modules, for files with sops metadata. Recipient\n" +
      "names come from .keyfleet/names (lines NAME RECIPIENT), .sops.yaml anchors (- &alice age1…) or\n" +
      "trailing comments, and the audit log. Values are never decrypted.\n" +
      "example: keyfleet audit secrets --json",
    flags: { json: { type: "boolean", description: "machine-readable output: a JSON list of files" } },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    if (args.positionals.length > 1)
      throw new UsageError("audit", `unexpected argument ${JSON.stringify(args.positionals[1])}`);
    const dir = args.positionals[0] ?? ".";
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (e) {
      throw new KeyfleetError(
        "IO_READ",
        `cannot read ${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (e as Error).message}`,
        { file: dir, hint: "pass a directory" },
      );
    }
    if (!isDir)
      throw new KeyfleetError("IO_READ", `${dir} is not a directory`, { file: dir, hint: "pass a directory" });
    const problems: AuditProblem[] = [];
    // your identities, when any can be found, check the labels (audit itself needs no key)
    const ids = await discoverIdentities({ env: io.env, ...(io.env.HOME ? { home: io.env.HOME } : {}) }).then(
      (r) => r.identities,
      () => [] as AgeIdentity[],
    );
    const files = auditDir(dir, problems, ids);
    io.stdout(args.flags.json === true ? JSON.stringify(files, null, 2) + "\n" : formatAudit(files));
    for (const f of files) for (const w of f.labelWarnings ?? []) io.stderr(`keyfleet: ${w}\n`);
    if (args.flags.json !== true) {
      // from the audit log alone (no value is decrypted here): keyfleet log --pending checks the files
      const pending = computePending(readAudit(DEFAULT_AUDIT_LOG, projectDir(dir)));
      if (pending.length)
        io.stdout(["", "pending rotations:", ...pending.map((p) => `  ${formatPending(p)}`)].join("\n") + "\n");
    }
    // unreadable sops files are reported, never skipped silently: exit with the first one's code
    for (const p of problems) io.stderr(`keyfleet: cannot audit ${p.file}: ${p.error.message}\n`);
    return problems[0] ? exitCodeFor(problems[0].error.code) : 0;
  },
);
