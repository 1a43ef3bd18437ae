/**
 * A progress line on stderr for long batches: silent for the first `afterMs` (2 s by default), then
 * "<verb>: <done>/<total> <unit>" at most every `everyMs`. On a terminal the line is rewritten in place
 * (carriage return) and ended by done(); elsewhere each update is its own line. Counts only, never names.
 * `KEYFLEET_PROGRESS_AFTER_MS` in the environment changes the quiet period (e.g. 0 in tests).
 */

/** Options of {@link progressLine}; the clock is injectable for tests. */
export interface ProgressOptions {
  /** Quiet period before the first line (default `KEYFLEET_PROGRESS_AFTER_MS` from the environment, else 2000 ms). */
  afterMs?: number;
  /** Least time between two lines (default 250 ms on a terminal, 2000 ms elsewhere). */
  everyMs?: number;
  /** Whether stderr is a terminal (default: process.stderr.isTTY). */
  tty?: boolean;
  /** Milliseconds clock (default performance.now). */
  now?: () => number;
}

/** A reporter: update(done, total) as work finishes, done() at the end (ends a terminal line). */
export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

/** A progress reporter writing through `write` (e.g. the CLI's stderr). */
export function progressLine(
  verb: string,
  unit: string,
  write: (s: string) => void,
  o: ProgressOptions = {},
): Progress {
  const now = o.now ?? (() => performance.now());
  const tty = o.tty ?? process.stderr.isTTY === true;
  const envAfter = Number(process.env["KEYFLEET_PROGRESS_AFTER_MS"] ?? Number.NaN);
  const afterMs = o.afterMs ?? (Number.isFinite(envAfter) && envAfter >= 0 ? envAfter : 2000);
  const everyMs = o.everyMs ?? (tty ? 250 : 2000);
  const start = now();
  let last = Number.NEGATIVE_INFINITY;
  let shown = false;
  return {
    update(done, total) {
      const t = now();
      if (t - start < afterMs || (t - last < everyMs && done < total)) return;
      last = t;
      const text = `${verb}: ${done}/${total} ${unit}`;
      write(tty ? `\r${text}` : `${text}\n`);
      shown = true;
    },
    done() {
      if (shown && tty) write("\n");
      shown = false;
    },
  };
}
