/**
 * Ctrl-C during `npm run demo`: the demo (dist/examples/demo/main.js) gets SIGINT in the middle of
 * the flow, while its hosts run. It must stop every host it started, leave no process working in its
 * project, remove its temporary project (which holds the operator's private key, the hosts' client
 * keys and the engine state) and each host's directory, and exit 130.
 */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";

const root = resolve(__dirname, "../..");

/** Processes (`pid cmdline`) whose command line mentions `text` or whose cwd is under `dir`. */
function processesUsing(text: string[], dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ");
      const cwd = readlinkSync(`/proc/${d}/cwd`);
      if (text.some((t) => cmd.includes(t)) || cwd.startsWith(dir)) out.push(`${d} ${cmd.slice(0, 200)} (cwd ${cwd})`);
    } catch {
      // gone while we looked, or not ours to read
    }
  }
  return out;
}

describe("npm run demo, interrupted", () => {
  it("on SIGINT stops its hosts, removes its temporary project and host directories, exits 130", async () => {
    const child = spawn(process.execPath, [join(root, "dist/examples/demo/main.js")], {
      cwd: root,
      env: { ...process.env, KEYFLEET_DEMO_ENGINE: "stand-in" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const exited = new Promise<number | null>((r) =>
      child.once("exit", (code, signal) => r(code ?? (signal ? -1 : null))),
    );
    // interrupt once step 2 starts: hosts are up, the project holds keys, secrets and state
    const reached = await new Promise<boolean>((res) => {
      const timer = setTimeout(() => res(false), 60_000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n[2] ")) {
          clearTimeout(timer);
          res(true);
        }
      });
      child.once("exit", () => {
        clearTimeout(timer);
        res(false);
      });
    });
    const workDir = /temporary project (\/\S+)/.exec(out)?.[1] ?? "";
    const tmpRe = tmpdir().replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const hostDirs = [...out.matchAll(new RegExp(`(${tmpRe}/kf-(?:sshd|ssh2)-[A-Za-z0-9]+)/`, "g"))].map(
      (m) => m[1] as string,
    );
    expect(reached, out).toBe(true);
    expect(workDir).not.toBe("");
    expect(existsSync(join(workDir, "home/.config/sops/age/keys.txt"))).toBe(true);
    expect(hostDirs.length).toBeGreaterThanOrEqual(2);
    child.kill("SIGINT");
    const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000))]);
    if (code === "timeout") child.kill("SIGKILL");
    expect(code).toBe(130);
    expect(existsSync(workDir)).toBe(false);
    for (const d of hostDirs) expect(existsSync(d)).toBe(false);
    expect(processesUsing(hostDirs, workDir)).toEqual([]);
  }, 90_000);
});
