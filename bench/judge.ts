/**
 * How every benchmark speaks: each figure is compared with a peer or floor measured in the same run
 * on the same machine (the no-op provider, node:crypto's own X25519, the age CLI, scp), and the
 * ratio keyfleet / peer is judged against a bound. Absolute times are printed for reading, never
 * judged: a slower machine slows both sides alike.
 */

/** The median of `xs` (the upper middle for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** One judged figure. */
export interface Comparison {
  /** What was measured, e.g. "wrap a data key for 21 X25519 recipients". */
  what: string;
  /** keyfleet's median. */
  ours: number;
  /** The peer's or floor's median, measured in the same run. */
  peer: number;
  /** Who the peer is, e.g. "age CLI" or "no-op provider (floor)". */
  peerName: string;
  /** Unit of both figures, e.g. "ms". */
  unit: string;
  /**
   * Upper bound on keyfleet / peer. Below 1 against a peer means "faster than the peer by that
   * factor"; above 1 against a floor is the overhead allowed over doing nothing but the floor.
   */
  maxRatio: number;
}

/** True when the ratio is within its bound (a missing peer, NaN, is reported and not judged). */
export function withinBound(c: Comparison): boolean {
  const r = c.ours / c.peer;
  return Number.isNaN(r) || r <= c.maxRatio;
}

function fmt(x: number, unit: string): string {
  if (Number.isNaN(x)) return "n/a";
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3)} ${unit}`;
}

/**
 * Prints the comparisons as a table (what, keyfleet, peer, keyfleet/peer, bound, verdict) and
 * sets exit status 3 when a ratio is over its bound, so the runner can tell it from a crash.
 * @returns true when every ratio is within its bound
 */
export function report(rows: readonly Comparison[]): boolean {
  const table: string[][] = [["measure", "keyfleet", "peer / floor (same run)", "keyfleet/peer", "bound", "verdict"]];
  let ok = true;
  for (const c of rows) {
    const ratio = c.ours / c.peer;
    const good = withinBound(c);
    ok &&= good;
    table.push([
      c.what,
      fmt(c.ours, c.unit),
      `${fmt(c.peer, c.unit)} ${c.peerName}`,
      Number.isNaN(ratio) ? "n/a" : `${ratio.toFixed(2)}×`,
      `≤ ${c.maxRatio}×`,
      Number.isNaN(ratio) ? "no peer" : good ? "ok" : "OVER",
    ]);
  }
  const w = (table[0] as string[]).map((_, i) => Math.max(...table.map((r) => (r[i] ?? "").length)));
  for (const r of table)
    process.stdout.write(
      r
        .map((x, i) => x.padEnd(w[i] as number))
        .join(" | ")
        .trimEnd() + "\n",
    );
  if (!ok) process.exitCode = 3;
  return ok;
}
