/**
 * Running the user's editor for `keyfleet edit`: which editor (`$SOPS_EDITOR`, `$VISUAL`, `$EDITOR`,
 * `vi`), its words split as a POSIX shell splits them (quotes and backslashes, no expansion), and a
 * run without a shell that hands the terminal over (stdio inherited, same process group).
 *
 * Signals while the editor runs, as git does for its editor: SIGINT and SIGQUIT typed at the terminal
 * reach the editor too (vi uses Ctrl-C itself), so keyfleet ignores them and looks at how the editor
 * ended. SIGTERM and SIGHUP are passed on to the editor; the caller is told, removes its temp files
 * and exits.
 */
import { spawn } from "node:child_process";
import { KeyfleetError } from "../provider/errors";

/** The editor variable names, in the order they are tried. */
export const EDITOR_VARS = ["SOPS_EDITOR", "VISUAL", "EDITOR"] as const;

/**
 * Splits a command line into words like a POSIX shell, without any expansion: whitespace separates
 * words, '…' is literal, "…" keeps its content with \\ \" \$ \` and \<newline> escaped, and a
 * backslash outside quotes takes the next character literally.
 * @throws KeyfleetError `EDITOR` on an unterminated quote or escape, naming `where`
 */
export function splitWords(text: string, where: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let i = 0;
  const bad = (what: string) =>
    new KeyfleetError("EDITOR", `${where}: ${what}`, {
      hint: `fix the quoting in ${where}, e.g. EDITOR="code --wait" or EDITOR="'/path with space/ed' -n"`,
    });
  while (i < text.length) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw bad("unterminated single quote");
      cur += text.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw bad("unterminated double quote");
        const d = text[i] as string;
        if (d === '"') break;
        if (d === "\\" && i + 1 < text.length && '\\"$`\n'.includes(text[i + 1] as string)) {
          if (text[i + 1] !== "\n") cur += text[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      i++;
      continue;
    }
    if (c === "\\") {
      if (i + 1 >= text.length) throw bad("trailing backslash");
      if (text[i + 1] !== "\n") cur += text[i + 1];
      else if (cur === "") inWord = false;
      i += 2;
      continue;
    }
    cur += c;
    i++;
  }
  if (inWord) words.push(cur);
  return words;
}

/** The editor command: words of the first non-empty of $SOPS_EDITOR, $VISUAL, $EDITOR, else `vi`. */
export function editorCommand(env: Record<string, string | undefined>): { argv: string[]; from: string } {
  for (const name of EDITOR_VARS) {
    const v = env[name];
    if (v === undefined || v.trim() === "") continue;
    const argv = splitWords(v, `$${name}`);
    if (argv.length) return { argv, from: `$${name}` };
  }
  return { argv: ["vi"], from: "the default (vi)" };
}

/** How an editor run ended. */
export type EditorEnd =
  | { kind: "exit"; code: number }
  | { kind: "signal"; signal: NodeJS.Signals }
  /** keyfleet itself got SIGTERM or SIGHUP; the editor was sent the same signal. */
  | { kind: "interrupted"; signal: NodeJS.Signals }
  /** The editor could not be started (not found, not executable). */
  | { kind: "spawn-error"; message: string };

/** Signals keyfleet passes on to the editor and then stops for. */
const FORWARD: NodeJS.Signals[] = ["SIGTERM", "SIGHUP"];
/** Signals typed at the terminal: the editor gets them itself, keyfleet ignores them meanwhile. */
const IGNORE: NodeJS.Signals[] = ["SIGINT", "SIGQUIT"];

/**
 * Runs `argv` plus `file` without a shell, with the terminal (stdin, stdout, stderr) inherited, and
 * waits for it. Never throws for the editor's own failures: they come back as an {@link EditorEnd}.
 */
export function runEditor(
  argv: readonly string[],
  file: string,
  env: Record<string, string | undefined>,
): Promise<EditorEnd> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    let forwarded: NodeJS.Signals | undefined;
    const handlers = new Map<NodeJS.Signals, () => void>();
    const done = (end: EditorEnd) => {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
      resolve(forwarded && end.kind !== "spawn-error" ? { kind: "interrupted", signal: forwarded } : end);
    };
    // the editor never needs the private key; the other SOPS_AGE_* variables name files or commands
    const childEnv = { ...env };
    delete childEnv["SOPS_AGE_KEY"];
    const child = spawn(cmd, [...args, file], { stdio: "inherit", env: childEnv as NodeJS.ProcessEnv });
    for (const sig of IGNORE) handlers.set(sig, () => undefined);
    for (const sig of FORWARD) {
      handlers.set(sig, () => {
        forwarded ??= sig;
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill(sig);
      });
    }
    for (const [sig, h] of handlers) process.on(sig, h);
    child.once("error", (e) =>
      done({ kind: "spawn-error", message: (e as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : e.message }),
    );
    child.once("exit", (code, signal) => done(signal ? { kind: "signal", signal } : { kind: "exit", code: code ?? 0 }));
  });
}
