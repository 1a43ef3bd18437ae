/**
 * `keyfleet keygen`: writes a new X25519 age identity in age-keygen's file format, appending to
 * `~/.config/sops/age/keys.txt` (or `$XDG_CONFIG_HOME/sops/age/keys.txt`) by default, and prints
 * the public key on stderr as age-keygen does.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { generateX25519 } from "../provider/age/parse";
import { KeyfleetError } from "../provider/errors";
import type { CliIo, ParsedArgs, Verb } from "./args";

/** The default identity file sops reads: `$XDG_CONFIG_HOME/sops/age/keys.txt` or `~/.config/…`. */
export function defaultKeysFile(env: Record<string, string | undefined>): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "sops", "age", "keys.txt");
}

/** The text age-keygen writes for one identity. */
export function keyFileEntry(identity: string, recipient: string, now = new Date()): string {
  return `# created: ${now.toISOString().replace(/\.\d{3}Z$/, "Z")}\n# public key: ${recipient}\n${identity}\n`;
}

/** Appends `text` to `path` (mode 0600 when created, parent dirs 0700), adding a newline first if the file lacks one. */
export function appendSecretFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, "a+", 0o600);
  } catch (e) {
    throw new KeyfleetError("WRITE_FAILED", `cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path, hint: "choose another file with -o", cause: e });
  }
  try {
    const st = fstatSync(fd);
    let prefix = "";
    if (st.size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, st.size - 1);
      if (last[0] !== 10) prefix = "\n";
    }
    writeSync(fd, prefix + text);
  } finally {
    closeSync(fd);
  }
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
      "The public key is printed to stderr as \"Public key: age1…\".",
    flags: { output: { type: "string", short: "o", valueName: "FILE", description: "write to FILE (appending) or - for stdout; default: the sops keys.txt" } },
  },
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    if (args.positionals.length) throw new KeyfleetError("USAGE", `unexpected argument ${args.positionals[0]}`, { hint: "see keyfleet keygen --help" });
    const { identity, recipient } = generateX25519();
    const entry = keyFileEntry(identity, recipient);
    const out = typeof args.flags.output === "string" ? args.flags.output : defaultKeysFile(io.env);
    if (out === "-") io.stdout(entry);
    else {
      appendSecretFile(out, entry);
      io.stderr(`Wrote identity to ${out}\n`);
    }
    io.stderr(`Public key: ${recipient}\n`);
    return 0;
  },
};
