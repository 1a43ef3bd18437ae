/**
 * `keyfleet log --verify`: is the audit log consistent with git history? Every commit that changes
 * a sops file's age entries (a recipient added or removed, or the data key re-wrapped or rotated)
 * must have its audit line: same file, same recipients added and removed, written no later than
 * the commit. The first version of a file (its creation) needs none.
 */
import { spawnSync } from "node:child_process";
import { relative, resolve } from "node:path";
import { formatFromPath, loadEncrypted } from "../sops";
import type { AuditEntry } from "./audit-log";
import { canonicalRecipientText, shortRecipient } from "./names";
import { gitEnv, readObjects } from "./scan/git";

/** A change of a sops file's age entries in one commit. */
export interface HistoryKeyChange {
  readonly commit: string;
  readonly time: string;
  /** Path relative to the repository top. */
  readonly file: string;
  readonly added: string[];
  readonly removed: string[];
  /** True when the entries of recipients present before and after changed (re-wrapped or rotated data key). */
  readonly rewrapped: boolean;
}

/** Operations that change age entries. */
const KEY_OPS = new Set(["add-recipients", "rotate", "create", "adopt", "rewrap-rules"]);
/** Clock skew allowed between an audit line and its commit. */
const SKEW_MS = 10 * 60_000;

function ageEntries(text: string, path: string): Map<string, string> | undefined {
  try {
    const { meta } = loadEncrypted(text, formatFromPath(path), path);
    return new Map(meta.age.map((e) => [canonicalRecipientText(e.recipient), e.enc] as const));
  } catch {
    return undefined;
  }
}

/** Changes of age entries in the history of `paths` (relative to `top`), oldest first, bounded by `maxCommits` per file. */
export async function historyKeyChanges(
  top: string,
  paths: readonly string[],
  maxCommits = 10_000,
): Promise<HistoryKeyChange[]> {
  const out: HistoryKeyChange[] = [];
  for (const path of paths) {
    const r = spawnSync(
      "git",
      ["log", `--max-count=${maxCommits}`, "--format=%H%x09%cI", "--reverse", "HEAD", "--", path],
      { cwd: top, env: gitEnv(), maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.status !== 0) continue;
    const commits = r.stdout
      .toString("utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t") as [string, string]);
    const texts: (string | undefined)[] = [];
    await readObjects(
      top,
      commits.map(([c]) => `${c}:${path}`),
      (i, data) => {
        texts[i] = data?.toString("utf8");
      },
    );
    let prev: Map<string, string> | undefined;
    commits.forEach(([commit, time], i) => {
      const text = texts[i];
      const cur = text === undefined ? undefined : ageEntries(text, path);
      if (prev && cur) {
        const added = [...cur.keys()].filter((k) => !prev?.has(k));
        const removed = [...(prev?.keys() ?? [])].filter((k) => !cur.has(k));
        const rewrapped = [...cur.entries()].some(([k, enc]) => prev?.has(k) && prev.get(k) !== enc);
        if (added.length || removed.length || rewrapped)
          out.push({ commit, time, file: path, added, removed, rewrapped });
      }
      if (cur) prev = cur;
    });
  }
  return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x) => b.includes(x));

/**
 * The history changes without an audit line. `projectDir` is where the audit log's paths are
 * relative to; `top` is the repository top.
 */
export function unauditedChanges(
  changes: readonly HistoryKeyChange[],
  entries: readonly AuditEntry[],
  top: string,
  projectDir: string,
): HistoryKeyChange[] {
  const used = new Set<number>();
  const missing: HistoryKeyChange[] = [];
  for (const c of changes) {
    const file = relative(projectDir, resolve(top, c.file)).split("\\").join("/");
    const limit = Date.parse(c.time) + SKEW_MS;
    const idx = entries.findIndex((e, i) => {
      if (used.has(i) || !KEY_OPS.has(e.operation) || e.file.split("\\").join("/") !== file) return false;
      if (Date.parse(e.time) > limit) return false;
      const added = (e.recipientsAdded ?? []).map((r) => canonicalRecipientText(r.recipient));
      const removed = (e.recipientsRemoved ?? []).map((r) => canonicalRecipientText(r.recipient));
      if (e.operation === "create" || e.operation === "adopt")
        return c.added.length > 0 && c.added.every((a) => added.includes(a)) && c.removed.length === 0;
      return sameSet(added, c.added) && sameSet(removed, c.removed);
    });
    if (idx >= 0) used.add(idx);
    else missing.push(c);
  }
  return missing;
}

/** One line for a change without its audit line. */
export function formatUnaudited(c: HistoryKeyChange): string {
  const parts = [...c.added.map((r) => `+${shortRecipient(r)}`), ...c.removed.map((r) => `-${shortRecipient(r)}`)];
  if (c.rewrapped && !parts.length) parts.push("data key re-wrapped or rotated");
  return `commit ${c.commit.slice(0, 12)} (${c.time}): ${c.file}: ${parts.join(" ")}: no audit line`;
}
