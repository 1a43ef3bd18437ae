/**
 * `keyfleet encrypt FILE`: encrypts a plaintext file for `--age` recipients or the recipients of the
 * file's `.sops.yaml` creation rule, as `sops encrypt` does. ssh-ed25519 recipients get the native
 * ssh-ed25519 age stanza. Prints to stdout unless `--in-place` or `--output`.
 */
import type { AgeRecipient } from "../provider/age";
import { isKeyfleetError, KeyfleetError } from "../provider/errors";
import { encrypt, readMetadata, storeFor, type EncryptRules } from "../provider/sops";
import type { CliIo, ParsedArgs } from "./args";
import { sopsVerb } from "./exit-codes";
import {
  existingMode,
  INPUT_TYPE_FLAG,
  positionals,
  readInput,
  resolveFormat,
  strFlag,
  withWriteLocks,
  writeOutput,
} from "./files";
import { textVersion } from "../provider/fs";
import { parseRecipientList, ruleRecipients, storeOptionsOf } from "./recipients";

const RULE_FLAGS: [string, keyof EncryptRules][] = [
  ["unencrypted-suffix", "unencryptedSuffix"],
  ["encrypted-suffix", "encryptedSuffix"],
  ["unencrypted-regex", "unencryptedRegex"],
  ["encrypted-regex", "encryptedRegex"],
  ["unencrypted-comment-regex", "unencryptedCommentRegex"],
  ["encrypted-comment-regex", "encryptedCommentRegex"],
];

/** The encrypt rules given as flags, or undefined when none was given. */
function flagRules(args: ParsedArgs): EncryptRules | undefined {
  const r: EncryptRules = {};
  let any = false;
  for (const [flag, key] of RULE_FLAGS) {
    const v = strFlag(args.flags[flag]);
    if (v !== undefined) {
      (r as Record<string, string>)[key] = v;
      any = true;
    }
  }
  if (args.flags["mac-only-encrypted"] === true) {
    r.macOnlyEncrypted = true;
    any = true;
  }
  return any ? r : undefined;
}

/** True when `text` already carries sops metadata. */
function isSopsFile(text: string, format: Parameters<typeof readMetadata>[1]): boolean {
  try {
    readMetadata(text, format);
    return true;
  } catch {
    return false;
  }
}

/** Recipients and rules: `--age` (+ rule flags), else the .sops.yaml creation rule. */
function recipientsFor(
  file: string,
  args: ParsedArgs,
): { recipients: AgeRecipient[]; rules: EncryptRules | undefined } {
  const age = strFlag(args.flags.age);
  const rules = flagRules(args);
  if (age !== undefined) {
    const recipients = parseRecipientList(age);
    if (!recipients.length)
      throw new KeyfleetError("NO_RECIPIENTS", "--age lists no recipients", {
        hint: "pass --age age1…,ssh-ed25519 AAAA…",
      });
    return { recipients, rules };
  }
  try {
    const { lookup, recipients } = ruleRecipients(file);
    return { recipients, rules: rules ?? lookup.rule.rules };
  } catch (e) {
    if (isKeyfleetError(e) && e.code === "NO_CONFIG") {
      throw new KeyfleetError("NO_RECIPIENTS", `no recipients for ${file}: ${e.message.split(";")[0]}`, {
        file,
        hint: "pass --age age1…,ssh-ed25519 AAAA… or add a .sops.yaml creation rule for the file",
      });
    }
    throw e;
  }
}

/** The encrypt verb. */
export const encryptVerb = sopsVerb(
  {
    name: "encrypt",
    summary: "encrypt a plaintext file for age recipients (as sops encrypt)",
    usage: "[--age R1,R2] [--in-place] [--encrypted-regex RE] [--unencrypted-suffix S] FILE",
    details:
      "Recipients: --age (age1… and ssh-ed25519 AAAA… keys, comma separated), else the first\n" +
      "creation rule of the nearest .sops.yaml whose path_regex matches FILE (its encrypt rules too).\n" +
      "Without --in-place or --output the encrypted file is printed to stdout.\n" +
      "Exit codes (as sops): 2 cannot read FILE, 111 no recipients, 203 FILE is already encrypted.\n" +
      'example: keyfleet encrypt --age age1…,"ssh-ed25519 AAAA… host" --in-place secrets/app.yaml',
    flags: {
      age: { type: "string", valueName: "R1,R2", description: "recipients, comma separated; default: from .sops.yaml" },
      "in-place": { type: "boolean", short: "i", description: "replace FILE with the encrypted file (atomically)" },
      output: { type: "string", valueName: "FILE", description: "write the encrypted file to FILE instead of stdout" },
      "input-type": INPUT_TYPE_FLAG,
      "output-type": {
        type: "string",
        valueName: "FORMAT",
        description: "format of the encrypted file; default: the input format",
      },
      "unencrypted-suffix": {
        type: "string",
        valueName: "S",
        description: "keys ending in S stay in clear (default _unencrypted)",
      },
      "encrypted-suffix": { type: "string", valueName: "S", description: "only keys ending in S are encrypted" },
      "unencrypted-regex": { type: "string", valueName: "RE", description: "keys matching RE stay in clear" },
      "encrypted-regex": { type: "string", valueName: "RE", description: "only keys matching RE are encrypted" },
      "unencrypted-comment-regex": {
        type: "string",
        valueName: "RE",
        description: "values after a comment matching RE stay in clear",
      },
      "encrypted-comment-regex": {
        type: "string",
        valueName: "RE",
        description: "only values after a comment matching RE are encrypted",
      },
      "mac-only-encrypted": { type: "boolean", description: "compute the mac over encrypted values only" },
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    const [file] = positionals("encrypt", args.positionals, 1, "FILE") as [string];
    // in place: one writer at a time, and the plaintext must still be what was read when it is replaced
    if (args.flags["in-place"] === true)
      return withWriteLocks("encrypt", io, [file], () => encryptFile(file, args, io));
    return encryptFile(file, args, io);
  },
);

/** Encrypts FILE to stdout, `--output` or (with `--in-place`, under the caller's lock) FILE itself. */
async function encryptFile(file: string, args: ParsedArgs, io: CliIo): Promise<number> {
  const format = resolveFormat("encrypt", args.flags["input-type"], file);
  const bytes = readInput(file);
  if (isSopsFile(bytes.toString("utf8"), format)) {
    throw new KeyfleetError("ALREADY_ENCRYPTED", `${file} is already encrypted with sops`, {
      file,
      hint: "use keyfleet set, updatekeys or rotate to change it, or decrypt it first",
    });
  }
  const { recipients, rules } = recipientsFor(file, args);
  const plain = format === "binary" ? new Uint8Array(bytes) : bytes.toString("utf8");
  // --output-type: the plaintext tree re-emitted in the output format (in memory), then encrypted
  const outFormat =
    typeof args.flags["output-type"] === "string"
      ? resolveFormat("encrypt", args.flags["output-type"], file, "output-type")
      : format;
  const input =
    outFormat === format ? plain : storeFor(outFormat).emitPlain(storeFor(format).parsePlain(plain, file).tree);
  const out = await encrypt(input, {
    format: outFormat,
    recipients,
    ...(rules ? { rules } : {}),
    file,
    stores: storeOptionsOf(file),
  });
  const dest = args.flags["in-place"] === true ? file : strFlag(args.flags.output);
  if (dest === undefined) io.stdout(out);
  else
    writeOutput(
      dest,
      out,
      existingMode(dest) ?? existingMode(file) ?? 0o600,
      dest === file ? textVersion(bytes) : undefined,
    );
  return 0;
}
