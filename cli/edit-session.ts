/**
 * One editing session of `keyfleet edit`, independent of sops: the plaintext goes to a 0600 file in
 * a private 0700 directory (provider/fs/private-temp), the editor runs on it, and the result is
 * parsed by the caller. Text that does not parse goes back to the editor with the error as comment
 * lines at the top; quitting without a change then gives up. The directory is removed on every way
 * out: success, error, editor failure, SIGINT/SIGTERM/SIGHUP (a SIGKILL leaves it to the next run's
 * sweep).
 */
import { chmodSync, readFileSync, renameSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, extname, join } from "node:path";
import { isKeyfleetError, KeyfleetError } from "../provider/errors";
import { makePrivateDir, type PrivateDir } from "../provider/fs/private-temp";
import { runEditor, type EditorEnd } from "./editor";

/** Start of every comment line keyfleet puts above text that did not parse. */
export const HEADER_MARK = "# keyfleet edit: ";

/** Most editor rounds in one session (each failed parse is one round). */
const MAX_ROUNDS = 50;

/** Signal numbers for the 128+n exit status. */
const SIGNO: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/** The editor failed or was stopped; nothing was written. */
export class EditorError extends KeyfleetError {
  /** The exit status keyfleet should end with. */
  readonly exitCode: number | undefined;
  constructor(code: "EDITOR" | "EDITOR_FAILED" | "INTERRUPTED", message: string, hint: string, exitCode?: number) {
    super(code, message, { hint });
    this.exitCode = exitCode;
  }
}

/** What the caller's parser says about the edited bytes. */
export type ParseOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** How a session ended. */
export type SessionResult<T> =
  | { kind: "unchanged" }
  /** A parse error was shown and the user quit without a change. */
  | { kind: "abandoned" }
  /** `save` ran and returned `result`. */
  | { kind: "saved"; result: T }
  /** `save` refused (the file changed meanwhile); the edited text was kept at `kept` (0600). */
  | { kind: "conflict"; kept: string };

/** The comment header that explains a parse error and how to give up. */
export function errorHeader(error: string): string {
  const lines = [
    "the text below does not parse, so nothing was saved yet:",
    ...error
      .split("\n")
      .slice(0, 8)
      .map((l) => "  " + l.slice(0, 300)),
    "fix it and save to try again (these lines are removed), or quit without saving to give up:",
    "the file then stays as it was",
  ];
  return lines.map((l) => HEADER_MARK + l).join("\n") + "\n";
}

/** Removes a leading keyfleet error header (whole lines starting with {@link HEADER_MARK}). */
export function stripHeader(bytes: Buffer): Buffer {
  let off = 0;
  const mark = Buffer.from(HEADER_MARK);
  while (bytes.subarray(off, off + mark.length).equals(mark)) {
    const nl = bytes.indexOf(10, off);
    if (nl < 0) return Buffer.alloc(0);
    off = nl + 1;
  }
  return bytes.subarray(off);
}

function endError(end: Exclude<EditorEnd, { kind: "exit"; code: 0 }>, editor: string): EditorError {
  if (end.kind === "spawn-error")
    return new EditorError(
      "EDITOR",
      `cannot run the editor ${JSON.stringify(editor)}: ${end.message}; nothing was written`,
      "set $SOPS_EDITOR, $VISUAL or $EDITOR to an installed editor, e.g. EDITOR=nano",
    );
  if (end.kind === "interrupted")
    return new EditorError(
      "INTERRUPTED",
      `stopped by ${end.signal} while the editor was open; nothing was written`,
      "run keyfleet edit again",
      128 + (SIGNO[end.signal] ?? 0),
    );
  if (end.kind === "signal")
    return new EditorError(
      "EDITOR_FAILED",
      `the editor was killed by ${end.signal}; nothing was written`,
      "run keyfleet edit again",
    );
  return new EditorError(
    "EDITOR_FAILED",
    `the editor exited with status ${end.code}; nothing was written`,
    "save and quit normally (in vi :wq) to keep the edit, or quit with an error (:cq) to discard it",
  );
}

/**
 * Signal handlers for the parts of a session outside the editor (decrypting, encrypting, writing):
 * SIGINT/SIGTERM/SIGHUP remove the private directory and end the process with 128+n. While the
 * editor runs, runEditor's own handlers decide and these stand aside.
 */
function guardSignals(dir: PrivateDir, state: { inEditor: boolean }): () => void {
  const hs: [NodeJS.Signals, () => void][] = (["SIGINT", "SIGTERM", "SIGHUP"] as NodeJS.Signals[]).map((sig) => [
    sig,
    () => {
      if (state.inEditor) return;
      dir.remove();
      process.stderr.write(`keyfleet: stopped by ${sig}; nothing was written\n`);
      process.exit(128 + (SIGNO[sig] ?? 0));
    },
  ]);
  for (const [s, h] of hs) process.on(s, h);
  return () => hs.forEach(([s, h]) => process.removeListener(s, h));
}

/**
 * Saves a parsed edit. When the save throws, or finds the target changed meanwhile, the edited file
 * is kept (moved out of the private directory `dirPath`, which is removed afterwards, mode 0600).
 * @throws KeyfleetError with the save's code (else `WRITE_FAILED`), naming where the text is kept
 */
async function saveOrKeep<T, R>(
  save: (value: T, bytes: Buffer) => Promise<{ ok: true; result: R } | { ok: false }>,
  value: T,
  body: Buffer,
  path: string,
  dirPath: string,
  name: string,
): Promise<SessionResult<R>> {
  const keep = (): string => {
    // keep what was typed: out of the private directory (which is removed below), still 0600
    const kept = join(
      dirname(dirPath),
      `keyfleet-edit-kept.${process.pid}.${randomBytes(6).toString("hex")}${extname(name)}`,
    );
    renameSync(path, kept);
    chmodSync(kept, 0o600); // an editor that wrote a new file may have left another mode
    return kept;
  };
  let saved: { ok: true; result: R } | { ok: false };
  try {
    saved = await save(value, body);
  } catch (e) {
    // lock timeout, unwritable directory, …: nothing was written, and nothing typed is lost
    const kept = keep();
    throw new KeyfleetError(
      isKeyfleetError(e) ? e.code : "WRITE_FAILED",
      `${e instanceof Error ? e.message : String(e)}; your edited text (plaintext) is kept in ${kept} (mode 0600)`,
      { cause: e },
    );
  }
  if (saved.ok) return { kind: "saved", result: saved.result };
  return { kind: "conflict", kept: keep() };
}

/**
 * Runs the editor on `initial` until the result parses, is left unchanged, or is given up.
 * `name` is the temp file's name hint (its extension helps editors pick a syntax). `parse` must not
 * throw for bad input; its error text is shown only inside the temp file, never printed.
 * `parse` may also prepare the write (encrypt): whatever it rejects goes back to the editor.
 * `save` runs inside the session (signals still guarded); when it refuses or throws, the edited temp
 * is moved out of the private directory to a 0600 file of its own beside it, and its path is
 * returned (or named in the error).
 * @throws EditorError when the editor cannot start, fails, or the session is interrupted
 */
export async function editSession<T, R>(o: {
  initial: Uint8Array;
  name: string;
  editor: string[];
  env: Record<string, string | undefined>;
  parse: (bytes: Buffer) => ParseOutcome<T> | Promise<ParseOutcome<T>>;
  /** Writes the result; `ok: false` when the target changed meanwhile (nothing written). */
  save: (value: T, bytes: Buffer) => Promise<{ ok: true; result: R } | { ok: false }>;
  /** False for binary: no header is ever added. */
  text: boolean;
  /** Told once when no memory filesystem was found and the plaintext goes to a disk directory. */
  onDisk?: (dir: string) => void;
}): Promise<SessionResult<R>> {
  const dir = makePrivateDir("edit", o.env);
  if (!dir.memory) o.onDisk?.(dir.path);
  const state = { inEditor: false };
  const unguard = guardSignals(dir, state);
  try {
    // the directory is private: the file keeps the target's name (editors pick a syntax from it)
    const fileName =
      o.name
        .replace(/[^A-Za-z0-9._-]/g, "_")
        .replace(/^\.+/, "_")
        .slice(-60) || "edit";
    let path = dir.write(fileName, o.initial);
    let shown = Buffer.from(o.initial);
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      state.inEditor = true;
      const end = await runEditor(o.editor, path, o.env);
      state.inEditor = false;
      if (!(end.kind === "exit" && end.code === 0)) throw endError(end, o.editor.join(" "));
      const edited = readFileSync(path);
      if (edited.equals(shown)) return round === 1 ? { kind: "unchanged" } : { kind: "abandoned" };
      const body = o.text ? stripHeader(edited) : edited;
      const p = await o.parse(body);
      if (p.ok) return await saveOrKeep(o.save, p.value, body, path, dir.path, o.name);
      shown = Buffer.concat([Buffer.from(errorHeader(p.error)), body]);
      // a new file each round: the editor may have replaced the old one (write to a new name, rename)
      path = dir.write(`${round}-${fileName}`, shown);
    }
    throw new EditorError(
      "EDITOR_FAILED",
      `the edit still did not parse after ${MAX_ROUNDS} rounds; nothing was written`,
      "run keyfleet edit again",
    );
  } finally {
    unguard();
    dir.remove();
  }
}
