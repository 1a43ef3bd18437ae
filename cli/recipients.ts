/**
 * Recipients for the sops verbs: `--age R1,R2` (age1… and ssh-ed25519 keys, comma separated as
 * sops takes them) or the `.sops.yaml` creation rule for the file.
 */
import { dirname, resolve } from "node:path";
import { parseRecipient, type AgeRecipient } from "../provider/age";
import { isKeyfleetError, KeyfleetError } from "../provider/errors";
import {
  loadConfigFor,
  matchRule,
  storeOptionsFor,
  type CreationRule,
  type SopsConfig,
  type StoreOptions,
} from "../provider/sops";

/**
 * Parses a comma-separated recipient list (`age1…,ssh-ed25519 AAAA… comment`).
 * @throws KeyParseError naming the bad entry
 */
export function parseRecipientList(text: string, where = "--age"): AgeRecipient[] {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return parts.map((p, i) => parseRecipient(p, `${where} entry ${i + 1}`));
}

/** The creation rule for `file` with its config, or explains why there is none. */
export interface RuleLookup {
  config: SopsConfig;
  rule: CreationRule;
}

/**
 * Finds `.sops.yaml` above `file` and its first matching rule.
 * @throws KeyfleetError `CONFIG` for an invalid config, `NO_CONFIG` when there is no config or no rule
 */
export function creationRuleFor(
  file: string,
  loadConfig: (file: string) => SopsConfig | undefined = loadConfigFor,
): RuleLookup {
  let config: SopsConfig | undefined;
  let rule: CreationRule | undefined;
  try {
    config = loadConfig(file);
    rule = config ? matchRule(config, file) : undefined;
  } catch (e) {
    if (isKeyfleetError(e) && e.code !== "SOPS_UNSUPPORTED")
      throw new KeyfleetError("CONFIG", `invalid .sops.yaml: ${e.message}`, { file: e.file, cause: e });
    throw e;
  }
  if (!config)
    throw new KeyfleetError("NO_CONFIG", `no .sops.yaml found in the directories above ${file}`, {
      file,
      hint: "create a .sops.yaml with creation_rules whose path_regex matches the file",
    });
  if (!rule)
    throw new KeyfleetError("NO_CONFIG", `${config.path}: no creation rule matches ${file}`, {
      file: config.path,
      hint: "add a creation rule whose path_regex matches the file",
    });
  return { config, rule };
}

/**
 * The recipients of `file`'s creation rule, parsed.
 * @throws KeyfleetError `NO_RECIPIENTS` when the rule lists no age recipient, plus creationRuleFor's errors
 */
export function ruleRecipients(file: string, cache?: RuleCache): { lookup: RuleLookup; recipients: AgeRecipient[] } {
  const lookup = creationRuleFor(file, cache?.config);
  if (lookup.rule.age.length === 0) {
    throw new KeyfleetError(
      "NO_RECIPIENTS",
      `${lookup.config.path}: the creation rule for ${file} has no age recipients`,
      { file: lookup.config.path, hint: "add age: recipients to the rule" },
    );
  }
  const key = `${lookup.config.path}\0${lookup.rule.index}`;
  const recipients =
    cache?.parsed.get(key) ??
    lookup.rule.age.map((r, i) =>
      parseRecipient(r, `${lookup.config.path} creation_rules[${lookup.rule.index}].age entry ${i + 1}`),
    );
  cache?.parsed.set(key, recipients);
  return { lookup, recipients };
}

/**
 * Memory for {@link ruleRecipients} over many files in one command: each directory's `.sops.yaml`
 * is found and read once, each rule's recipients parsed once.
 */
export interface RuleCache {
  config: (file: string) => SopsConfig | undefined;
  parsed: Map<string, AgeRecipient[]>;
}

/** A fresh {@link RuleCache} (for one command; a config edited meanwhile is not seen). */
export function ruleCache(): RuleCache {
  const byDir = new Map<string, SopsConfig | undefined>();
  return {
    config: (file) => {
      const dir = dirname(resolve(file));
      if (byDir.has(dir)) return byDir.get(dir);
      const c = loadConfigFor(file);
      byDir.set(dir, c);
      return c;
    },
    parsed: new Map(),
  };
}

/** {@link storeOptionsOf} remembering each directory's answer (for one command over many files). */
export function storeOptionsCached(): (file: string) => StoreOptions {
  const byDir = new Map<string, StoreOptions>();
  return (file) => {
    const dir = dirname(resolve(file));
    const known = byDir.get(dir);
    if (known) return known;
    const s = storeOptionsOf(file);
    byDir.set(dir, s);
    return s;
  };
}

/**
 * `.sops.yaml` `stores:` options for `file` (yaml/json indent), as sops applies them to what it writes
 * and prints. @throws KeyfleetError `CONFIG` for an invalid config
 */
export function storeOptionsOf(file: string): StoreOptions {
  try {
    return storeOptionsFor(file);
  } catch (e) {
    if (isKeyfleetError(e))
      throw new KeyfleetError("CONFIG", `invalid .sops.yaml: ${e.message}`, { file: e.file, cause: e, hint: e.hint });
    throw e;
  }
}
