/**
 * SecretFile inputs: their shape, check, and how `values` keys map to sops key paths.
 *
 * `values` is a flat map. For yaml and json files a key is a dotted path (`db.password` →
 * `db: { password }`); for ini files `section.key` (no dot: the `DEFAULT` section); for dotenv files
 * the key is used as is.
 * Values are strings.
 */
import type * as pulumi from "@pulumi/pulumi";
import { parseRecipient, type AgeRecipient } from "../age";
import { formatFromPath, SOPS_FORMATS, type EncryptRules, type SopsFormat } from "../sops";
import { containsUnknown, isRecord, isUnknown, keyFailureReason, messageOf, type Failure } from "./inputs";
import { canonicalRecipientText, type NamedRecipient } from "../access/names";
import { DEFAULT_AUDIT_LOG } from "../access/audit-log";

/** The sops formats a SecretFile accepts. */
export const FORMATS: readonly SopsFormat[] = SOPS_FORMATS;

/** Encrypt-rule inputs (as in .sops.yaml creation rules); at most one selector may be set. */
export const RULE_KEYS = [
  "encryptedRegex",
  "unencryptedRegex",
  "encryptedSuffix",
  "unencryptedSuffix",
  "encryptedCommentRegex",
  "unencryptedCommentRegex",
] as const;

/** Inputs as the provider receives them (after check). */
export interface SecretFileInputs {
  /** File path relative to the project directory (the provider's working directory). */
  path: string;
  /** Named recipients. */
  recipients: NamedRecipient[];
  /** `name (age1…)` labels, for the plan only. */
  recipientLabels?: string[];
  /** Managed values (key → string); optional. */
  values?: Record<string, string>;
  /** Format; default inferred from the extension. */
  format?: SopsFormat;
  encryptedRegex?: string;
  unencryptedRegex?: string;
  encryptedSuffix?: string;
  unencryptedSuffix?: string;
  encryptedCommentRegex?: string;
  unencryptedCommentRegex?: string;
  /** Audit log path; default `.keyfleet/audit.jsonl`. */
  auditLog?: string;
  /** Remove the file on destroy; default false. */
  deleteFileOnDestroy?: boolean;
}

/** The format of a SecretFile: explicit or from the extension. */
export function formatOf(i: Pick<SecretFileInputs, "path" | "format">): SopsFormat {
  return i.format ?? formatFromPath(i.path);
}

/** The encrypt rules given in the inputs. */
export function rulesOf(i: SecretFileInputs): EncryptRules {
  const r: Record<string, string> = {};
  for (const k of RULE_KEYS) if (typeof i[k] === "string") r[k] = i[k] as string;
  return r as EncryptRules;
}

/**
 * The sops key path of a `values` key in a file of `format`: dotenv keys as they are, ini keys as
 * `[section, key]` (no dot: the `DEFAULT` section, which is where sops puts section-less keys),
 * yaml / json keys split at every dot.
 */
export function valuePath(key: string, format: SopsFormat): string[] {
  if (format === "dotenv") return [key];
  if (format === "ini") {
    const dot = key.indexOf(".");
    return dot < 0 ? ["DEFAULT", key] : [key.slice(0, dot), key.slice(dot + 1)];
  }
  return key.split(".");
}

/** The audit log path in effect. */
export function auditLogOf(i: { auditLog?: string }): string {
  return i.auditLog ?? DEFAULT_AUDIT_LOG;
}

/** Parses the named recipients fully. */
export function parseNamed(rs: readonly NamedRecipient[]): AgeRecipient[] {
  return rs.map((r) => parseRecipient(r.recipient, `recipient ${r.name}`));
}

const MAX_VALUES = 10_000;

/**
 * Recipient texts this process has parsed without error. A preview checks the same few recipients
 * on every resource, and each parse of an `age1…` key costs an X25519 operation (the low-order
 * check). Only public keys are kept (a secret key never parses as a recipient); bounded, cleared
 * when full. A text is kept only once it parsed, so a bad key is reported on every check.
 */
const parsedRecipients = new Set<string>();
const MAX_PARSED_RECIPIENTS = 4096;

/** parseRecipient(text, where), skipped for a text this process already parsed. @throws as parseRecipient */
function checkRecipient(text: string, where: string): void {
  if (parsedRecipients.has(text)) return;
  parseRecipient(text, where);
  if (parsedRecipients.size >= MAX_PARSED_RECIPIENTS) parsedRecipients.clear();
  parsedRecipients.add(text);
}

/**
 * A format change at the same path is refused: the file on disk is in the old format and sops has no
 * in-place conversion, so neither an update nor a replacement (which adopts the same file) could
 * work. `olds` are the previous inputs (empty on create).
 */
function checkFormatChange(olds: Record<string, unknown>, news: Record<string, unknown>, f: Failure[]): void {
  const [op, np, of, nf] = [olds["path"], news["path"], olds["format"], news["format"]];
  if (typeof op !== "string" || op !== np || isUnknown(nf) || isUnknown(of)) return;
  if ([of, nf].some((x) => x !== undefined && !FORMATS.includes(x as SopsFormat))) return; // reported below
  let before: SopsFormat;
  let after: SopsFormat;
  try {
    before = formatOf({ path: op, ...(typeof of === "string" ? { format: of as SopsFormat } : {}) });
    after = formatOf({ path: op, ...(typeof nf === "string" ? { format: nf as SopsFormat } : {}) });
  } catch {
    return; // an unknown format is reported below
  }
  if (before !== after) {
    f.push({
      property: "format",
      reason: `format of ${op} would change from ${before} to ${after}, but keyfleet cannot convert a sops file in place; keep format ${before}, or give the file a new path (a new file is created from values and this one is kept)`,
    });
  }
}

/** Per-property validation of SecretFile inputs; unknown values are skipped. No side effects. */
export async function check(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  const f: Failure[] = [];
  const path = news["path"];
  let format: SopsFormat | undefined;
  checkFormatChange(olds, news, f);
  if (!isUnknown(path)) {
    if (typeof path !== "string" || path.trim() === "" || path.includes("\0"))
      f.push({ property: "path", reason: "path must be a non-empty file path" });
  }
  const fmt = news["format"];
  if (fmt !== undefined && !isUnknown(fmt)) {
    if (typeof fmt !== "string" || !FORMATS.includes(fmt as SopsFormat))
      f.push({ property: "format", reason: `format must be one of ${FORMATS.join(", ")}` });
    else format = fmt as SopsFormat;
  } else if (typeof path === "string" && !isUnknown(path) && fmt === undefined) {
    try {
      format = formatFromPath(path);
    } catch (e) {
      f.push({ property: "format", reason: `cannot infer the format of ${path}: ${messageOf(e)}; set format` });
    }
  }
  const rs = news["recipients"];
  if (!isUnknown(rs)) {
    if (!Array.isArray(rs) || rs.length === 0) {
      f.push({ property: "recipients", reason: "recipients must list at least one recipient" });
    } else {
      const seen = new Map<string, string>();
      rs.forEach((r, i) => {
        if (containsUnknown(r)) return;
        if (!isRecord(r) || typeof r["recipient"] !== "string" || typeof r["name"] !== "string") {
          f.push({ property: "recipients", reason: `recipients[${i}] must be { name, recipient }` });
          return;
        }
        try {
          checkRecipient(r["recipient"], `recipients[${i}] (${r["name"]})`);
        } catch (e) {
          // the parser's message already names recipients[i] (name)
          f.push({ property: "recipients", reason: keyFailureReason(e) });
          return;
        }
        const c = canonicalRecipientText(r["recipient"]);
        const prev = seen.get(c);
        if (prev !== undefined)
          f.push({
            property: "recipients",
            reason: `recipients[${i}] (${r["name"]}) repeats the key of ${prev}; list each recipient once`,
          });
        seen.set(c, r["name"]);
      });
    }
  }
  const values = news["values"];
  if (values !== undefined && !isUnknown(values)) {
    if (!isRecord(values)) f.push({ property: "values", reason: "values must be a map of key name to string" });
    else {
      const keys = Object.keys(values);
      if (keys.length > MAX_VALUES)
        f.push({ property: "values", reason: `values has ${keys.length} keys, at most ${MAX_VALUES}` });
      if (format === "binary" && keys.length > 0)
        f.push({ property: "values", reason: "a binary file has no keys; remove values or use yaml/json/dotenv/ini" });
      for (const k of keys) {
        const v = values[k];
        // never quote the value: it is a secret
        if (!isUnknown(v) && typeof v !== "string")
          f.push({ property: "values", reason: `values.${k} must be a string` });
        if (
          k === "" ||
          k === "sops" ||
          k.split(".").some((p) => p === "") ||
          (format === "dotenv" && !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(k))
        ) {
          f.push({
            property: "values",
            reason: `values key "${k}" is not a valid key name for a ${format ?? "sops"} file`,
          });
        }
      }
    }
  }
  const selectors = RULE_KEYS.filter((k) => news[k] !== undefined);
  if (selectors.length > 1)
    f.push({ property: selectors[1] as string, reason: `set at most one of ${RULE_KEYS.join(", ")}` });
  for (const k of selectors) {
    const v = news[k];
    if (isUnknown(v)) continue;
    if (typeof v !== "string") f.push({ property: k, reason: `${k} must be a string` });
    else if (k.endsWith("Regex")) {
      try {
        new RegExp(v);
      } catch (e) {
        f.push({ property: k, reason: `${k} is not a valid regular expression: ${messageOf(e)}` });
      }
    }
  }
  for (const k of ["auditLog"])
    if (news[k] !== undefined && !isUnknown(news[k]) && (typeof news[k] !== "string" || news[k] === ""))
      f.push({ property: k, reason: `${k} must be a file path` });
  const dd = news["deleteFileOnDestroy"];
  if (dd !== undefined && !isUnknown(dd) && typeof dd !== "boolean")
    f.push({ property: "deleteFileOnDestroy", reason: "deleteFileOnDestroy must be a boolean" });
  return { inputs: news, failures: f };
}
