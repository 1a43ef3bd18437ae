/**
 * Names for recipients, for messages and `keyfleet audit`: the project directory (nearest
 * `.keyfleet/`, `.sops.yaml` or `.git` upwards), and a recipient → name map read from
 * `.keyfleet/names`, from `.sops.yaml` (YAML anchors such as `- &alice age1…` and trailing
 * `# alice` comments on a recipient's line) and from the audit log. Only public keys are read.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_AUDIT_LOG, namesFromAudit, readAudit } from "../provider/access/audit-log";
import { canonicalRecipientText, shortRecipient } from "../provider/access/names";

/** How far up the project search goes. */
const MAX_DEPTH = 64;
/** Largest names/config file read. */
const MAX_NAMES_BYTES = 1024 * 1024;

/**
 * The project directory governing `path` (a file or directory): the nearest ancestor holding
 * `.keyfleet/`, `.sops.yaml` or `.git`; the start directory when there is none.
 */
export function projectDir(path: string): string {
  const abs = resolve(path);
  let start = abs;
  try {
    if (!statSync(abs).isDirectory()) start = dirname(abs);
  } catch {
    start = dirname(abs);
  }
  let dir = start;
  for (let i = 0; i < MAX_DEPTH; i++) {
    if ([".keyfleet", ".sops.yaml", ".git"].some((m) => existsSync(join(dir, m)))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return start;
}

/** Matches one public recipient inside a line of text. */
const RECIPIENT_RE = /(age1[02-9ac-hj-np-z]{58})|(ssh-ed25519\s+[A-Za-z0-9+/]+=*)/;

function readSmall(path: string): string | undefined {
  try {
    if (statSync(path).size > MAX_NAMES_BYTES) return undefined;
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Names from `.sops.yaml` text: `&anchor` or a trailing `# comment` on a recipient's line. */
export function namesFromSopsYaml(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = RECIPIENT_RE.exec(line);
    if (!m) continue;
    const anchor = /&([A-Za-z0-9_.-]+)/.exec(line.slice(0, m.index));
    const after = line.slice(m.index + m[0].length);
    const hash = after.indexOf("#");
    const comment = hash >= 0 ? after.slice(hash + 1).trim() : "";
    const name = anchor?.[1] ?? (comment || undefined);
    if (name) out.set(canonicalRecipientText(m[0]), name);
  }
  return out;
}

/** Names from `.keyfleet/names`: lines `NAME RECIPIENT`; blank lines and `#` comments ignored. */
export function namesFromNamesFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const sp = line.search(/\s/);
    if (sp < 0) continue;
    const m = RECIPIENT_RE.exec(line.slice(sp));
    if (m) out.set(canonicalRecipientText(m[0]), line.slice(0, sp));
  }
  return out;
}

/** The recipient → name map of a project; later sources win: audit log, .sops.yaml, .keyfleet/names. */
export function loadNames(dir: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const [k, v] of namesFromAudit(readAudit(DEFAULT_AUDIT_LOG, dir))) {
    // a name the log derived from the key itself is no name
    if (v !== shortRecipient(k)) names.set(canonicalRecipientText(k), v);
  }
  const cfg = readSmall(join(dir, ".sops.yaml"));
  if (cfg) for (const [k, v] of namesFromSopsYaml(cfg)) names.set(k, v);
  const nf = readSmall(join(dir, ".keyfleet", "names"));
  if (nf) for (const [k, v] of namesFromNamesFile(nf)) names.set(k, v);
  return names;
}

/** `alice (age1abcd…wxyz)` when a name is known, else the short form. */
export function labelRecipient(recipient: string, names: Map<string, string>): string {
  const name = names.get(canonicalRecipientText(recipient));
  return name ? `${name} (${shortRecipient(recipient)})` : shortRecipient(recipient);
}
