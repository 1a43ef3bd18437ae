/**
 * What the fleet verbs print: the plan (who gains or loses access per file, which hosts get a new
 * or changed env file), one progress line per host, and the summary table. Names, paths and
 * statuses only, never a value.
 */
import type { ChangePlan, FileResult, HostResult } from "../provider/fleet/reconcile";
import { exposureMessage } from "../provider/access/exposure";

/** Exit status of a push, provision or deprovision in which some host failed (sysexits EX_TEMPFAIL). */
export const EXIT_SOME_HOSTS_FAILED = 75;

/** The plan as lines. */
export function planLines(p: ChangePlan): string[] {
  const out: string[] = [];
  for (const f of p.files) {
    if (!f.exists) out.push(`  ${f.path}: new file for ${f.gains.join(", ")}`);
    else if (f.gains.length + f.loses.length > 0) {
      const parts = [...f.gains.map((g) => `+ ${g}`), ...f.loses.map((l) => `- ${l}`)];
      out.push(
        `  ${f.path}: ${parts.join(", ")}${f.loses.length > 0 ? " (loses access: data key rotated, values re-encrypted)" : " (same data key, new age entries only)"}`,
      );
    }
  }
  for (const h of p.hosts) {
    if (h.error !== undefined) {
      out.push(`  ${h.host}: cannot plan: ${h.error}`);
      continue;
    }
    for (const e of h.envs)
      if (e.status !== "unchanged")
        out.push(
          `  ${h.host} ${e.path}: ${e.status === "new" ? "new env file" : e.status === "update" ? "env file changes" : "restart pending from an earlier run"}`,
        );
  }
  return out;
}

/** One progress line for a finished host. */
export function progressLine(r: HostResult, done: number, total: number): string {
  const at = `[${done}/${total}] ${r.host}:`;
  if (r.error !== undefined) return `${at} failed: ${r.error}`;
  const written = r.envs.filter((e) => e.written).map((e) => e.path);
  const restarted = r.envs.filter((e) => e.restarted).length;
  if (written.length === 0 && restarted === 0) return `${at} up to date`;
  return `${at} ${written.length > 0 ? `wrote ${written.join(", ")}` : "no file changed"}${restarted > 0 ? `, restart ran` : ""}`;
}

/** The summary table: host, status, env files written / total, restarts. */
export function summaryTable(results: readonly HostResult[]): string[] {
  const rows = results.map((r) => [
    r.host,
    r.error !== undefined ? "FAILED" : r.envs.some((e) => e.written || e.restarted) ? "changed" : "unchanged",
    `${r.envs.filter((e) => e.written).length}/${r.envs.length}`,
    String(r.envs.filter((e) => e.restarted).length),
  ]);
  const head = ["HOST", "STATUS", "WRITTEN", "RESTARTS"];
  const w = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, k) => c.padEnd(w[k] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/** Lines for the files a run changed, with the exposure of recipients that lost access. */
export function fileLines(results: readonly FileResult[]): string[] {
  const out: string[] = [];
  for (const f of results) {
    if (!f.changed) continue;
    out.push(`${f.path}: updated`);
    const e = exposureMessage(f.path, f.exposure);
    if (e) out.push(e);
  }
  return out;
}
