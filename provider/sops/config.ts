/**
 * `.sops.yaml`: parse `creation_rules`, find the config as sops does (search upwards from the file),
 * pick the first rule whose `path_regex` matches the path relative to the config's directory, and
 * write/update keyfleet-managed rules while keeping comments and other rules.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Document, YAMLMap, YAMLSeq } from "yaml";
import { SopsParseError, UnsupportedError } from "./errors.js";
import { compileRe2, RULE_FIELDS, type EncryptRules } from "./rules.js";
import type { StoreOptions } from "./stores/index.js";
import { yamlErrorText } from "./stores/yaml.js";
import { checkedTokens } from "./stores/yaml-limits.js";
import { yamlLib } from "./stores/yaml-lib.js";

/** One creation rule. */
export interface CreationRule {
  pathRegex?: string;
  /** age recipients (string or list form, comma separated allowed). */
  age: string[];
  /** Number of key groups (age recipients of a single group are merged into `age`). */
  keyGroups: number;
  rules: EncryptRules;
  /** Index in creation_rules. */
  index: number;
}

/** A loaded config. */
export interface SopsConfig {
  path: string;
  dir: string;
  rules: CreationRule[];
  /** `stores:` output options (yaml and json indent). */
  stores: StoreOptions;
}

/** The fix for any .sops.yaml problem (SopsParseError's default hint is about sops files). */
const CONFIG_HINT =
  'fix .sops.yaml: creation_rules is a list of mappings with path_regex and age (a string "age1…,age1…" or a list, one key per item)';

function splitAge(v: unknown, where: string, file: string): string[] {
  if (v === undefined || v === null) return [];
  const parts = Array.isArray(v) ? v : [v];
  return parts.flatMap((p) => {
    if (typeof p !== "string")
      throw new SopsParseError(`${where}.age must be a string or a list of strings`, { file, hint: CONFIG_HINT });
    return p
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  });
}

/** Parses `.sops.yaml` text. @throws SopsParseError */
export function parseSopsConfig(text: string, file = ".sops.yaml"): CreationRule[] {
  const root = configRoot(text, file);
  if (root === null || root === undefined) return [];
  if (typeof root !== "object" || Array.isArray(root))
    throw new SopsParseError("top level must be a mapping", { file, hint: CONFIG_HINT });
  const cr = (root as Record<string, unknown>).creation_rules;
  if (cr === undefined || cr === null) return [];
  if (!Array.isArray(cr)) throw new SopsParseError("creation_rules must be a list", { file, hint: CONFIG_HINT });
  return cr.map((r, index) => {
    const where = `creation_rules[${index}]`;
    if (typeof r !== "object" || r === null || Array.isArray(r))
      throw new SopsParseError(`${where} must be a mapping`, { file, hint: CONFIG_HINT });
    const o = r as Record<string, unknown>;
    const rule: CreationRule = { age: splitAge(o.age, where, file), keyGroups: 1, rules: {}, index };
    if (o.path_regex !== undefined) {
      if (typeof o.path_regex !== "string")
        throw new SopsParseError(`${where}.path_regex must be a string`, { file, hint: CONFIG_HINT });
      compileRe2(o.path_regex, `${where}.path_regex`, file);
      rule.pathRegex = o.path_regex;
    }
    if (Array.isArray(o.key_groups)) {
      rule.keyGroups = o.key_groups.length;
      if (o.key_groups.length === 1)
        rule.age.push(
          ...splitAge((o.key_groups[0] as Record<string, unknown> | null)?.age, `${where}.key_groups[0]`, file),
        );
    }
    for (const [k, f] of Object.entries(RULE_FIELDS) as [keyof typeof RULE_FIELDS, string][]) {
      const v = o[f];
      if (typeof v === "string" && v) rule.rules[k] = v;
    }
    if (o.mac_only_encrypted === true) rule.rules.macOnlyEncrypted = true;
    return rule;
  });
}

/** The single document of `.sops.yaml`, nesting bounded. @throws SopsParseError */
function configDocument(text: string, file: string): Document.Parsed {
  checkedTokens(text, file, CONFIG_HINT); // parsed twice: .sops.yaml is small, and the nesting is checked before composing
  const doc = yamlLib().parseDocument(text);
  const err = doc.errors[0];
  if (err)
    throw new SopsParseError(`invalid yaml: ${yamlErrorText(err)}`, {
      file,
      line: err.linePos?.[0]?.line,
      hint: CONFIG_HINT,
    });
  return doc;
}

/** `.sops.yaml` as plain data, nesting and alias expansion bounded. @throws SopsParseError */
function configRoot(text: string, file: string): unknown {
  const doc = configDocument(text, file);
  try {
    // the yaml package bounds alias expansion here (maxAliasCount, default 100) with a ReferenceError
    return doc.toJS() as unknown;
  } catch (e) {
    throw new SopsParseError("invalid yaml: document contains excessive aliasing (a yaml alias bomb?)", {
      file,
      hint: "expand the aliases (*name) in .sops.yaml into plain values",
      cause: e,
    });
  }
}

/**
 * The `stores:` section of `.sops.yaml` (sops `config.StoresConfig`): `yaml.indent` (0 or unset: 4;
 * go-yaml turns values outside 2..9 into 2) and `json.indent` (unset: a tab; N: N spaces).
 * `json_binary.indent` applies to the binary store, which sops writes as json; keyfleet uses
 * `json.indent` for both. @throws SopsParseError for a negative or non-integer indent
 */
export function parseStoreOptions(text: string, file = ".sops.yaml"): StoreOptions {
  const root = configRoot(text, file);
  const out: StoreOptions = {};
  if (typeof root !== "object" || root === null || Array.isArray(root)) return out;
  const stores = (root as Record<string, unknown>).stores;
  if (stores === undefined || stores === null) return out;
  if (typeof stores !== "object" || Array.isArray(stores))
    throw new SopsParseError("stores must be a mapping", {
      file,
      hint: "write stores: { yaml: { indent: 2 }, json: { indent: 2 } }",
    });
  const indentOf = (name: string, min: number): number | undefined => {
    const s = (stores as Record<string, unknown>)[name];
    if (s === undefined || s === null) return undefined;
    const v = typeof s === "object" && !Array.isArray(s) ? (s as Record<string, unknown>).indent : undefined;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min)
      throw new SopsParseError(`stores.${name}.indent must be an integer >= ${min}`, {
        file,
        hint: `set stores.${name}.indent to a number of spaces, e.g. 2`,
      });
    return v;
  };
  const y = indentOf("yaml", 0);
  const j = indentOf("json", -1);
  if (y !== undefined) out.yamlIndent = y;
  if (j !== undefined) out.jsonIndent = j;
  return out;
}

/** The store options of the `.sops.yaml` governing `filePath` (none: defaults). @throws SopsParseError */
export function storeOptionsFor(filePath: string): StoreOptions {
  const path = findConfigFile(filePath);
  return path ? parseStoreOptions(readFileSync(path, "utf8"), path) : {};
}

/** Finds `.sops.yaml` from the file's directory upwards (as sops `FindConfigFile`). */
export function findConfigFile(filePath: string, maxDepth = 100): string | undefined {
  let dir = dirname(resolve(filePath));
  for (let i = 0; i < maxDepth; i++) {
    const p = join(dir, ".sops.yaml");
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

/** Loads the config governing `filePath`, or undefined when there is none. */
export function loadConfigFor(filePath: string): SopsConfig | undefined {
  const path = findConfigFile(filePath);
  if (!path) return undefined;
  const text = readFileSync(path, "utf8");
  return { path, dir: dirname(path), rules: parseSopsConfig(text, path), stores: parseStoreOptions(text, path) };
}

/**
 * First rule matching `filePath` (relative to the config dir, `/`-separated); a rule without
 * path_regex matches everything. @throws UnsupportedError when the match uses several key groups
 */
export function matchRule(config: SopsConfig, filePath: string): CreationRule | undefined {
  const rel = relative(config.dir, resolve(filePath)).split(sep).join("/");
  const hit = config.rules.find(
    (r) => r.pathRegex === undefined || compileRe2(r.pathRegex, "path_regex", config.path).test(rel),
  );
  if (hit && hit.keyGroups > 1)
    throw new UnsupportedError(
      `${config.path}: the rule for ${rel} has ${hit.keyGroups} key groups (Shamir), which keyfleet does not support`,
      { file: config.path },
    );
  return hit;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The anchored path_regex keyfleet writes for one file (relative to the config dir). */
export function pathRegexFor(relPath: string): string {
  return `^${escapeRe(relPath)}$`;
}

/**
 * Adds or updates the rule for `relPath` (exact `path_regex` written by `pathRegexFor`) so that
 * `sops edit` uses `recipients`. The rule is inserted before other rules (first match wins); comments
 * and all other rules are kept as they were.
 */
export function upsertCreationRule(
  text: string,
  relPath: string,
  recipients: string[],
  rules: EncryptRules = {},
): string {
  const { isMap, isScalar, isSeq, YAMLMap: YMap, YAMLSeq: YSeq, Scalar: YScalar } = yamlLib();
  const doc: Document = configDocument(text || "creation_rules: []\n", ".sops.yaml");
  if (!isMap(doc.contents)) doc.contents = new YMap(doc.schema) as never;
  const root = doc.contents as unknown as YAMLMap;
  const found: unknown = root.get("creation_rules", true);
  let seq: YAMLSeq;
  if (isSeq(found)) seq = found;
  else {
    seq = new YSeq(doc.schema);
    root.set("creation_rules", seq);
  }
  seq.flow = false;
  const re = pathRegexFor(relPath);
  let rule = seq.items.find(
    (it) => isMap(it) && isScalar(it.get("path_regex", true)) && (it.get("path_regex") as unknown) === re,
  ) as YAMLMap | undefined;
  if (!rule) {
    rule = new YMap(doc.schema);
    rule.set("path_regex", re);
    seq.items.unshift(rule);
  }
  const age = new YScalar(recipients.join(","));
  rule.set("age", age);
  for (const [k, f] of Object.entries(RULE_FIELDS) as [keyof typeof RULE_FIELDS, string][]) {
    const v = rules[k];
    if (typeof v === "string" && v) rule.set(f, v);
  }
  if (rules.macOnlyEncrypted) rule.set("mac_only_encrypted", true);
  return doc.toString({ indent: 2, lineWidth: 0 });
}
