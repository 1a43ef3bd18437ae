/**
 * HostEnv's side of the SSH transport: one SshPool per provider process (so a run with several
 * HostEnvs on a host reuses one pinned connection; connect and operation retries are the SSH layer's
 * one policy, provider/ssh/retry.ts), and the restart step with its pending marker.
 *
 * The restart marker (`.<file>.kfrestart` next to the env file) is created before a changed file is
 * written and removed after the restart command succeeded. If the restart fails or the connection
 * drops in between, the marker stays and the next apply runs the restart again even though the
 * content is already current.
 */
import { concurrencyFromEnv, SshPool, type SshSession, type SshTarget } from "../ssh";
import { KeyfleetError, isKeyfleetError } from "../errors";
import type { HostEnvConnection } from "./host-env-inputs";

/** Idle time after which the pooled connections are closed (the provider process may live on). */
const IDLE_CLOSE_MS = 30_000;

let pool: SshPool | undefined;
let idle: NodeJS.Timeout | undefined;
let inFlight = 0;

/**
 * The process-wide pool: at most `KEYFLEET_CONCURRENCY` hosts (default 16) worked on at once, however
 * many HostEnvs the engine runs in parallel (the CLI sets it from `--concurrency` instead).
 * @throws SshError when `KEYFLEET_CONCURRENCY` is not an integer from 1 to 1024
 */
export function hostEnvPool(): SshPool {
  pool ??= new SshPool({ concurrency: concurrencyFromEnv() });
  return pool;
}

/** The SshTarget of a connection. */
export function targetOf(c: HostEnvConnection): SshTarget {
  const t: SshTarget = { host: c.host, port: c.port ?? 22, user: c.user, hostKey: c.hostKey };
  if (c.privateKey) t.privateKey = c.privateKey;
  if (c.agent) t.agent = c.agent;
  return t;
}

/**
 * Runs `fn` with a session on the pinned host. The pool connects with the SSH layer's retry policy
 * (transport failures only; host-key mismatches and authentication failures are not retried).
 */
export async function withHost<T>(c: HostEnvConnection, fn: (s: SshSession) => Promise<T>): Promise<T> {
  if (idle) {
    clearTimeout(idle);
    idle = undefined;
  }
  inFlight++;
  try {
    return await fn(await hostEnvPool().session(targetOf(c)));
  } finally {
    inFlight--;
    if (inFlight === 0) {
      idle = setTimeout(() => {
        const p = pool;
        pool = undefined;
        void p?.closeAll();
      }, IDLE_CLOSE_MS);
      idle.unref();
    }
  }
}

/** Closes the pooled connection of `c` (a CLI push is done with that host); the next use reconnects. */
export async function releaseHost(c: HostEnvConnection): Promise<void> {
  await pool?.close(targetOf(c));
}

/** Path of the restart-pending marker of `path`. */
export function markerPath(path: string): string {
  const i = path.lastIndexOf("/");
  return `${path.slice(0, i + 1)}.${path.slice(i + 1)}.kfrestart`;
}

/** The restart step configured for a HostEnv, as argv. */
export function restartArgv(restartUnits: string[], onChange: string): string[] | undefined {
  if (restartUnits.length > 0) return ["systemctl", "restart", "--", ...restartUnits];
  if (onChange !== "") return ["sh", "-c", onChange];
  return undefined;
}

/** What a failing restart error may show of the command's output. */
export interface RestartOutputOptions {
  /**
   * Put the command's stderr tail (lines sharing a 6-character run with a value withheld) into the
   * error. Default false: the output may contain values in a form no scrubber recognises (pieces,
   * spaced, reversed, encoded), and errors reach Pulumi's output and CI logs.
   */
  showOutput?: boolean;
  /** `user@host` and port, for the hint on how to see the output on the host. */
  login?: { user: string; host: string; port: number };
}

/**
 * Raised when the restart command fails. By default it carries the exit code and how to see the
 * output on the host, never the output; with `showRestartOutput` the scrubbed stderr tail.
 */
export class RestartError extends KeyfleetError {
  /** The command's exit code. */
  readonly exitCode: number;
  constructor(
    where: string,
    exitCode: number,
    argv: readonly string[],
    o: RestartOutputOptions & { tail?: string } = {},
  ) {
    const shown = o.showOutput === true;
    const detail = shown
      ? o.tail
        ? `: ${o.tail}`
        : ""
      : "; its output is not shown here because it may contain values";
    const units = argv[0] === "systemctl" ? argv.slice(3) : [];
    const ssh = o.login ? `ssh -p ${o.login.port} ${o.login.user}@${o.login.host}` : "ssh to the host";
    const see =
      units.length > 0
        ? `see the output on the host: ${ssh}, then journalctl -n 50 ${units.map((u) => `-u ${u}`).join(" ")} (or systemctl status ${units.join(" ")})`
        : `see the output on the host: ${ssh} and run the onChange command there as that user`;
    super("HOSTENV_RESTART", `restart command after writing ${where} failed with exit code ${exitCode}${detail}`, {
      file: where,
      hint: `the new file is in place; ${see}; fix the command or the service and run up again (the restart is retried until it succeeds)${shown ? "" : ". showRestartOutput: true puts the output into this error, where it may leak values"}`,
    });
    this.exitCode = exitCode;
  }
}

/** Length of the windows compared by {@link scrubbedTail}. */
const WINDOW = 6;
/** Above this much secret text the tail is withheld whole (bounds the window set). */
const MAX_SCRUB_TEXT = 1024 * 1024;

/**
 * The last lines of stderr, each line that shares any 6-character run with a secret value or with a
 * line of the rendered file replaced by a placeholder (a command may print the file, in its quoted
 * form). Over-redaction is the safe side: a line naming a key may be withheld too.
 */
export function scrubbedTail(stderr: Buffer, secrets: readonly string[]): string {
  const lines = stderr
    .toString("utf8")
    .trim()
    .split("\n")
    .slice(-8)
    .map((l) => (l.length > 200 ? l.slice(0, 200) + "…" : l));
  if (lines.length === 1 && lines[0] === "") return "";
  const total = secrets.reduce((n, v) => n + v.length, 0);
  if (total > MAX_SCRUB_TEXT) return "(stderr withheld: it may contain a value)";
  const windows = new Set<string>();
  const short: string[] = [];
  for (const v of secrets) {
    for (const part of v.split("\n")) {
      if (part.length === 0) continue;
      if (part.length < WINDOW) {
        short.push(part);
        continue;
      }
      for (let i = 0; i + WINDOW <= part.length; i++) windows.add(part.slice(i, i + WINDOW));
    }
  }
  const leaks = (line: string): boolean => {
    for (let i = 0; i + WINDOW <= line.length; i++) if (windows.has(line.slice(i, i + WINDOW))) return true;
    return short.some((p) => p.trim().length >= 3 && line.includes(p));
  };
  return lines.map((l) => (leaks(l) ? "[line withheld: it may contain a value]" : l)).join(" | ");
}

/**
 * Creates the restart-pending marker. The SSH layer checks the directory (StrictModes) and never
 * opens or truncates what is already there: a planted symlink or FIFO is replaced, a directory refused.
 */
export async function setMarker(s: SshSession, where: string, path: string): Promise<void> {
  try {
    await s.mark(markerPath(path));
  } catch (e) {
    if (isKeyfleetError(e)) throw e; // already names the marker, the directory and the fix
    throw new KeyfleetError("HOSTENV_RESTART", `cannot create the restart marker next to ${where}`, {
      file: where,
      hint: "the login user must be able to write in the file's directory",
      cause: e,
    });
  }
}

/** True when a restart is pending from an earlier apply (a regular file at the marker path). */
export async function markerExists(s: SshSession, path: string): Promise<boolean> {
  return (await s.stat(markerPath(path))).exists;
}

/**
 * Runs the restart command, then removes the marker.
 * @throws RestartError with the exit code and how to see the output; the output itself only with `o.showOutput`
 */
export async function runRestart(
  s: SshSession,
  where: string,
  path: string,
  argv: string[],
  values: readonly string[],
  o: RestartOutputOptions = {},
): Promise<void> {
  const r = await s.exec(argv);
  if (r.code !== 0) {
    const e: RestartOutputOptions & { tail?: string } = { ...o };
    if (o.showOutput === true) e.tail = scrubbedTail(r.stderr, values);
    throw new RestartError(where, r.code, argv, e);
  }
  await s.remove(markerPath(path));
}

/** Closes the pool now (tests, and the end of a CLI run). */
export async function closeHostEnvPool(): Promise<void> {
  if (idle) {
    clearTimeout(idle);
    idle = undefined;
  }
  const p = pool;
  pool = undefined;
  await p?.closeAll();
}
