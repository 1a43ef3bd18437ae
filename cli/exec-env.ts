/**
 * `keyfleet exec-env FILE [--only K1,K2] -- CMD ARGS…`: runs CMD (argv array, no shell) with the
 * file's top-level values added to its environment, as `sops exec-env` does, and exits with its
 * status. The values go nowhere else: not printed, not in argv, not in a file.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { KeyfleetError } from "../provider/errors";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { decrypt, leafText, readMetadata, type DecryptedLeaf, type SopsFormat } from "../provider/sops";
import { plainDotenvEntries } from "./migrate";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { sopsVerb } from "./exit-codes";
import { INPUT_TYPE_FLAG, readInputText, resolveFormat, strFlag } from "./files";
import { explainingIdentities, loadIdentities } from "./identities";

/** Names a POSIX shell accepts as environment variables. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Environment entries of a decrypted file: top-level scalars (ini: the keys of every section), in
 * file order. Names that are not valid variable names are reported in `skipped` (names only).
 */
export function envEntries(
  leaves: readonly DecryptedLeaf[],
  format: SopsFormat,
): { entries: [string, string][]; skipped: string[] } {
  const depth = format === "ini" ? 2 : 1;
  const entries: [string, string][] = [];
  const skipped: string[] = [];
  for (const l of leaves) {
    if (l.doc !== 0 || l.path.length !== depth) continue;
    const name = l.path[depth - 1] as string;
    if (!ENV_NAME.test(name)) skipped.push(name);
    else entries.push([name, leafText(l.value)]);
  }
  return { entries, skipped };
}

/**
 * The caller's variables that lead to the operator's age identities (the key itself, or a file or
 * command that yields it). The child never gets them: it is given the file's values, not the key
 * that opens every other file. `SOPS_AGE_RECIPIENTS` (public keys) passes through.
 */
export const AGE_KEY_VARIABLES: readonly string[] = [
  "SOPS_AGE_KEY",
  "SOPS_AGE_KEY_FILE",
  "SOPS_AGE_KEY_CMD",
  "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
];

/** `env` without {@link AGE_KEY_VARIABLES} (unless `keep`). */
export function childEnv(env: Record<string, string | undefined>, keep = false): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  if (!keep) for (const k of AGE_KEY_VARIABLES) delete out[k];
  return out;
}

/** The typed error for a command the kernel refused to start because argv + environment are too large. */
function tooBig(cmd: string, env: Record<string, string | undefined>, cause: unknown): KeyfleetError {
  const vars = Object.entries(env).filter(([, v]) => v !== undefined);
  const bytes = vars.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v as string) + 2, 0);
  const largest = vars.reduce<[string, number]>(
    (m, [k, v]) => (Buffer.byteLength(v as string) > m[1] ? [k, Buffer.byteLength(v as string)] : m),
    ["", 0],
  );
  return new KeyfleetError(
    "ENV_TOO_LARGE",
    `cannot run ${JSON.stringify(cmd)}: its environment is too large for the kernel (E2BIG: ${vars.length} variables, ${bytes} bytes; largest ${largest[0]}, ${largest[1]} bytes; Linux caps one variable at 128 KiB)`,
    {
      hint: "pass fewer keys with --only, or keep large values out of the environment (decrypt them to a file with keyfleet decrypt --extract --output)",
      cause,
    },
  );
}

/** Runs argv with env; resolves with its exit status (128 + signal number when killed). */
export function runChild(argv: readonly string[], env: Record<string, string | undefined>): Promise<number> {
  const [cmd, ...rest] = argv as [string, ...string[]];
  return new Promise<number>((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, rest, { env: env as NodeJS.ProcessEnv, stdio: "inherit", shell: false });
    } catch (e) {
      // spawn throws E2BIG synchronously when argv + environment exceed the kernel's limits
      if ((e as NodeJS.ErrnoException).code === "E2BIG") return reject(tooBig(cmd, env, e));
      return reject(
        new KeyfleetError(
          "EXEC_FAILED",
          `cannot run ${JSON.stringify(cmd)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          { hint: "check the command after --", cause: e },
        ),
      );
    }
    const forward = (sig: NodeJS.Signals) => () => void child.kill(sig);
    const onTerm = forward("SIGTERM");
    const onInt = forward("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
    const cleanup = () => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    };
    child.on("error", (e) => {
      cleanup();
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "E2BIG") return reject(tooBig(cmd, env, e));
      reject(
        new KeyfleetError(
          "EXEC_FAILED",
          `cannot run ${JSON.stringify(cmd)}: ${code === "ENOENT" ? "command not found" : (code ?? e.message)}`,
          {
            hint:
              code === "ENOENT" && /\s/.test(cmd)
                ? "keyfleet runs CMD without a shell: split it into words after -- (e.g. -- ./migrate --up), or use -- sh -c '…' for shell syntax"
                : "check the command after --",
            cause: e,
          },
        ),
      );
    });
    child.on("exit", (code, signal) => {
      cleanup();
      resolve(code ?? 128 + ((signal && (constants.signals as Record<string, number>)[signal]) || 0));
    });
  });
}

/** Most files taken from one directory of per-secret files. */
const MAX_DIR_FILES = 1000;

/** FILE arguments with each directory replaced by its regular, non-hidden files (sorted). */
export function expandSources(named: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of named) {
    let st;
    try {
      st = statSync(n);
    } catch {
      out.push(n); // readInputText reports it
      continue;
    }
    if (!st.isDirectory()) {
      out.push(n);
      continue;
    }
    const files = readdirSync(n, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith("."))
      .map((e) => join(n, e.name))
      .sort();
    if (files.length === 0)
      throw new KeyfleetError("IO_READ", `${n} holds no files`, {
        file: n,
        hint: "pass a directory of per-secret sops files (keyfleet add --per-secret)",
      });
    if (files.length > MAX_DIR_FILES)
      throw new KeyfleetError("IO_READ", `${n} holds more than ${MAX_DIR_FILES} files`, {
        file: n,
        hint: "pass the files you need",
      });
    out.push(...files);
  }
  return out;
}

/** True when a dotenv text carries sops metadata. */
function hasSopsMetadata(text: string): boolean {
  try {
    readMetadata(text, "dotenv");
    return true;
  } catch {
    return false;
  }
}

/** The exec-env verb. */
export const execEnvVerb = sopsVerb(
  {
    name: "exec-env",
    summary: "run a command with a sops file's values in its environment (as sops exec-env)",
    usage: "FILE|DIR… [--only K1,K2] -- CMD [ARGS…]",
    details:
      "Top-level values (dotenv: every key; ini: the keys of every section) become environment\n" +
      "variables of CMD only; keyfleet prints none of them. CMD runs without a shell; keyfleet exits\n" +
      "with its status. CMD does not get your age identity variables (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE,\n" +
      "SOPS_AGE_KEY_CMD, SOPS_AGE_SSH_PRIVATE_KEY_FILE) unless --keep-age-env.\n" +
      "with its status. Several FILEs, or a DIR of per-secret files (keyfleet add --per-secret), give\n" +
      "the union of their values (a name set twice is refused); --only gives exactly those values.\n" +
      "A plaintext dotenv file is used as it is, with a warning to run keyfleet migrate.\n" +
      "example: keyfleet exec-env secrets/app.env --only DB_PASSWORD -- ./migrate --up",
    flags: {
      only: { type: "string", valueName: "K1,K2", description: "pass only these keys (error if one is missing)" },
      "keep-age-env": {
        type: "boolean",
        description:
          "also pass SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD and SOPS_AGE_SSH_PRIVATE_KEY_FILE to CMD (default: removed)",
      },
      "input-type": INPUT_TYPE_FLAG,
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    // FILE… -- CMD, or the sops form FILE CMD…
    const dd = args.afterDashDash;
    const named = dd === undefined ? args.positionals.slice(0, 1) : args.positionals.slice(0, dd);
    const cmd = dd === undefined ? args.positionals.slice(1) : args.positionals.slice(dd);
    if (named.length === 0) throw new UsageError("exec-env", "missing FILE");
    if (!cmd.length) throw new UsageError("exec-env", "missing the command: put it after --");
    const files = expandSources(named);
    const read = await readEntries(files, args.flags["input-type"], io);
    const from = read.from;
    let { entries, skipped } = read;
    const file = files.length === 1 ? (files[0] as string) : files.join(", ");
    const only = strFlag(args.flags.only);
    if (only !== undefined) {
      const want = only
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const missing = want.filter((k) => !entries.some(([n]) => n === k));
      if (missing.length)
        throw new KeyfleetError("KEY_NOT_FOUND", `${file}: --only names keys the file lacks: ${missing.join(", ")}`, {
          file: files[0] as string,
          hint: "list the keys with keyfleet audit",
        });
      entries = entries.filter(([n]) => want.includes(n));
      skipped = skipped.filter((n) => want.includes(n));
    }
    if (skipped.length)
      io.stderr(`keyfleet: skipped keys that are not environment variable names: ${skipped.join(", ")}\n`);
    const env = childEnv(io.env, args.flags["keep-age-env"] === true);
    for (const [k, v] of entries) {
      if (v.includes("\0"))
        throw new KeyfleetError(
          "BAD_VALUE",
          `${from.get(k) ?? file}: the value of ${k} contains a NUL byte, which an environment variable cannot hold`,
          { file: from.get(k) ?? file },
        );
      env[k] = v;
    }
    return runChild(cmd, env);
  },
);

/**
 * The env entries of every file, in order: sops files decrypted (identities loaded once), plaintext
 * dotenv files read with a warning.
 * @returns the entries, the keys skipped as not being env names, and which file set each key
 * @throws KeyfleetError `DUPLICATE_KEY` when two files set the same key
 */
async function readEntries(
  files: string[],
  inputType: ParsedArgs["flags"][string],
  io: CliIo,
): Promise<{ entries: [string, string][]; skipped: string[]; from: Map<string, string> }> {
  let ids: Awaited<ReturnType<typeof loadIdentities>> | undefined;
  let entries: [string, string][] = [];
  let skipped: string[] = [];
  const from = new Map<string, string>();
  for (const file of files) {
    const format = resolveFormat("exec-env", inputType, file);
    const text = readInputText(file);
    let got: { entries: [string, string][]; skipped: string[] };
    if (format === "dotenv" && !hasSopsMetadata(text)) {
      io.stderr(`keyfleet: warning: ${file} is not encrypted; run keyfleet migrate ${file} to encrypt it\n`);
      got = { entries: plainDotenvEntries(text, file), skipped: [] };
    } else {
      const l = (ids ??= await loadIdentities(io));
      const d = await explainingIdentities(file, l, () =>
        decrypt(text, { format, identities: l.identities, file, report: l.report }),
      );
      got = envEntries(d.leaves, format);
    }
    for (const [k] of got.entries) {
      const prev = from.get(k);
      if (prev !== undefined)
        throw new KeyfleetError("DUPLICATE_KEY", `${k} is set by both ${prev} and ${file}`, {
          file,
          hint: "pass only one of the files, or use --only",
        });
      from.set(k, file);
    }
    entries = entries.concat(got.entries);
    skipped = skipped.concat(got.skipped);
  }
  return { entries, skipped, from };
}
