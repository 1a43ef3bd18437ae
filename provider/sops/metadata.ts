/**
 * sops metadata (`stores/stores.go` struct `metadata`): parse from any store's plain object (any key
 * order, `[]`, `null`, 3.7–3.13 files) and emit sops 3.13 style (sorted keys, empty lists omitted).
 */
import { SopsParseError, UnsupportedError } from "./errors.js";
import { RULE_FIELDS, type EncryptRules } from "./rules.js";

/** Version string written into files keyfleet creates or re-encrypts (the sops release whose format we emit). */
export const SOPS_VERSION = "3.13.2";

/** One `age` entry: the recipient as written and its armored age file (the wrapped data key). */
export interface AgeEntry {
  recipient: string;
  enc: string;
}

/** Parsed metadata. Key sources keyfleet does not handle (pgp, kms, …) are kept verbatim in `other`. */
export interface SopsMetadata {
  age: AgeEntry[];
  lastmodified: string;
  mac: string;
  version: string;
  rules: EncryptRules;
  /** Non-empty lists of other key sources (pgp, kms, gcp_kms, azure_kv, hc_vault, hckms), kept for re-emission. */
  other: Record<string, unknown[]>;
  /** Number of key groups (1 for the common top-level layout). */
  keyGroups: number;
  /** `shamir_threshold` when present. */
  shamirThreshold?: number;
  /** With several key groups: the age recipients of each group (public keys only), for audit. */
  groupRecipients?: string[][];
}

const OTHER_SOURCES = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp"] as const;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown, field: string, file?: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString().replace(/\.000Z$/, "Z");
  throw new SopsParseError(`sops metadata field ${field} must be a string`, { file });
}

function list(v: unknown, field: string, file?: string): unknown[] {
  if (v === undefined || v === null || v === "") return [];
  if (!Array.isArray(v)) throw new SopsParseError(`sops metadata field ${field} must be a list`, { file });
  return v;
}

function ageEntries(v: unknown, file?: string): AgeEntry[] {
  return list(v, "age", file).map((e, i) => {
    if (!isObj(e)) throw new SopsParseError(`sops metadata age[${i}] must be a mapping`, { file });
    const recipient = str(e.recipient, `age[${i}].recipient`, file).trim();
    const enc = str(e.enc, `age[${i}].enc`, file);
    if (!recipient || !enc) throw new SopsParseError(`sops metadata age[${i}] needs recipient and enc`, { file });
    return { recipient, enc };
  });
}

/**
 * Parses the `sops` metadata object of a file.
 * @throws SopsParseError when required fields are missing or mistyped.
 */
export function parseMetadata(raw: unknown, file?: string): SopsMetadata {
  if (!isObj(raw))
    throw new SopsParseError("sops metadata not found", { file, hint: "this file is not encrypted with sops" });
  const lastmodified = str(raw.lastmodified, "lastmodified", file);
  if (!lastmodified) throw new SopsParseError("sops metadata has no lastmodified", { file });
  const rules: EncryptRules = {};
  for (const [k, f] of Object.entries(RULE_FIELDS) as [keyof typeof RULE_FIELDS, string][]) {
    const v = str(raw[f], f, file);
    if (v) rules[k] = v;
  }
  const moe = raw.mac_only_encrypted;
  if (moe === true || moe === "true" || moe === "True") rules.macOnlyEncrypted = true;
  const other: Record<string, unknown[]> = {};
  for (const s of OTHER_SOURCES) {
    const l = list(raw[s], s, file);
    if (l.length) other[s] = l;
  }
  let age = ageEntries(raw.age, file);
  const groups = list(raw.key_groups, "key_groups", file);
  const topLevel = age.length > 0 || Object.keys(other).length > 0;
  let keyGroups = topLevel || groups.length === 0 ? 1 : groups.length;
  if (!topLevel && groups.length === 1 && isObj(groups[0])) {
    age = ageEntries(groups[0].age, file);
    for (const s of OTHER_SOURCES) {
      const l = list(groups[0][s], s, file);
      if (l.length) other[s] = l;
    }
  }
  if (topLevel) keyGroups = 1;
  const st = raw.shamir_threshold;
  const meta: SopsMetadata = {
    age,
    lastmodified,
    mac: str(raw.mac, "mac", file),
    version: str(raw.version, "version", file),
    rules,
    other,
    keyGroups,
  };
  if (st !== undefined && st !== null && st !== "") meta.shamirThreshold = Number(st);
  if (keyGroups > 1)
    meta.groupRecipients = groups.map((g) => (isObj(g) ? ageEntries(g.age, file).map((e) => e.recipient) : []));
  return meta;
}

/** Throws UnsupportedError for files keyfleet cannot decrypt or re-key (several key groups). */
export function assertSingleGroup(m: SopsMetadata, file?: string): void {
  if (m.keyGroups > 1) {
    throw new UnsupportedError(
      `${file ?? "sops file"} uses ${m.keyGroups} key groups (Shamir secret sharing), which keyfleet does not support`,
      {
        file,
        hint: "use the sops binary for this file, or re-encrypt it with a single key group",
      },
    );
  }
}

/**
 * The metadata as a plain object in sops 3.13 emission order: top-level keys sorted, empty lists and
 * empty strings omitted, age entries as `{enc, recipient}` (sorted like every other map).
 */
export function metadataToPlain(m: SopsMetadata): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  // sops 3.13 sorts the keys of each age entry as well (stores.go goToSops): enc, then recipient
  if (m.age.length) o.age = m.age.map((e) => ({ enc: e.enc, recipient: e.recipient }));
  for (const [k, v] of Object.entries(m.other)) if (v.length) o[k] = v;
  o.lastmodified = m.lastmodified;
  o.mac = m.mac;
  for (const [k, f] of Object.entries(RULE_FIELDS) as [keyof typeof RULE_FIELDS, string][]) {
    const v = m.rules[k];
    if (typeof v === "string" && v) o[f] = v;
  }
  if (m.rules.macOnlyEncrypted) o.mac_only_encrypted = true;
  if (m.shamirThreshold !== undefined) o.shamir_threshold = m.shamirThreshold;
  o.version = m.version;
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) sorted[k] = o[k];
  return sorted;
}

/** Flattens metadata for dotenv/ini (`__map_`, `__list_<i>`), as sops `MetadataFlatten*`; sorted keys. */
export function flattenMetadata(plain: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  const rec = (prefix: string, v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => rec(`${prefix}__list_${i}`, x));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) rec(`${prefix}__map_${k}`, x);
    else out.push([prefix, v === true ? "true" : v === false ? "false" : String(v)]);
  };
  for (const [k, v] of Object.entries(plain)) rec(k, v);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Inverse of flattenMetadata: rebuilds nested lists/maps from flattened keys (any order). */
export function unflattenMetadata(pairs: [string, string][], file?: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of pairs) {
    const parts = key.split("__");
    let cur: Record<string, unknown> | unknown[] = root;
    let k: string | number = parts[0] ?? "";
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i] as string;
      const lm = /^list_(\d{1,4})$/.exec(p);
      const mm = /^map_(.+)$/.exec(p);
      if (!lm && !mm) throw new SopsParseError(`bad flattened sops metadata key ${JSON.stringify(key)}`, { file });
      const container: unknown = (cur as Record<string, unknown>)[k as string];
      const want = lm ? "list" : "map";
      let next: Record<string, unknown> | unknown[];
      if (container === undefined) {
        next = want === "list" ? [] : {};
        (cur as Record<string, unknown>)[k as string] = next;
      } else if (
        (want === "list") === Array.isArray(container) &&
        typeof container === "object" &&
        container !== null
      ) {
        next = container as Record<string, unknown> | unknown[];
      } else throw new SopsParseError(`conflicting flattened sops metadata key ${JSON.stringify(key)}`, { file });
      cur = next;
      k = lm ? Number(lm[1]) : (mm?.[1] as string);
    }
    (cur as Record<string, unknown>)[k as string] = value;
  }
  const compact = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.filter((x) => x !== undefined).map(compact)
      : isObj(v)
        ? Object.fromEntries(Object.entries(v).map(([a, b]) => [a, compact(b)]))
        : v;
  return compact(root) as Record<string, unknown>;
}
