/**
 * Shared setup of the CLI fleet tests (test/hosts/cli-fleet*.test.ts): spawns the built CLI
 * (`dist/cli/main.js`) in a temp project with a temp HOME, and checks text for leaked values.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(__dirname, "../..");
export const CLI = join(ROOT, "dist/cli/main.js");

/** What a CLI run gave. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in `cwd` with HOME = `home`, PATH kept, no SSH agent, plus `env`. Asynchronous, so a
 * long push does not block the test worker's event loop; killed after 120 s.
 */
export function kf(
  args: string[],
  o: { cwd: string; home: string; env?: Record<string, string>; input?: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: o.cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: o.home, ...(o.env ?? {}) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin.end(o.input ?? "");
  });
}

/** `SHA256:…` of a host's public key file, as ssh-keygen -lf prints it. */
export function keygenFingerprint(pubFile: string): string {
  return execFileSync("ssh-keygen", ["-lf", pubFile], { encoding: "utf8" }).split(" ")[1] as string;
}

/** sha256 hex of a file. */
export function fileSha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** The values among `secrets` that occur in `text`. */
export function leaks(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}
