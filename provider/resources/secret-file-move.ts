/**
 * A SecretFile whose `path` changes: the whole file moves, every leaf with it.
 *
 * A path change is an in-place Update, never a replacement: Create gets no olds, and a
 * delete-before-replace would remove the old file before anything read it, so only an Update can
 * carry the values keyfleet does not manage (set with `keyfleet set`, `sops edit`). The move copies
 * the file's bytes to the new path (same data key, same ciphertexts, same MAC: no identity needed),
 * reads the copy back and checks it is the same file, and only then removes the old file (when
 * `deleteFileOnDestroy` is true; otherwise the old file stays, as destroy would leave it). The
 * recipient and value changes of the same edit are applied to the new file afterwards, by reconcile.
 *
 * Every state a failure can leave converges on the next up: the engine keeps the old path in state,
 * and {@link moveFile} resumes from what it finds (old only: copy; both, identical: remove the old;
 * new only: nothing to move). Both files' locks are held throughout, and the audit line is written
 * ahead of the copy (provider/access/audit-wal.ts).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { KeyfleetError } from "../errors";
import { formatFromPath, listKeys, type SopsFormat } from "../sops";
import { complete, recoverPending, writeAhead } from "../access/audit-wal";
import { auditEntry, keyName } from "../access";
import { assertUnchanged, textVersion, withFileLocks, writeFileAtomic } from "../fs";
import { isUnknown } from "./inputs";
import { auditLogOf, formatOf, valuePath, type SecretFileInputs } from "./secret-file-inputs";

/** The move could not be done without risking a value; nothing was changed. */
export class MoveConflictError extends KeyfleetError {
  constructor(from: string, to: string, why: string, hint: string) {
    super("WRITE_FAILED", `cannot move ${from} to ${to}: ${why}; nothing was changed`, { file: to, hint });
  }
}

/** Test hook: called after each step of a move; throw from it to inject a failure there. Empty in production. */
export const moveFaults: { after?: (step: "write-ahead" | "copy" | "verify" | "audit" | "remove-old") => void } = {};

function abs(p: string): string {
  return resolve(process.cwd(), p);
}

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/** True when `to` names another file than `from` (`./a.yaml` and `a.yaml` are one file). */
export function isMove(from: unknown, to: unknown): boolean {
  if (from === to) return false; // the common case, without resolving either path
  return typeof from === "string" && from !== "" && typeof to === "string" && !isUnknown(to) && abs(from) !== abs(to);
}

/** The leaves of a sops text as `name:encrypted`, for comparing two copies after parsing. */
function leafShape(text: string, format: SopsFormat, file: string): string {
  return listKeys(text, format, file)
    .map((k) => `${keyName(k.path)}:${k.encrypted}`)
    .join("\n");
}

/**
 * Reads the copy back and checks it is the old file: same bytes, and it parses to the same leaves
 * (a source that does not parse is carried byte for byte; reconcile then reports why it is bad).
 */
function verifyCopy(from: string, to: string, source: string, format: SopsFormat): void {
  const copy = readText(abs(to));
  const same = copy !== undefined && textVersion(copy) === textVersion(source);
  let want: string | undefined;
  try {
    want = leafShape(source, format, from);
  } catch {
    want = undefined;
  }
  let shape = want === undefined;
  try {
    shape ||= same && leafShape(copy, format, to) === want;
  } catch {
    shape = false;
  }
  if (!same || !shape) {
    throw new MoveConflictError(
      from,
      to,
      `the copy at ${to} does not read back as ${from}`,
      `${from} was kept; check the disk and run up again`,
    );
  }
}

/**
 * Moves the file at `fromPath` (the path recorded in state) to `to.path`, holding both locks:
 * copies the bytes when the new path is free, verifies the copy, then removes the old file if
 * `to.deleteFileOnDestroy`. No move when the old file is gone (moved already, or by the user) or
 * when the format changes (a sops file cannot be converted: the new file is created from the
 * managed values and the old one is kept). Returns what it did.
 * @throws MoveConflictError when both paths hold different files and the old one would be removed
 */
export async function moveFile(
  fromPath: string,
  fromFormat: SopsFormat,
  to: SecretFileInputs,
): Promise<"moved" | "copied" | "resumed" | "none"> {
  const [a, b] = [abs(fromPath), abs(to.path)];
  // the new file's lock lives beside it: create its missing directories (0755, as git does) first
  if (existsSync(a) && !existsSync(dirname(b))) {
    try {
      mkdirSync(dirname(b), { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new KeyfleetError("WRITE_FAILED", `cannot create the directory of ${to.path}: ${(e as Error).message}`, {
        file: to.path,
        hint: "check that no part of the path is a file and that the parent directory is writable",
        cause: e,
      });
    }
  }
  return withFileLocks(
    [a, b],
    () => {
      const source = readText(a);
      if (source === undefined || fromFormat !== formatOf(to)) return "none";
      const removeOld = to.deleteFileOnDestroy === true;
      const log = auditLogOf(to);
      const target = readText(b);
      recoverPending(log, to.path, target === undefined ? null : textVersion(target));
      let did: "moved" | "copied" | "resumed";
      if (target === undefined) {
        const entry = auditEntry(to.path, "move", "provider", {
          movedFrom: fromPath,
          ...(removeOld ? {} : { oldKept: true }),
        });
        const wal = writeAhead(log, { file: to.path, before: null, after: textVersion(source), entries: [entry] });
        moveFaults.after?.("write-ahead");
        writeFileAtomic(b, source, { mode: 0o644, expect: null });
        moveFaults.after?.("copy");
        verifyCopy(fromPath, to.path, source, fromFormat);
        moveFaults.after?.("verify");
        complete(log, wal);
        moveFaults.after?.("audit");
        did = removeOld ? "moved" : "copied";
      } else if (textVersion(target) === textVersion(source)) {
        // an earlier run copied the file and stopped before removing the old one (or the user copied it)
        verifyCopy(fromPath, to.path, source, fromFormat);
        did = "resumed";
      } else if (removeOld) {
        throw new MoveConflictError(
          fromPath,
          to.path,
          `${to.path} already exists with other content, and removing ${fromPath} could lose values only it holds`,
          `compare the two (keyfleet decrypt), keep the file you want at ${to.path} and remove the other, or set path back to ${fromPath}`,
        );
      } else {
        return "none"; // the old file stays; reconcile adopts the file at the new path, as create would
      }
      if (removeOld) {
        assertUnchanged(a, textVersion(source)); // never remove a file someone wrote since the copy
        rmSync(a, { force: true });
        moveFaults.after?.("remove-old");
      }
      return did;
    },
    { command: `pulumi SecretFile ${to.path}` },
  );
}

/** The previous inputs' format (explicit, else from the old path's extension); undefined when unknown. */
function oldFormat(olds: Record<string, unknown>): SopsFormat | undefined {
  const f = olds["format"];
  if (typeof f === "string") return f as SopsFormat;
  try {
    return formatFromPath(String(olds["path"]));
  } catch {
    return undefined;
  }
}

/** Up to 20 names, then a count: a plan line stays readable. */
function names(ks: readonly string[]): string {
  return ks.length <= 20 ? ks.join(", ") : `${ks.slice(0, 20).join(", ")} and ${ks.length - 20} more`;
}

/**
 * What a path change will do, in words, for the plan (check adds it to the inputs as `move`, so
 * preview shows it): which file moves where, that keys not in `values` go with it, and whether the
 * old file is removed. Reads key names from the old file's text only (nothing is decrypted).
 * Undefined when `path` does not change.
 */
export function moveNote(olds: Record<string, unknown>, news: Record<string, unknown>): string | undefined {
  const [from, to] = [olds["path"], news["path"]];
  if (!isMove(from, to)) return undefined;
  const [f, t] = [String(from), String(to)];
  let toFormat: SopsFormat | undefined;
  try {
    toFormat =
      typeof news["format"] === "string" && !isUnknown(news["format"])
        ? (news["format"] as SopsFormat)
        : formatFromPath(t);
  } catch {
    toFormat = undefined;
  }
  const fromFormat = oldFormat(olds);
  const text = readText(abs(f));
  if (text === undefined) return `${f} is gone: ${t} is adopted if it exists, else created from values`;
  if (fromFormat === undefined || toFormat !== fromFormat) {
    return `${t} is a new ${toFormat ?? "sops"} file with the managed values only: ${f} (${fromFormat ?? "unknown format"}) cannot be converted and stays`;
  }
  if (readText(abs(t)) !== undefined && textVersion(readText(abs(t)) as string) !== textVersion(text)) {
    return `${t} exists with other content: up adopts it and keeps ${f} when deleteFileOnDestroy is false, and refuses when it is true`;
  }
  let keys: string[];
  try {
    keys = listKeys(text, fromFormat, f).map((k) => keyName(k.path));
  } catch {
    return `${f} moves to ${t} byte for byte (it does not parse here; up verifies it)`;
  }
  const values = news["values"];
  const managed = new Set(
    typeof values === "object" && values !== null && !isUnknown(values)
      ? Object.keys(values).map((k) => keyName(valuePath(k, fromFormat)))
      : [],
  );
  const unmanaged = keys.filter((k) => !managed.has(k));
  const dd = news["deleteFileOnDestroy"];
  const old = isUnknown(dd)
    ? `${f} is removed once the copy verifies if deleteFileOnDestroy is true`
    : dd === true
      ? `${f} is removed once the copy verifies`
      : `${f} stays (deleteFileOnDestroy is false)`;
  const carried = unmanaged.length === 0 ? "" : `; not in values, carried as they are: ${names(unmanaged)}`;
  return `${f} moves to ${t} with all ${keys.length} keys, same data key and ciphertexts${carried}; ${old}`;
}
