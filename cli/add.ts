/**
 * `keyfleet add NAME [--file secrets/app.yaml] [--per-secret]`: adds one secret, its value read from
 * a hidden prompt or stdin (never argv), refusing an empty one. A new file gets the recipients of its
 * `.sops.yaml` creation rule. `--per-secret` writes `secrets/NAME.env`, one sops file per secret,
 * so that a consumer can be given exactly the secrets it needs.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { KeyfleetError } from "../provider/errors";
import { textVersion } from "../provider/fs";
import { decrypt, listKeys, setValues } from "../provider/sops";
import { keyName } from "../provider/access/exposure";
import { encryptNewFile, valueKeyPath } from "../provider/fleet/values";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { writeLogged } from "./audit-ahead";
import { sopsVerb } from "./exit-codes";
import { existingMode, readInputText, resolveFormat, strFlag, withWriteLocks, writeOutput } from "./files";
import { explainingIdentities, loadIdentities } from "./identities";
import { readSecretValue } from "./prompt";
import { ruleRecipients } from "./recipients";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The add verb. */
export const addVerb = sopsVerb(
  {
    name: "add",
    summary: "add a secret from a hidden prompt or stdin",
    usage: "NAME [--file secrets/app.yaml | --per-secret]",
    details:
      "The value comes from a prompt that does not echo, or from stdin when piped (one trailing\n" +
      "newline removed); never from the command line. An empty value is refused. A new file is\n" +
      "encrypted to the recipients of its .sops.yaml creation rule (keyfleet init writes one); hosts\n" +
      "are added by keyfleet provision / push. NAME must not be in the file yet (change a value with\n" +
      "keyfleet set). --per-secret writes secrets/NAME.env holding only NAME.\n" +
      "example: keyfleet add DB_PASSWORD --per-secret",
    flags: {
      file: { type: "string", valueName: "FILE", description: "the sops file; default: secrets/app.yaml" },
      "per-secret": { type: "boolean", description: "one file per secret: secrets/NAME.env" },
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    const { name, file, format } = addTarget(args);
    const path = valueKeyPath(name, format);
    const exists = existsSync(file);
    const text = exists ? readInputText(file) : undefined;
    if (text !== undefined && listKeys(text, format, file).some((k) => keyName(k.path) === keyName(path))) {
      throw new KeyfleetError("KEY_EXISTS", `${name} is already in ${file}`, {
        file,
        hint: `change its value with keyfleet set ${file} ${name}`,
      });
    }
    // recipients (new file) or identities (existing file) first: no prompt for a value that cannot be stored
    const rule = text === undefined ? ruleRecipients(file) : undefined;
    const ids = text === undefined ? undefined : await loadIdentities(io);
    if (text !== undefined && ids !== undefined)
      await explainingIdentities(file, ids, () =>
        decrypt(text, { format, identities: ids.identities, file, report: ids.report }),
      );
    const value = await readSecretValue(io, name);
    if (value === "")
      throw new KeyfleetError("EMPTY_VALUE", `the value for ${name} is empty; nothing was written`, {
        file,
        hint: "type or pipe the value; an empty secret is almost always a mistake",
      });
    let out: string;
    if (text === undefined) {
      const r = rule as ReturnType<typeof ruleRecipients>;
      out = await encryptNewFile(file, format, { [name]: value }, r.recipients, r.lookup.rule.rules);
    } else {
      const l = ids as Awaited<ReturnType<typeof loadIdentities>>;
      out = await explainingIdentities(file, l, () =>
        setValues(text, { format, identities: l.identities, changes: [{ path, value }], file }),
      );
    }
    const was = text === undefined ? null : textVersion(text);
    const change = {
      file,
      operation: exists ? ("set-values" as const) : ("create" as const),
      keysChanged: [keyName(path)],
      ...(exists ? {} : { added: (rule?.recipients ?? []).map((r) => r.toString()) }),
    };
    // a new file's directory is made as git would check it out (0755 less the umask)
    if (text === undefined) mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    // under the file's lock, and only if nobody wrote it since it was read (compare-and-swap)
    await withWriteLocks("add", io, [file], () =>
      writeLogged([{ change, before: was, after: textVersion(out) }], () =>
        writeOutput(file, out, existingMode(file) ?? 0o644, was),
      ),
    );
    io.stderr(`${file}: ${exists ? "added" : "created with"} ${name}\n`);
    return 0;
  },
);

/**
 * NAME, the file it goes into and the file's format, from the arguments.
 * @throws UsageError when NAME is missing or invalid for the format, a value was given as an argument,
 *   both --file and --per-secret are set, or the file is binary
 */
function addTarget(args: ParsedArgs): { name: string; file: string; format: ReturnType<typeof resolveFormat> } {
  if (args.positionals.length === 0) throw new UsageError("add", "missing NAME");
  // a value typed as an argument is refused without being repeated
  if (args.positionals.length > 1)
    throw new UsageError(
      "add",
      "add takes only NAME: the value comes from stdin or a hidden prompt, never from the command line (the extra argument was not used; clear it from your shell history)",
    );
  const name = args.positionals[0] as string;
  const perSecret = args.flags["per-secret"] === true;
  if (perSecret && strFlag(args.flags.file) !== undefined)
    throw new UsageError("add", "give --file or --per-secret, not both");
  const file = perSecret ? `secrets/${name}.env` : (strFlag(args.flags.file) ?? "secrets/app.yaml");
  const format = resolveFormat("add", undefined, file);
  if (!(format === "dotenv" ? ENV_NAME : KEY).test(name)) {
    throw new UsageError(
      "add",
      format === "dotenv"
        ? `NAME must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*) in ${file}`
        : `NAME must be a key name (letters, digits, _ . -) in ${file}`,
    );
  }
  if (format === "binary")
    throw new UsageError("add", `${file} is a binary file; use a yaml, json, dotenv or ini file`);
  return { name, file, format };
}
