/**
 * `keyfleet ssh-to-age`: converts SSH Ed25519 keys to age keys, printing exactly what
 * Mic92/ssh-to-age prints: one `age1…` line per ssh-ed25519 public key line (other key types are
 * skipped with a note on stderr), or one `AGE-SECRET-KEY-1…` line with `--private-key`.
 */
import { readFileSync } from "node:fs";
import { KeyParseError, UnsupportedKeyError } from "../provider/age/errors";
import { sshToAgeIdentity, sshToAgeRecipient } from "../provider/age/parse";
import { KeyfleetError } from "../provider/errors";
import type { CliIo, ParsedArgs, Verb } from "./args";
import { existingMode, writeOutput } from "./files";
import { replacePrivateKey } from "./private-key-file";
import { exitCodeFor } from "./exit-codes";

/**
 * Converts public key text (authorized_keys, known_hosts or ssh-keyscan output) to age recipients,
 * one per ssh-ed25519 line. `skipped` gets a note per line of another key type. Blank lines and
 * `#` comment lines are ignored.
 * @throws KeyParseError naming the line number of a malformed line
 */
export function convertPublicKeys(text: string, skipped: (note: string) => void = () => undefined): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const l = (lines[n] as string).replace(/\r$/, "");
    if (l.trim() === "" || l.trimStart().startsWith("#")) continue;
    try {
      out.push(sshToAgeRecipient(l));
    } catch (e) {
      if (e instanceof UnsupportedKeyError)
        skipped(`skipped key: got ${e.keyType} key type but: only ed25519 keys are supported`);
      else if (e instanceof KeyParseError) throw new KeyParseError(e.message, { where: `line ${n + 1}`, cause: e });
      else throw e;
    }
  }
  return out;
}

/** The ssh-to-age verb. */
export const sshToAgeVerb: Verb = {
  spec: {
    name: "ssh-to-age",
    summary: "convert ssh-ed25519 keys to age keys (as Mic92/ssh-to-age)",
    usage: "[--private-key] [-i FILE] [-o FILE]",
    details:
      "Public keys: one age1… line per ssh-ed25519 line of the input (authorized_keys, known_hosts or\n" +
      "ssh-keyscan form); other key types are skipped with a note on stderr.\n" +
      "--private-key: an unencrypted OpenSSH ed25519 private key to AGE-SECRET-KEY-1… (written 0600 with -o).",
    flags: {
      "private-key": { type: "boolean", description: "convert a private key instead of public keys" },
      input: { type: "string", short: "i", valueName: "FILE", description: "input path; default - (stdin)" },
      output: { type: "string", short: "o", valueName: "FILE", description: "output path; default - (stdout)" },
    },
  },
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    if (args.positionals.length)
      throw new KeyfleetError("USAGE", `unexpected argument ${args.positionals[0]}`, {
        hint: "see keyfleet ssh-to-age --help",
      });
    const inPath = typeof args.flags.input === "string" ? args.flags.input : "-";
    const outPath = typeof args.flags.output === "string" ? args.flags.output : "-";
    let text: string;
    try {
      text = inPath === "-" ? (await io.readStdin()).toString("utf8") : readFileSync(inPath, "utf8");
    } catch (e) {
      throw new KeyfleetError(
        "IO_READ",
        `cannot read ${inPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { file: inPath, cause: e },
      );
    }
    const priv = args.flags["private-key"] === true;
    const lines = priv ? [sshToAgeIdentity(text)] : convertPublicKeys(text, (n) => io.stderr(n + "\n"));
    const body = lines.map((l) => l + "\n").join("");
    if (outPath === "-") io.stdout(body);
    // a private key: atomic, 0600, never through a symlink or into a file others can read
    else if (priv) {
      try {
        replacePrivateKey(outPath, body);
      } catch (e) {
        if (!(e instanceof KeyfleetError) || e.code !== "KEY_WRITE") throw e;
        io.stderr(`keyfleet: ${e.message}\n`);
        return exitCodeFor(e.code);
      }
    }
    // public keys: atomic; an existing file keeps its mode
    else writeOutput(outPath, body, existingMode(outPath) ?? 0o644);
    return 0;
  },
};
