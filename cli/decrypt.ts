/**
 * `keyfleet decrypt FILE`: prints the plaintext exactly as `sops decrypt` does, or one value or
 * subtree with `--extract '["a"]["b"]'`. Identities are discovered as sops does.
 */
import { decrypt } from "../provider/sops";
import { storeOptionsOf } from "./recipients";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { sopsVerb } from "./exit-codes";
import { positionals, readInputText, resolveFormat, strFlag, writeOutput } from "./files";
import { explainingIdentities, loadIdentities } from "./identities";
import { extractOutput, parseKeyPath } from "./keypath";
import { writeStdout } from "./output";

/** The decrypt verb. */
export const decryptVerb = sopsVerb(
  {
    name: "decrypt",
    summary: "print the plaintext of a sops file (as sops decrypt)",
    usage: "FILE [--extract PATH] [--output-type FORMAT] [--input-type FORMAT] [--ignore-mac] [--output FILE]",
    details:
      "FORMAT is yaml, json, dotenv, ini or binary (default: from the file's extension, as sops).\n" +
      "--extract prints one value raw (a string without newline) or a subtree in the output format.\n" +
      "Identities: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, SOPS_AGE_SSH_PRIVATE_KEY_FILE,\n" +
      "~/.config/sops/age/keys.txt, ~/.ssh/id_ed25519.\n" +
      "Exit codes (as sops): 2 cannot read the file, 51 mac mismatch, 91 bad --extract path,\n" +
      "128 none of your identities can decrypt the file.\n" +
      `example: keyfleet decrypt secrets/app.yaml --extract '["db"]["password"]'`,
    flags: {
      extract: {
        type: "string",
        valueName: "PATH",
        description: `print only this key, e.g. '["db"]["password"]' or db.password`,
      },
      "output-type": {
        type: "string",
        valueName: "FORMAT",
        description: "format of the output; default: the input format",
      },
      "input-type": { type: "string", valueName: "FORMAT", description: "format of FILE; default: from its extension" },
      "ignore-mac": { type: "boolean", description: "do not verify the mac (recovering a damaged file)" },
      output: {
        type: "string",
        valueName: "FILE",
        description: "write to FILE (mode 0600, atomically) instead of stdout",
      },
      "in-place": {
        type: "boolean",
        short: "i",
        description: "replace FILE with its plaintext (mode 0600, atomically), as sops decrypt -i",
      },
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    const [file] = positionals("decrypt", args.positionals, 1, "FILE") as [string];
    const format = resolveFormat("decrypt", args.flags["input-type"], file);
    const outFormat = resolveFormat("decrypt", args.flags["output-type"], file, "output-type");
    const outputType = typeof args.flags["output-type"] === "string" ? outFormat : format;
    const extract = strFlag(args.flags.extract);
    const path = extract === undefined ? undefined : parseKeyPath(extract);
    const text = readInputText(file);
    const ids = await loadIdentities(io);
    const d = await explainingIdentities(file, ids, () =>
      decrypt(text, {
        format,
        identities: ids.identities,
        file,
        ignoreMac: args.flags["ignore-mac"] === true,
        report: ids.report,
        stores: storeOptionsOf(file),
      }),
    );
    const out = path ? extractOutput(d.tree, path, outputType, file) : d.emit(outputType);
    if (args.flags["in-place"] === true && strFlag(args.flags.output) !== undefined)
      throw new UsageError("decrypt", "give -i or --output, not both");
    const dest = args.flags["in-place"] === true ? file : strFlag(args.flags.output);
    if (dest !== undefined) writeOutput(dest, out, 0o600);
    else writeStdout(io, out);
    return 0;
  },
);
