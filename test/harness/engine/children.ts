/**
 * The stand-in's child processes (the program runner and the dynamic-provider server), tracked so
 * that none outlives the process that started it: when that process exits, even through
 * `process.exit` after Ctrl-C, every child still running is killed by pid (SIGKILL).
 */
import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();
let hooked = false;

function killLive(): void {
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

/**
 * Tracks `child` until it exits; returns it. The first call installs one `process.on("exit")`
 * listener that kills whatever is still tracked (an exit listener may only do synchronous work,
 * and sending a signal is synchronous).
 */
export function trackChild<C extends ChildProcess>(child: C): C {
  if (!hooked) {
    process.once("exit", killLive);
    hooked = true;
  }
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** How many tracked children are still running (for tests). */
export function liveChildren(): number {
  return [...live].filter((c) => c.exitCode === null && c.signalCode === null).length;
}
