/**
 * Which SecretFile resource owns a file, so that deleting one resource never removes a file that
 * another resource has taken over since.
 *
 * A forced replacement (`pulumi up --replace`, `replaceOnChanges`) creates the new resource first,
 * which adopts the same path, and deletes the old one afterwards. With `deleteFileOnDestroy: true`
 * the old one's delete would remove the file the new one now manages. So each create (and an
 * update that moves the file, or that has no token yet) writes a fresh random token to
 * `owners/<sha256 of the absolute path>` beside the resource's audit log (by default
 * `.keyfleet/owners/` in the project) and keeps it in its outputs (`owner`). Delete removes the file only while the record holds its own token, or when there is no
 * record at all (state and files from before records existed). Anything else in the record's place
 * (another token, a link, a FIFO, a large file) means "not ours": the file stays. The token is
 * random, not a secret.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { readBoundedFile, writeFileAtomic } from "../fs";

/** The records' directory, beside the audit log. */
export const OWNERS_DIR = "owners";
/** A record is 32 hex characters and a newline; anything larger is not one of ours. */
const MAX_RECORD = 256;

/**
 * The record of the file at absolute path `abs`, for resources whose audit log is `auditLog`
 * (relative to the project directory, the provider's working directory, or absolute).
 */
export function ownerRecordPath(abs: string, auditLog: string): string {
  return resolve(process.cwd(), dirname(auditLog), OWNERS_DIR, createHash("sha256").update(abs).digest("hex"));
}

/**
 * Claims the file at `abs` for a new token, replacing any earlier claim.
 * @returns the token, to keep in the resource's outputs
 * @throws FsWriteError when the record cannot be written (nothing else is changed)
 */
export function claimFile(abs: string, auditLog: string): string {
  const token = randomBytes(16).toString("hex");
  const record = ownerRecordPath(abs, auditLog);
  mkdirSync(dirname(record), { recursive: true, mode: 0o755 });
  writeFileAtomic(record, `${token}\n`, { mode: 0o644 });
  return token;
}

/**
 * The token in the record of `abs`: undefined when there is none; `null` when something else is
 * there (a link, a FIFO, a directory, an oversized file), which no token matches. Never blocks.
 */
export function ownerOf(abs: string, auditLog: string): string | null | undefined {
  const bytes = readBoundedFile(ownerRecordPath(abs, auditLog), { maxBytes: MAX_RECORD });
  return bytes ? bytes.toString("latin1").trim() : bytes;
}

/** Whether the resource holding `token` may remove the file at `abs`: the record is its own, or there is none. */
export function mayRemove(abs: string, auditLog: string, token: string | undefined): boolean {
  const record = ownerOf(abs, auditLog);
  return record === undefined || (token !== undefined && record === token);
}

/** Removes the record of `abs` when it holds `token` (a resource that goes away gives up its claim). */
export function releaseFile(abs: string, auditLog: string, token: string | undefined): void {
  if (token !== undefined && ownerOf(abs, auditLog) === token) rmSync(ownerRecordPath(abs, auditLog), { force: true });
}
