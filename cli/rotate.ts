/**
 * `keyfleet rotate FILE… [--add-age R] [--rm-age R]`: a new data key for each file, every value
 * re-encrypted, as `sops rotate` does; `--add-age`/`--rm-age` change the recipients at the same time.
 * Every file is prepared before any is written; each write is atomic and logged in the audit log
 * with the exposure of removed recipients.
 */
import { parseRecipient, recipientDelta } from "../provider/age";
import { KeyfleetError } from "../provider/errors";
import { canonicalRecipientText } from "../provider/access/names";
import { assertUnchanged, fileVersion, textVersion, writeFilesAtomic } from "../provider/fs";
import { listKeys, readMetadata, rotate } from "../provider/sops";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { writeLogged, type LoggedChange } from "./audit-ahead";
import { auditPath } from "./audit-trail";
import { keyName } from "../provider/access/exposure";
import { projectDir } from "./recipient-names";
import { cliPendingDigests } from "./pending-view";
import { REASON_FLAG, reasonOf } from "./reason";
import { sopsVerb } from "./exit-codes";
import { existingMode, positionals, readInputText, resolveFormat, strFlag, withWriteLocks, writeOutput } from "./files";
import { explainingIdentities, loadIdentities } from "./identities";
import { parseRecipientList, storeOptionsOf } from "./recipients";

/** A rotated file's plan: its texts, the recipient delta and its format. */
interface RotatePlan {
  file: string;
  text: string;
  out: string;
  added: string[];
  removed: string[];
  format: ReturnType<typeof resolveFormat>;
}

/**
 * Each rotated file's audit entry, with its versions around the write; `outputBefore` is the
 * version of the --output file (null: absent) when there is one.
 */
async function rotateChanges(
  plans: readonly RotatePlan[],
  identities: Parameters<typeof cliPendingDigests>[0]["identities"],
  reason: string | undefined,
  outputBefore: string | null | undefined,
): Promise<LoggedChange[]> {
  const changes: LoggedChange[] = [];
  for (const p of plans) {
    const keysBefore = p.removed.length ? listKeys(p.text, p.format, p.file) : [];
    const exposedNow = keysBefore.filter((k) => k.encrypted).map((k) => keyName(k.path));
    const pending = await cliPendingDigests({
      root: projectDir(p.file),
      file: auditPath(p.file),
      format: p.format,
      textBefore: p.text,
      textAfter: p.out,
      identities,
      exposedNow,
    });
    changes.push({
      change: {
        file: p.file,
        operation: "rotate",
        added: p.added,
        removed: p.removed,
        keysBefore,
        ...(reason ? { reason } : {}),
        ...(pending ? { pending } : {}),
      },
      before: outputBefore !== undefined ? outputBefore : textVersion(p.text),
      after: textVersion(p.out),
    });
  }
  return changes;
}

/** The rotate verb. */
export const rotateVerb = sopsVerb(
  {
    name: "rotate",
    summary: "new data key and every value re-encrypted; optionally add/remove recipients",
    usage: "FILE… [-i | --output FILE] [--add-age R1,R2] [--rm-age R1,R2]",
    details:
      "As sops rotate, the rotated file is printed to stdout unless -i (--in-place) or --output is\n" +
      "given; several FILEs need -i.\n" +
      "Removing a recipient only protects future values: rotate the secrets it could read too (the\n" +
      "exposure is printed and logged in .keyfleet/audit.jsonl).\n" +
      "example: keyfleet rotate -i secrets/app.yaml --rm-age age1…",
    flags: {
      "add-age": { type: "string", valueName: "R1,R2", description: "recipients to add (age1… or ssh-ed25519 AAAA…)" },
      "rm-age": { type: "string", valueName: "R1,R2", description: "recipients to remove" },
      "input-type": {
        type: "string",
        valueName: "FORMAT",
        description: "format of every FILE; default: from each extension",
      },
      reason: REASON_FLAG,
      "in-place": { type: "boolean", short: "i", description: "rewrite FILE (atomically) instead of printing it" },
      output: { type: "string", valueName: "FILE", description: "write the rotated file to FILE instead of stdout" },
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    const files = positionals("rotate", args.positionals, "some", "FILE");
    const reason = reasonOf("rotate", args);
    const inPlace = args.flags["in-place"] === true;
    const output = strFlag(args.flags.output);
    if (inPlace && output !== undefined) throw new UsageError("rotate", "give -i or --output, not both");
    if (files.length > 1 && !inPlace)
      throw new UsageError("rotate", "rotating several files rewrites them: pass -i (--in-place)");
    const addText = strFlag(args.flags["add-age"]);
    // parsed for validation; the raw text keeps an ssh key's comment for the audit log's name
    parseRecipientList(addText ?? "", "--add-age");
    const addRaw = (addText ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const rm =
      strFlag(args.flags["rm-age"]) === undefined
        ? []
        : parseRecipientList(strFlag(args.flags["rm-age"]) as string, "--rm-age");
    const rmSet = new Set(rm.map((r) => canonicalRecipientText(r.toString())));
    const ids = await loadIdentities(io);
    // every file is read, rotated and written under its lock; compare-and-swap before the rename
    return withWriteLocks("rotate", io, files, async () => {
      const plans: RotatePlan[] = [];
      for (const file of files) {
        const format = resolveFormat("rotate", args.flags["input-type"], file);
        const text = readInputText(file);
        // compared by key (canonical text); the strings as written (an ssh key's comment included, as
        // sops keeps it) are what the rotated file records
        const haveText = readMetadata(text, format, file).recipients;
        const notThere = recipientDelta(haveText, [...rmSet]).added[0];
        if (notThere !== undefined)
          throw new KeyfleetError(
            "NOT_A_RECIPIENT",
            `${file}: --rm-age ${notThere.slice(0, 24)}… is not a recipient of the file`,
            { file, hint: "list the recipients with keyfleet audit" },
          );
        const keep = haveText.filter((h) => !rmSet.has(canonicalRecipientText(h)));
        const { removed } = recipientDelta(haveText, keep);
        const { added } = recipientDelta(keep, addRaw);
        const next = [...keep, ...added];
        if (!next.length)
          throw new KeyfleetError(
            "NO_RECIPIENTS",
            `${file}: removing these recipients would leave nobody able to decrypt it`,
            { file, hint: "add a recipient with --add-age" },
          );
        const recipients = next.map((r, i) => parseRecipient(r, `${file} recipient ${i + 1}`));
        const out = await explainingIdentities(file, ids, () =>
          rotate(text, { format, identities: ids.identities, recipients, file, stores: storeOptionsOf(file) }),
        );
        plans.push({ file, text, out, added, removed, format });
      }
      if (!inPlace && output === undefined) {
        // as sops rotate: the rotated file goes to stdout and FILE is left as it was
        io.stdout((plans[0] as (typeof plans)[number]).out);
        return 0;
      }
      let outputBefore: string | null = null;
      if (output !== undefined) {
        outputBefore = fileVersion(output);
        plans[0] = { ...(plans[0] as (typeof plans)[number]), file: output };
      }
      // each file's audit entry is made, and recorded ahead, before any file is written
      const changes = await rotateChanges(
        plans,
        ids.identities,
        reason,
        output === undefined ? undefined : outputBefore,
      );
      const exposures = await writeLogged(changes, async () => {
        if (output !== undefined) {
          const p = plans[0] as (typeof plans)[number];
          writeOutput(output, p.out, existingMode(output) ?? existingMode(files[0] as string) ?? 0o600);
        }
        // several files: one batched atomic write (fsyncs grouped); each file ends up old or new
        else if (plans.length > 1) {
          for (const p of plans) assertUnchanged(p.file, textVersion(p.text));
          await writeFilesAtomic(
            plans.map((p) => ({ path: p.file, data: p.out, mode: existingMode(p.file) ?? 0o600 })),
          );
        } else if (plans[0]) writeOutput(plans[0].file, plans[0].out, undefined, textVersion(plans[0].text));
      });
      plans.forEach((p, i) => {
        io.stderr(`${p.file}: data key rotated (${p.added.length} added, ${p.removed.length} removed)\n`);
        const exposure = exposures?.[i];
        if (exposure) io.stderr(exposure + "\n");
      });
      return 0;
    });
  },
);
