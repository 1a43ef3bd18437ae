/**
 * `keyfleet keygen`: writes a new X25519 age identity in age-keygen's file format, appending to
 * `~/.config/sops/age/keys.txt` (or `$XDG_CONFIG_HOME/sops/age/keys.txt`) by default, and prints
 * the public key on stderr as age-keygen does.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { generateX25519 } from "../provider/age/parse";
import { KeyfleetError } from "../provider/errors";
import type { CliIo, ParsedArgs, Verb } from "./args";
import { exitCodeFor } from "./exit-codes";
import { appendPrivateKey } from "./private-key-file";

/** The default identity file sops reads: `$XDG_CONFIG_HOME/sops/age/keys.txt` or `~/.config/…`. */
export function defaultKeysFile(env: Record<string, string | undefined>): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "sops", "age", "keys.txt");
}

/** The text age-keygen writes for one identity. */
export function keyFileEntry(identity: string, recipient: string, now = new Date()): string {
  return `# created: ${now.toISOString().replace(/\.\d{3}Z$/, "Z")}\n# public key: ${recipient}\n${identity}\n`;
}

/**
 * Appends `text` to `path` (mode 0600 when created, parent dirs 0700), adding a newline first if the
 * file lacks one; refuses a symlink or a file others can read (see private-key-file.ts).
 * @throws KeyfleetError `KEY_WRITE`
 */
export function appendSecretFile(path: string, text: string): void {
  appendPrivateKey(path, text);
}

/** The keygen verb. */
export const keygenVerb: Verb = {
  spec: {
    name: "keygen",
    summary: "generate a new age X25519 identity",
    usage: "[-o FILE|-]",
    details:
      "Appends the identity to $XDG_CONFIG_HOME/sops/age/keys.txt (default ~/.config/sops/age/keys.txt),\n" +
      "creating it with mode 0600 (directories 0700); never overwrites. `-o -` prints it to stdout.\n" +
      'The public key is printed to stderr as "Public key: age1…".',
    flags: {
      output: {
        type: "string",
        short: "o",
        valueName: "FILE",
        description: "write to FILE (appending) or - for stdout; default: the sops keys.txt",
      },
    },
  },
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    if (args.positionals.length)
      throw new KeyfleetError("USAGE", `unexpected argument ${args.positionals[0]}`, {
        hint: "see keyfleet keygen --help",
      });
    const { identity, recipient } = generateX25519();
    const entry = keyFileEntry(identity, recipient);
    const out = typeof args.flags.output === "string" ? args.flags.output : defaultKeysFile(io.env);
    if (out === "-") io.stdout(entry);
    else {
      try {
        appendSecretFile(out, entry);
      } catch (e) {
        if (!(e instanceof KeyfleetError)) throw e;
        io.stderr(`keyfleet: ${e.message}\n`);
        return exitCodeFor(e.code);
      }
      io.stderr(`Wrote identity to ${out}\n`);
    }
    io.stderr(`Public key: ${recipient}\n`);
    return 0;
  },
};
