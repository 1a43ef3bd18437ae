/**
 * `keyfleet migrate PATH [--to secrets/NAME.env]`: encrypts an existing plaintext dotenv file.
 * The result is decrypted and compared with the original before anything else happens; only then
 * is it written, the plaintext removed and added to `.gitignore`. When git tracks the plaintext, or
 * ever did, the values are in the history: keyfleet says so and lists them by name (to rotate).
 */
import { spawnSync } from "node:child_process";
import { existsSync, unlinkSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import { KeyfleetError } from "../provider/errors";
import { textVersion } from "../provider/fs";
import { decrypt, encrypt, leafText, readMetadata, storeFor } from "../provider/sops";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { writeLogged } from "./audit-ahead";
import { sopsVerb } from "./exit-codes";
import { readInput, resolveFormat, strFlag, withWriteLocks, writeOutput } from "./files";
import { ensureIgnored } from "./gitignore";
import { explainingIdentities, loadIdentities } from "./identities";
import { ruleRecipients } from "./recipients";

/** `[key, value]` entries of a plaintext dotenv text (as sops's dotenv store reads it). */
export function plainDotenvEntries(text: string, file: string): [string, string][] {
  const { tree } = storeFor("dotenv").parsePlain(text, file);
  const out: [string, string][] = [];
  for (const it of tree[0]?.items ?? [])
    if (it.kind === "entry" && it.value.kind === "scalar")
      out.push([String(it.key), leafText(it.value.value as string)]);
  return out;
}

/** True when `text` already carries sops metadata. */
function isSops(text: string): boolean {
  try {
    readMetadata(text, "dotenv");
    return true;
  } catch {
    return false;
  }
}

/** Whether git tracks `file` now, or did in any commit. Undefined when git or a repository is missing. */
export function gitHistory(file: string): { tracked: boolean; ever: boolean } | undefined {
  const cwd = dirname(resolve(file));
  const name = basename(file);
  const run = (argv: string[]) =>
    spawnSync("git", argv, {
      cwd,
      encoding: "utf8",
      timeout: 15_000,
      env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" },
    });
  const inRepo = run(["rev-parse", "--is-inside-work-tree"]);
  if (inRepo.status !== 0) return undefined;
  const tracked = run(["ls-files", "--error-unmatch", "--", name]).status === 0;
  const log = run(["log", "--all", "--format=%H", "-n", "1", "--", name]);
  return { tracked, ever: tracked || (log.status === 0 && log.stdout.trim() !== "") };
}

/** The default target: `.env` → secrets/app.env, `.env.production` → secrets/production.env, `api.env` → secrets/api.env. */
export function defaultTarget(path: string): string {
  const b = basename(path);
  const stem =
    b
      .replace(/^\.env\.?/, "")
      .replace(/\.env$/, "")
      .replace(/[^A-Za-z0-9._-]+/g, "-") || "app";
  return `secrets/${stem}.env`;
}

/** The migrate verb. */
export const migrateVerb = sopsVerb(
  {
    name: "migrate",
    summary: "encrypt a plaintext .env into secrets/, verify it, remove the plaintext",
    usage: "PATH [--to secrets/NAME.env]",
    details:
      "Recipients come from the .sops.yaml rule of the target (keyfleet init writes one). The encrypted\n" +
      "file is decrypted and compared with PATH, value by value, before anything is written or\n" +
      "removed. Then PATH is removed and added to .gitignore. If git tracks PATH, or ever did, its\n" +
      "values are in the history: keyfleet lists them by name; rotate them.\n" +
      "example: keyfleet migrate .env",
    flags: {
      to: { type: "string", valueName: "FILE", description: "the encrypted file; default: secrets/<name>.env" },
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    if (args.positionals.length !== 1)
      throw new UsageError(
        "migrate",
        args.positionals.length === 0 ? "missing PATH of the plaintext .env" : "migrate one file per run",
      );
    const src = args.positionals[0] as string;
    const to = strFlag(args.flags.to) ?? defaultTarget(src);
    if (resolveFormat("migrate", undefined, to) !== "dotenv")
      throw new UsageError("migrate", `--to ${to} must be a .env file (the dotenv format keeps every line as it is)`);
    if (existsSync(to))
      throw new KeyfleetError("TARGET_EXISTS", `${to} already exists; nothing was changed`, {
        file: to,
        hint: "choose another file with --to, or add values to it with keyfleet add / set",
      });
    const text = readInput(src).toString("utf8");
    if (isSops(text))
      throw new KeyfleetError("ALREADY_ENCRYPTED", `${src} is already encrypted with sops`, {
        file: src,
        hint: "nothing to migrate",
      });
    const entries = plainDotenvEntries(text, src);
    if (entries.length === 0)
      throw new KeyfleetError("EMPTY_VALUE", `${src} holds no KEY=value line; nothing was changed`, { file: src });
    const { recipients, lookup } = ruleRecipients(to);
    const out = await encrypt(text, { format: "dotenv", recipients, rules: lookup.rule.rules, file: to });
    // verify the round trip before anything is written or removed
    await verifyRoundTrip(io, src, to, out, entries);
    const git = gitHistory(src);
    const change = {
      file: to,
      operation: "create" as const,
      added: recipients.map((r) => r.toString()),
      keysChanged: entries.map(([k]) => k),
    };
    // under the target's lock, and only if it still does not exist (compare-and-swap)
    await withWriteLocks("migrate", io, [to], () =>
      writeLogged([{ change, before: null, after: textVersion(out) }], () => writeOutput(to, out, 0o644, null)),
    );
    unlinkSync(src);
    const rel = relative(process.cwd(), resolve(src));
    const ignored = rel.startsWith("..")
      ? []
      : ensureIgnored(".gitignore", ["/" + rel], "keyfleet: plaintext migrated into secrets/");
    io.stderr(
      `${to}: encrypted ${entries.length} value(s) from ${src}, verified; removed ${src}${ignored.length ? " and added it to .gitignore" : ""}\n`,
    );
    if (git?.ever) {
      io.stderr(
        `keyfleet: warning: git ${git.tracked ? "tracks" : "tracked"} ${src}: these values are in the repository's history and must be rotated: ${entries.map(([k]) => k).join(", ")}\n` +
          (git.tracked
            ? `keyfleet: commit the removal (git rm --cached ${src} if it is still staged) and rotate with keyfleet set ${to} KEY\n`
            : ""),
      );
    }
    return 0;
  },
);

/**
 * Decrypts `out` (the encrypted form of `src`, bound for `to`) and compares it with `entries`.
 * @throws KeyfleetError `VERIFY_FAILED` when the keys or values differ in any way
 */
async function verifyRoundTrip(
  io: CliIo,
  src: string,
  to: string,
  out: string,
  entries: ReturnType<typeof plainDotenvEntries>,
): Promise<void> {
  const ids = await loadIdentities(io);
  const back = await explainingIdentities(to, ids, () =>
    decrypt(out, { format: "dotenv", identities: ids.identities, file: to, report: ids.report }),
  );
  const got = back.leaves.map((l) => [l.path.join("."), leafText(l.value)] as const);
  const same =
    got.length === entries.length && got.every(([k, v], i) => entries[i]?.[0] === k && entries[i]?.[1] === v);
  if (!same)
    throw new KeyfleetError(
      "VERIFY_FAILED",
      `the encrypted form of ${src} does not decrypt to the same values; nothing was changed`,
      { file: src, hint: "report this; the plaintext is untouched" },
    );
}
