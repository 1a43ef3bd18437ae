/**
 * File plumbing shared by the sops verbs: read an input file with a typed error, pick its format
 * (extension or `--input-type`/`--output-type`), and write results atomically.
 */
import { readFileSync, statSync } from "node:fs";
import { describeHolder, withFileLocks, writeFileAtomic } from "../provider/fs";
import { formatFromPath, MAX_SOPS_FILE_BYTES, SOPS_FORMATS, type SopsFormat } from "../provider/sops";
import { KeyfleetError } from "../provider/errors";
import { UsageError, type CliIo, type FlagSpec } from "./args";

/** The formats a `--input-type`/`--output-type` flag accepts. */
export const FORMATS: readonly SopsFormat[] = SOPS_FORMATS;

/** The `--input-type` flag of a verb that reads one sops file. */
export const INPUT_TYPE_FLAG: FlagSpec = {
  type: "string",
  valueName: "FORMAT",
  description: "yaml, json, dotenv, ini or binary; default: from the extension",
};

/** Upper bound on an input file; sops files are small and this keeps a mistake from eating memory. */
export const MAX_INPUT_BYTES = MAX_SOPS_FILE_BYTES;

/**
 * Reads a whole file.
 * @throws KeyfleetError `IO_READ` naming the file (missing, a directory, unreadable, too large)
 */
export function readInput(path: string): Buffer {
  try {
    const st = statSync(path);
    if (st.isDirectory())
      throw new KeyfleetError("IO_READ", `${path} is a directory`, { file: path, hint: "pass a file" });
    if (st.size > MAX_INPUT_BYTES)
      throw new KeyfleetError("IO_READ", `${path} is larger than ${MAX_INPUT_BYTES} bytes`, {
        file: path,
        hint: "sops files are small; check the path",
      });
    return readFileSync(path);
  } catch (e) {
    if (e instanceof KeyfleetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "file not found" : code === "EACCES" ? "permission denied" : (code ?? (e as Error).message);
    throw new KeyfleetError("IO_READ", `cannot read ${path}: ${why}`, {
      file: path,
      hint: code === "ENOENT" ? "check the path" : "check the file's permissions",
      cause: e,
    });
  }
}

/** Reads a file as UTF-8 text (sops files, including the binary store's JSON envelope). */
export function readInputText(path: string): string {
  return readInput(path).toString("utf8");
}

/**
 * The format from a `--input-type`/`--output-type` value, or from the path's extension as sops does.
 * @throws UsageError for an unknown format name
 */
export function resolveFormat(
  verb: string,
  flag: string | boolean | undefined,
  path: string,
  flagName = "input-type",
): SopsFormat {
  if (typeof flag !== "string") return formatFromPath(path);
  if (!(FORMATS as readonly string[]).includes(flag))
    throw new UsageError(verb, `--${flagName} must be one of ${FORMATS.join(", ")}, got ${JSON.stringify(flag)}`);
  return flag as SopsFormat;
}

/** Mode of an existing file (kept on rewrite), or undefined. */
export function existingMode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/**
 * Writes `data` atomically (temp file in the same directory, fsync, rename), keeping the file's mode.
 * New files get 0600 unless `mode` is given. With `expect` (the version read, see provider/fs
 * `textVersion`) the file must still be that version right before the rename (compare-and-swap).
 * @throws KeyfleetError `WRITE_FAILED` naming the file; `FILE_CHANGED` when `expect` does not match
 */
export function writeOutput(path: string, data: string | Uint8Array, mode?: number, expect?: string | null): void {
  writeFileAtomic(path, data, {
    mode: mode ?? existingMode(path) ?? 0o600,
    ...(expect !== undefined ? { expect } : {}),
  });
}

/**
 * Runs `fn` holding the lock of every file in `files` (one writer at a time per sops file). While
 * another command holds one, says once on stderr who it waits for; gives up after the lock timeout.
 * @throws LockTimeoutError (`LOCK_TIMEOUT`) naming the holder's pid and command
 */
export function withWriteLocks<T>(verb: string, io: CliIo, files: readonly string[], fn: () => Promise<T>): Promise<T> {
  return withFileLocks(files, fn, {
    command: `keyfleet ${verb}`,
    onWait: (h, lockFile) =>
      io.stderr(`keyfleet: waiting for ${h ? describeHolder(h) : "another writer"} to release ${lockFile}\n`),
  });
}

/** A string flag's value, or undefined. */
export function strFlag(v: string | boolean | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Requires exactly `n` positionals (or at least one when `n` is "some"). @throws UsageError */
export function positionals(verb: string, got: string[], n: number | "some", what: string): string[] {
  if (n === "some" ? got.length === 0 : got.length !== n) {
    throw new UsageError(
      verb,
      got.length === 0 || (n !== "some" && got.length < n)
        ? `missing ${what}`
        : `unexpected argument ${JSON.stringify(got[typeof n === "number" ? n : 0])}`,
    );
  }
  return got;
}
