/**
 * `keyfleet init`: sets up a project's secrets. Makes the operator key if there is none, writes
 * `.sops.yaml` with the operator as recipient, `secrets/`, a `fleet.yaml` skeleton and `.gitignore`
 * entries for plaintext env files, and installs the pre-commit gate when this build has one.
 * Idempotent: what exists is kept, and a second run says "nothing to do".
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { generateX25519 } from "../provider/age/parse";
import { writeFileAtomic } from "../provider/fs";
import { inventorySkeleton } from "../provider/fleet/inventory-edit";
import { UsageError, type CliIo, type ParsedArgs, type Verb } from "./args";
import { sopsVerb } from "./exit-codes";
import { ensureIgnored, PLAINTEXT_PATTERNS } from "./gitignore";
import { loadIdentities } from "./identities";
import { appendSecretFile, defaultKeysFile, keyFileEntry } from "./keygen";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The operator's recipient: the first X25519 identity found, else a new key in the sops keys.txt. */
async function operatorRecipient(io: CliIo, done: string[]): Promise<string> {
  const ids = await loadIdentities(io);
  const own = ids.identities.find((i) => i.kind === "x25519");
  if (own) return own.recipient().toString();
  const { identity, recipient } = generateX25519();
  const file = defaultKeysFile(io.env);
  appendSecretFile(file, keyFileEntry(identity, recipient));
  done.push(`created your operator key in ${file} (public key ${recipient}); back it up`);
  return recipient;
}

/** The init verb. */
export const initVerb = sopsVerb(
  {
    name: "init",
    summary: "set up a project: operator key, .sops.yaml, secrets/, fleet.yaml, .gitignore",
    usage: "[--name OPERATOR]",
    details:
      "Run it at the root of the repository. Existing files are kept as they are; a second run says\n" +
      '"nothing to do". The operator key goes to $XDG_CONFIG_HOME/sops/age/keys.txt (default\n' +
      "~/.config/sops/age/keys.txt) when none of your identities is an age key.\n" +
      "example: keyfleet init --name alice",
    flags: {
      name: {
        type: "string",
        valueName: "OPERATOR",
        description: "your name in fleet.yaml; default: $USER, else operator",
      },
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    if (args.positionals.length > 0)
      throw new UsageError("init", "init takes no arguments; run it in the project directory");
    const name =
      typeof args.flags.name === "string"
        ? args.flags.name
        : (io.env.USER ?? "operator").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "operator";
    if (!NAME.test(name)) throw new UsageError("init", `--name must match ${NAME.source}`);
    const done: string[] = [];
    const needKey = !existsSync(".sops.yaml") || !existsSync("fleet.yaml");
    const recipient = needKey ? await operatorRecipient(io, done) : "";
    if (!existsSync(".sops.yaml")) {
      writeFileAtomic(
        ".sops.yaml",
        `# keyfleet: files under secrets/ are encrypted to the operators (hosts are added by keyfleet push)\ncreation_rules:\n  - path_regex: ^secrets/\n    age: ${recipient}\n`,
        { mode: 0o644 },
      );
      done.push("wrote .sops.yaml (secrets/ encrypted to you)");
    }
    if (!existsSync("secrets")) {
      mkdirSync("secrets", { mode: 0o755 });
      writeFileSync("secrets/.gitkeep", "");
      done.push("created secrets/");
    }
    if (!existsSync("fleet.yaml")) {
      writeFileAtomic("fleet.yaml", inventorySkeleton(name, recipient), { mode: 0o644 });
      done.push(`wrote fleet.yaml (operator ${name})`);
    }
    const ignored = ensureIgnored(".gitignore", PLAINTEXT_PATTERNS, "keyfleet: plaintext env files stay out of git");
    if (ignored.length > 0) done.push(`.gitignore: added ${ignored.join(" ")}`);
    // the pre-commit gate, when this build has `keyfleet hook install`
    const verbs = (require("./main") as { VERBS: Record<string, Verb> }).VERBS;
    const hook = verbs["hook"];
    if (hook && existsSync(".git") && !existsSync(".git/hooks/pre-commit")) {
      const code = await hook.run({ flags: {}, positionals: ["install"], help: false }, io);
      if (code === 0) done.push("installed the pre-commit gate");
    }
    if (done.length === 0) {
      io.stderr("nothing to do: this project is already set up\n");
      return 0;
    }
    for (const d of done) io.stderr(d + "\n");
    io.stderr("next: keyfleet add NAME, then keyfleet provision user@host --env /etc/app/app.env:secrets/app.yaml\n");
    return 0;
  },
);
