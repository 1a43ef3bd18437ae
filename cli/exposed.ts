/**
 * `keyfleet exposed FILE KEY… --reason TEXT`: marks values as exposed without any recipient
 * change (a value pasted in a chat, a laptop lost). Each becomes a pending rotation until its
 * value changes, as a removed recipient's exposure does.
 */
import { KeyfleetError } from "../provider/errors";
import { keyName } from "../provider/access/exposure";
import { listKeys } from "../provider/sops";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { auditPath, recordChange } from "./audit-trail";
import { sopsVerb } from "./exit-codes";
import { readInputText, resolveFormat } from "./files";
import { loadIdentities } from "./identities";
import { parseKeyPath } from "./keypath";
import { projectDir } from "./recipient-names";
import { cliPendingDigests } from "./pending-view";
import { REASON_FLAG, reasonOf } from "./reason";

/** The exposed verb. */
export const exposedVerb = sopsVerb(
  {
    name: "exposed",
    summary: "mark values as exposed: pending rotation until they change",
    usage: "FILE KEYPATH… --reason TEXT",
    details:
      "Records an 'exposed' line in .keyfleet/audit.jsonl. Each value stays a pending rotation (keyfleet\n" +
      "log --pending, keyfleet audit, keyfleet scan --max-pending-days) until its value changes, which\n" +
      "keyfleet detects with keyed digests of the values (recorded when your identities open the file).\n" +
      'example: keyfleet exposed secrets/app.yaml db.password --reason "pasted in a chat"',
    flags: { reason: REASON_FLAG },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    const [file, ...keyTexts] = args.positionals;
    if (file === undefined || keyTexts.length === 0)
      throw new UsageError("exposed", file === undefined ? "missing FILE and KEYPATH" : "missing KEYPATH");
    const reason = reasonOf("exposed", args);
    if (!reason) throw new UsageError("exposed", "missing --reason TEXT (say how the values were exposed)");
    const format = resolveFormat("exposed", undefined, file);
    const text = readInputText(file);
    const encrypted = new Set(
      listKeys(text, format, file)
        .filter((k) => k.encrypted)
        .map((k) => keyName(k.path)),
    );
    const keys = [...new Set(keyTexts.map((k) => parseKeyPath(k).join(".")))];
    for (const k of keys) {
      if (!encrypted.has(k))
        throw new KeyfleetError("BAD_KEY_PATH", `${file} has no encrypted key ${JSON.stringify(k)}`, {
          file,
          hint: "list the keys with keyfleet audit",
        });
    }
    const ids = await loadIdentities(io);
    const pending = await cliPendingDigests({
      root: projectDir(file),
      file: auditPath(file),
      format,
      textBefore: text,
      textAfter: text,
      identities: ids.identities,
      exposedNow: keys,
    });
    recordChange({ file, operation: "exposed", exposedKeys: keys, reason, ...(pending ? { pending } : {}) });
    io.stderr(
      `${file}: ${keys.join(", ")} marked exposed: pending rotation until the value${keys.length > 1 ? "s change" : " changes"}${pending ? "" : " (no identity opens the file: keyfleet cannot check the values; it clears when keyfleet set changes them)"}\n`,
    );
    return 0;
  },
);
