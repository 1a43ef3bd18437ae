#!/usr/bin/env node
/**
 * The `keyfleet` command: a dispatcher over a verb table. A new verb is one line in `VERBS`.
 * Exit codes: 0 success, 1 a keyfleet error (printed as `keyfleet: <message>`, no stack),
 * 2 a usage error, 70 an unexpected internal error.
 */
import { isKeyfleetError } from "../provider/errors";
import { helpText, parseArgs, type CliIo, type Verb } from "./args";
import { keygenVerb } from "./keygen";
import { sshToAgeVerb } from "./ssh-to-age";
import { decryptVerb } from "./decrypt";
import { encryptVerb } from "./encrypt";
import { setVerb } from "./set";
import { updatekeysVerb } from "./updatekeys";
import { rotateVerb } from "./rotate";
import { execEnvVerb } from "./exec-env";
import { auditVerb } from "./audit";
import { editVerb } from "./edit";
import { existsSync } from "node:fs";
import { scanVerb } from "./scan";
import { hookVerb } from "./hook";
import { logVerb } from "./log";
import { exposedVerb } from "./exposed";
import { initVerb } from "./init";
import { addVerb } from "./add";
import { migrateVerb } from "./migrate";
import { provisionVerb } from "./provision";
import { deprovisionVerb } from "./deprovision";
import { pushVerb } from "./push";
import { preDispatch } from "./sops-style";

/** Every verb, by name. */
export const VERBS: Record<string, Verb> = {
  keygen: keygenVerb,
  "ssh-to-age": sshToAgeVerb,
  decrypt: decryptVerb,
  encrypt: encryptVerb,
  set: setVerb,
  updatekeys: updatekeysVerb,
  rotate: rotateVerb,
  "exec-env": execEnvVerb,
  audit: auditVerb,
  edit: editVerb,
  scan: scanVerb,
  hook: hookVerb,
  log: logVerb,
  exposed: exposedVerb,
  init: initVerb,
  add: addVerb,
  migrate: migrateVerb,
  provision: provisionVerb,
  deprovision: deprovisionVerb,
  push: pushVerb,
};

/** `keyfleet FILE` means `keyfleet edit FILE` (as `sops FILE`): a word that is no verb but a path. */
function bareFile(word: string): boolean {
  return !word.startsWith("-") && (word.includes("/") || word.includes(".") || existsSync(word));
}

/** The top-level `keyfleet --help` text. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(VERBS).map((k) => k.length));
  const rows = Object.entries(VERBS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.spec.summary}`);
  return ["usage: keyfleet <verb> [flags]", "", "verbs:", ...rows, "", "keyfleet FILE is keyfleet edit FILE.", "keyfleet <verb> --help describes each verb."].join("\n") + "\n";
}

/** Runs the CLI with `argv` (words after the program name); returns the exit code. Never throws. */
export async function main(argvIn: readonly string[], io: CliIo): Promise<number> {
  const pre = preDispatch(argvIn);
  if (pre.version !== undefined) {
    io.stdout(pre.version);
    return 0;
  }
  const [name, ...rest] = pre.argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const verb = VERBS[name] ?? (bareFile(name) ? editVerb : undefined);
  if (verb === editVerb && name !== "edit") rest.unshift(name);
  if (!verb) {
    io.stderr(`keyfleet: unknown verb ${JSON.stringify(name)}; see keyfleet --help\n`);
    return 2;
  }
  try {
    const args = parseArgs(rest, verb.spec);
    if (args.help) {
      io.stdout(helpText(verb.spec));
      return 0;
    }
    return await verb.run(args, io);
  } catch (e) {
    if (isKeyfleetError(e)) {
      io.stderr(`keyfleet: ${e.message}\n`);
      return e.code === "USAGE" ? 2 : 1;
    }
    io.stderr(`keyfleet: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 70;
  }
}

/** The real process's IO. */
export function processIo(): CliIo {
  return {
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
  };
}

if (require.main === module) {
  void main(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
