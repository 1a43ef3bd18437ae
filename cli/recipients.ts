/**
 * Recipients for the sops verbs: `--age R1,R2` (age1… and ssh-ed25519 keys, comma separated as
 * sops takes them) or the `.sops.yaml` creation rule for the file.
 */
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
export function creationRuleFor(file: string): RuleLookup {
  let config: SopsConfig | undefined;
  let rule: CreationRule | undefined;
  try {
    config = loadConfigFor(file);
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
export function ruleRecipients(file: string): { lookup: RuleLookup; recipients: AgeRecipient[] } {
  const lookup = creationRuleFor(file);
  if (lookup.rule.age.length === 0) {
    throw new KeyfleetError(
      "NO_RECIPIENTS",
      `${lookup.config.path}: the creation rule for ${file} has no age recipients`,
      { file: lookup.config.path, hint: "add age: recipients to the rule" },
    );
  }
  return {
    lookup,
    recipients: lookup.rule.age.map((r, i) =>
      parseRecipient(r, `${lookup.config.path} creation_rules[${lookup.rule.index}].age entry ${i + 1}`),
    ),
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
