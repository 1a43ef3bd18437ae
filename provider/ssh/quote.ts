/**
 * POSIX shell quoting for the command line of an SSH exec request. The remote login shell parses
 * the string, so every argument is single-quoted (`'` becomes `'\''`).
 */

/** Quote one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw new TypeError("shell argument contains a NUL byte");
  return "'" + arg.replace(/'/g, `'\\''`) + "'";
}

/** Join argv into one POSIX shell command line, each argument quoted. */
export function shellJoin(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError("argv is empty");
  return argv.map(shellQuote).join(" ");
}
