/**
 * `keyfleet updatekeys FILE…`: makes each file's recipients those of its `.sops.yaml` creation rule,
 * as `sops updatekeys` does. Additions keep the data key (only new `age` entries appear in the
 * diff); any removal rotates the data key and re-encrypts every value. Shows the changes and asks
 * before writing unless `-y`. Every file is prepared before any is written; each write is atomic and
 * logged in the audit log.
 */
import { recipientDelta, recipientText } from "../provider/age";
import { KeyfleetError } from "../provider/errors";
import { textVersion } from "../provider/fs";
import { updateRecipientsMany, type RecipientsUpdate } from "../provider/fleet/rekey-many";
import { progressLine } from "./progress";
import {
  describeMismatch,
  labelMismatches,
  listKeys,
  loadEncrypted,
  readMetadata,
  type SopsFormat,
  type StoreOptions,
} from "../provider/sops";
import type { CliIo, ParsedArgs } from "./args";
import { hasLoggedAhead, logAhead, settleLoggedAhead, type AheadOfWrite, type LoggedChange } from "./audit-ahead";
import { auditBatch, auditPath, type AuditBatch } from "./audit-trail";
import { keyName, type ListedKey } from "../provider/access/exposure";
import type { PendingDigests } from "../provider/access/audit-log";
import { cliPendingDigests, readPendingLog, type PendingLog } from "./pending-view";
import { REASON_FLAG, reasonOf } from "./reason";
import { sopsVerb } from "./exit-codes";
import { positionals, readInputText, resolveFormat, withWriteLocks } from "./files";
import { explainingIdentities, loadIdentities } from "./identities";
import { labelRecipient } from "./recipient-names";
import { confirm, stdinIsTty } from "./prompt";
import { ruleCache, ruleRecipients, storeOptionsCached, type RuleCache } from "./recipients";

/** One file's planned change. */
interface Plan {
  file: string;
  format: SopsFormat;
  added: string[];
  removed: string[];
  recipients: ReturnType<typeof ruleRecipients>["recipients"];
  /** Your identities contradict an entry's label: rotate so every entry is rewritten for `recipients`. */
  relabelled: boolean;
}

/** Asks for confirmation unless `yes`; refuses without a terminal. @throws KeyfleetError `CONFIRM_NEEDED` */
export async function confirmOrRefuse(io: CliIo, yes: boolean, what: string): Promise<boolean> {
  if (yes) return true;
  if (!stdinIsTty())
    throw new KeyfleetError(
      "CONFIRM_NEEDED",
      `refusing to ${what} without confirmation: standard input is not a terminal`,
      { hint: "pass -y (--yes) to confirm non-interactively" },
    );
  return confirm("Is this okay? (y/n): ", io);
}

/** Per-project lookups made once for a whole batch (config, recipients, store options, names, actor). */
interface BatchLookups {
  rules: RuleCache;
  stores: (file: string) => StoreOptions;
  audit: AuditBatch;
}

/**
 * Reads each file and shows its planned change on stderr; returns the files to change.
 * Per file: one read, one parse of the metadata, the label check with `early`'s identities.
 */
async function planAll(files: readonly string[], io: CliIo, lk: BatchLookups): Promise<Plan[]> {
  const plans: Plan[] = [];
  // labels are not authenticated: check them with your identities when any can be loaded now
  const early = await loadIdentities(io).catch(() => undefined);
  for (const file of files) {
    const format = resolveFormat("updatekeys", undefined, file);
    const text = readInputText(file);
    // compared by key (an ssh comment does not make another recipient); reported as written, comment kept
    const { recipients } = ruleRecipients(file, lk.rules);
    const delta = recipientDelta(readMetadata(text, format, file).recipients, recipients);
    const added = delta.added.map(recipientText);
    const removed = delta.removed;
    const names = lk.audit.names(lk.audit.projectDir(file));
    const mismatches = early ? labelMismatches(loadEncrypted(text, format, file).meta.age, early.identities) : [];
    for (const m of mismatches) io.stderr(`keyfleet: ${describeMismatch(file, m)}\n`);
    const relabelled = mismatches.length > 0;
    if (relabelled)
      io.stderr(
        `${file}: the recipient labels cannot be trusted: the data key will be rotated and every entry rewritten for the .sops.yaml recipients\n`,
      );
    if (!added.length && !removed.length && !relabelled) {
      io.stderr(`${file}: already up to date\n`);
      continue;
    }
    io.stderr(`${file}: the following changes will be made to the recipients:\n`);
    for (const r of added) io.stderr(`+++ ${labelRecipient(r, names)}\n`);
    for (const r of removed) io.stderr(`--- ${labelRecipient(r, names)}\n`);
    if (removed.length)
      io.stderr(`    (a recipient is removed: the data key is rotated and every value re-encrypted)\n`);
    plans.push({ file, format, added, removed, recipients, relabelled });
  }
  return plans;
}

/** What the audit entry of a written file needs from its texts, taken while they are in memory. */
interface AuditFacts {
  keysBefore: ListedKey[];
  pending: PendingDigests | undefined;
  /** The file's versions (sha256) before and after, for the entry recorded ahead of the write. */
  before: string;
  after: string;
}

/** The audit entry of a file about to be written, from its plan and facts. */
function changeOf(r: RecipientsUpdate, p: Plan, f: AuditFacts, reason: string | undefined): LoggedChange {
  return {
    change: {
      file: p.file,
      operation: r.removed.length > 0 || p.relabelled ? "rotate" : "add-recipients",
      added: r.added,
      removed: r.removed,
      keysBefore: f.keysBefore,
      ...(reason ? { reason } : {}),
      ...(f.pending ? { pending: f.pending } : {}),
    },
    before: f.before,
    after: f.after,
  };
}

/**
 * The `onFile` hook that takes each written file's audit facts while its texts are in memory; each
 * project's audit log is read once.
 */
function gatherFacts(
  plan: (file: string) => Plan,
  lk: BatchLookups,
  ids: Awaited<ReturnType<typeof loadIdentities>>,
  facts: Map<string, AuditFacts>,
): (r: RecipientsUpdate, before: string) => Promise<void> {
  const logs = new Map<string, PendingLog>();
  const logOf = (root: string): PendingLog => {
    let l = logs.get(root);
    if (!l) logs.set(root, (l = readPendingLog(root)));
    return l;
  };
  return async (r, before) => {
    if (!r.written) return;
    const p = plan(r.file);
    const keysBefore = r.removed.length > 0 || p.relabelled ? listKeys(before, p.format, p.file) : [];
    const root = lk.audit.projectDir(p.file);
    const pending = await cliPendingDigests({
      root,
      file: auditPath(p.file, lk.audit),
      format: p.format,
      textBefore: before,
      textAfter: r.text,
      identities: ids.identities,
      exposedNow: keysBefore.filter((k) => k.encrypted).map((k) => keyName(k.path)),
      log: logOf(root),
    });
    facts.set(r.file, { keysBefore, pending, before: textVersion(before), after: textVersion(r.text) });
  };
}

/**
 * Re-keys the planned files (locked by the caller) and returns each result with its audit facts.
 * Every file is re-read, re-keyed (rotated where labels cannot be trusted) and staged as a temp file
 * by a bounded pool, then one batched atomic rename; each file ends up old or new. What is written
 * and logged is computed from the file as it is now (another writer may have changed it since the
 * plan was shown). Only small records per file stay in memory (no texts), so memory does not grow
 * with the batch; each project's audit log is read once.
 */
async function rekeyAll(
  plans: readonly Plan[],
  io: CliIo,
  ids: Awaited<ReturnType<typeof loadIdentities>>,
  lk: BatchLookups,
  reason: string | undefined,
): Promise<{ results: RecipientsUpdate[]; exposures: Map<string, string> }> {
  const byFile = new Map(plans.map((p) => [p.file, p] as const));
  const plan = (file: string): Plan => byFile.get(file) as Plan;
  const facts = new Map<string, AuditFacts>();
  // every entry is recorded ahead of the renames and appended after them (cli/audit-ahead.ts)
  let ahead: AheadOfWrite | undefined;
  let order: string[] = [];
  // a batch running over 2 s shows "updatekeys: N/M files" on stderr (counts only)
  const progress = progressLine("updatekeys", "files", (t) => io.stderr(t));
  const results = await explainingIdentities(undefined, ids, () =>
    updateRecipientsMany(
      plans.map((p) => p.file),
      {
        identities: ids.identities,
        recipients: (f) => plan(f).recipients,
        format: (f) => plan(f).format,
        forceRotate: (f) => plan(f).relabelled,
        stores: lk.stores,
        locked: true,
        readText: readInputText,
        keepText: false,
        onFile: gatherFacts(plan, lk, ids, facts),
        onProgress: (d, n) => progress.update(d, n),
        beforeCommit: (written) => {
          order = written.map((r) => r.file);
          ahead = logAhead(
            written.map((r) => changeOf(r, plan(r.file), facts.get(r.file) as AuditFacts, reason)),
            lk.audit,
          );
        },
      },
    ),
  )
    .catch((e: unknown) => {
      ahead?.settle(); // a failed rename: each entry is kept if its file was written, else dropped
      throw e;
    })
    .finally(() => progress.done());
  const messages = (ahead as AheadOfWrite | undefined)?.complete() ?? [];
  return { results, exposures: new Map(order.map((f, i) => [f, messages[i] ?? ""])) };
}

/** The updatekeys verb. */
export const updatekeysVerb = sopsVerb(
  {
    name: "updatekeys",
    summary: "set each file's recipients from .sops.yaml (as sops updatekeys)",
    usage: "[-y] FILE…",
    details:
      "Recipients come from the first creation rule of the nearest .sops.yaml matching each FILE.\n" +
      "Added recipients get the existing data key (values, mac and other entries unchanged); a removed\n" +
      "recipient makes keyfleet rotate the data key and re-encrypt every value. The changes are shown\n" +
      "and confirmed first; without a terminal pass -y.\n" +
      "example: keyfleet updatekeys -y secrets/*.yaml",
    flags: { yes: { type: "boolean", short: "y", description: "do not ask for confirmation" }, reason: REASON_FLAG },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    const files = positionals("updatekeys", args.positionals, "some", "FILE");
    const reason = reasonOf("updatekeys", args);
    // per-project lookups once for the whole batch: per file they made n files cost O(n²) (the
    // audit log, read for names and pending rotations, grows by a line per file written)
    const lk: BatchLookups = { rules: ruleCache(), stores: storeOptionsCached(), audit: auditBatch() };
    // what a killed run recorded ahead is settled first, for every FILE (written this time or not), under its lock
    if (hasLoggedAhead(files, lk.audit))
      await withWriteLocks("updatekeys", io, [...new Set(files)], async () => settleLoggedAhead(files, lk.audit));
    const plans = await planAll(files, io, lk);
    if (!plans.length) return 0;
    if (!(await confirmOrRefuse(io, args.flags.yes === true, "update recipients"))) {
      io.stderr("no changes made\n");
      return 0;
    }
    const ids = await loadIdentities(io);
    const byFile = new Map(plans.map((p) => [p.file, p] as const));
    await withWriteLocks(
      "updatekeys",
      io,
      plans.map((p) => p.file),
      async () => {
        const { results, exposures } = await rekeyAll(plans, io, ids, lk, reason);
        for (const r of results) {
          const p = byFile.get(r.file) as Plan;
          if (!r.written) {
            io.stderr(`${p.file}: already up to date\n`);
            continue;
          }
          const rotated = r.removed.length > 0 || p.relabelled;
          const exposure = exposures.get(r.file);
          io.stderr(
            `${p.file}: updated (${r.added.length} added, ${r.removed.length} removed${rotated ? ", data key rotated" : ""})\n`,
          );
          if (exposure) io.stderr(exposure + "\n");
        }
      },
    );
    return 0;
  },
);
