/**
 * `keyfleet set FILE KEYPATH`: sets one value, read from stdin or a no-echo prompt (never argv).
 * Only that value is re-encrypted; every other ENC string stays byte-identical. The file is
 * written atomically and the change (key name only) is appended to the audit log.
 */
import { KeyfleetError } from "../provider/errors";
import {
  checkFileSize,
  decrypt,
  setValues,
  setValuesDecrypted,
  type DecryptedFile,
  type SopsFormat,
} from "../provider/sops";
import { storeOptionsOf } from "./recipients";
import { UsageError, type CliIo, type ParsedArgs } from "./args";

import { writeLogged } from "./audit-ahead";
import { sopsVerb } from "./exit-codes";
import { INPUT_TYPE_FLAG, positionals, readInputText, resolveFormat, withWriteLocks, writeOutput } from "./files";
import { textVersion } from "../provider/fs";
import { explainingIdentities, loadIdentities } from "./identities";
import { formatKeyPath, parseKeyPath } from "./keypath";
import { readSecretValue } from "./prompt";
import { auditPath } from "./audit-trail";
import { projectDir } from "./recipient-names";
import { cliPendingDigests } from "./pending-view";
import { REASON_FLAG, reasonOf } from "./reason";
import { resolveActorLater } from "../provider/access/actor";

/**
 * Parses a `--json` value: a JSON string, number or boolean.
 * @throws KeyfleetError `BAD_VALUE`, without JSON.parse's error as cause (its message quotes the value)
 */
export function jsonScalar(text: string): string | number | boolean {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new KeyfleetError("BAD_VALUE", "the value is not valid json", {
      hint: 'with --json pass e.g. "text", 42 or true; without --json the text is stored as a string',
    });
  }
  if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) return v;
  throw new KeyfleetError(
    "BAD_VALUE",
    `--json value must be a string, number or boolean, got ${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v}`,
    { hint: "set one scalar per key" },
  );
}

/**
 * The file's text with the value set. When the file is unchanged since it was decrypted (`text`),
 * that decryption (`before`: its tree and data key) is changed and sealed again, and the file is
 * neither parsed nor decrypted a second time; otherwise the identities unwrap it again.
 */
async function newText(
  current: string,
  text: string,
  before: DecryptedFile,
  o: {
    format: SopsFormat;
    path: string[];
    value: string | number | boolean;
    file: string;
    ids: Awaited<ReturnType<typeof loadIdentities>>;
  },
): Promise<string> {
  const { format, path, value, file, ids } = o;
  if (current === text)
    return checkFileSize(
      setValuesDecrypted(before, format, [{ path, value }], { file, stores: storeOptionsOf(file) }),
      file,
    );
  return explainingIdentities(file, ids, () =>
    setValues(current, {
      format,
      identities: ids.identities,
      changes: [{ path, value }],
      file,
      stores: storeOptionsOf(file),
    }),
  );
}

/** The set verb. */
export const setVerb = sopsVerb(
  {
    name: "set",
    summary: "set one value of a sops file from stdin or a hidden prompt",
    usage: "FILE KEYPATH [--json] [--raw] [--allow-empty]",
    details:
      `KEYPATH as sops writes it ('["db"]["password"]') or dotted (db.password); dotenv files take one\n` +
      "key, ini files [section, key]. The value comes from stdin when piped (one trailing newline\n" +
      "removed unless --raw) or from a prompt that does not echo; never from the command line.\n" +
      "Other values keep their exact ciphertext; the write is atomic and logged (key name only) in\n" +
      ".keyfleet/audit.jsonl. An empty value (closed stdin, Enter or Ctrl-D at the prompt) is refused\n" +
      "with exit code 10 unless --allow-empty. The file is locked while it is rewritten; a second\n" +
      "writer waits (exit code 11 when it gives up, 12 when the file changed underneath).\n" +
      'example: printf %s "$NEW_PASSWORD" | keyfleet set secrets/app.yaml \'["db"]["password"]\'',
    flags: {
      json: { type: "boolean", description: "the value is JSON (a string, number or boolean), as sops set takes it" },
      raw: { type: "boolean", description: "keep stdin byte for byte (no trailing newline removed)" },
      "allow-empty": {
        type: "boolean",
        description: "store an empty string (refused by default: it is almost always a mistake)",
      },
      "input-type": INPUT_TYPE_FLAG,
      reason: REASON_FLAG,
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    // a value typed as a third argument is refused, and the message does not repeat it
    if (args.positionals.length > 2)
      throw new UsageError(
        "set",
        "set takes FILE and KEYPATH only: the value comes from stdin or a hidden prompt, never from the command line (the extra argument was not used; clear it from your shell history)",
      );
    const [file, keyText] = positionals("set", args.positionals, 2, "FILE and KEYPATH") as [string, string];
    const path = parseKeyPath(keyText);
    const reason = reasonOf("set", args);
    const format = resolveFormat("set", args.flags["input-type"], file);
    const text = readInputText(file);
    // git config is read while the file is decrypted, not after the write (start-up, issue 13 §4)
    const actor = resolveActorLater(projectDir(file));
    const ids = await loadIdentities(io);
    // decrypt first: no prompt for a value that could not be stored
    const before = await explainingIdentities(file, ids, () =>
      decrypt(text, { format, identities: ids.identities, file, report: ids.report }),
    );
    const raw = await readSecretValue(io, formatKeyPath(path), { raw: args.flags.raw === true });
    const value = args.flags.json === true ? jsonScalar(raw) : raw;
    if (value === "" && args.flags["allow-empty"] !== true) {
      throw new KeyfleetError("EMPTY_VALUE", `refusing to store an empty value at ${formatKeyPath(path)} in ${file}`, {
        file,
        hint: "type or pipe the value, or pass --allow-empty to store an empty string",
      });
    }
    // read, change and write under the file's lock, checking before the rename that nobody else wrote it
    await withWriteLocks("set", io, [file], async () => {
      const current = readInputText(file);
      // the data key read before the lock holds only if nobody rewrote the file meanwhile
      const dataKey = current === text ? before.dataKey : undefined;
      const out = await newText(current, text, before, { format, path, value, file, ids });
      const pending = await cliPendingDigests({
        root: projectDir(file),
        file: auditPath(file),
        format,
        textBefore: current,
        textAfter: out,
        identities: ids.identities,
        ...(dataKey ? { dataKey } : {}),
      });
      const change = {
        file,
        actor: await actor,
        operation: "set-values" as const,
        keysChanged: [path.join(".")],
        ...(reason ? { reason } : {}),
        ...(pending ? { pending } : {}),
      };
      await writeLogged([{ change, before: textVersion(current), after: textVersion(out) }], () =>
        writeOutput(file, out, undefined, textVersion(current)),
      );
    });
    return 0;
  },
);
