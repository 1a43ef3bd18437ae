/**
 * Shared setup of the CLI fleet tests (test/hosts/cli-fleet*.test.ts): spawns the built CLI
 * (`dist/cli/main.js`) in a temp project with a temp HOME, and checks text for leaked values.
 */
import { spawnSync } from "node:child_process";
import { execFileSync } from "node:child_process";
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

/** Runs the CLI in `cwd` with HOME = `home`, PATH kept, no SSH agent, plus `env`. */
export function kf(args: string[], o: { cwd: string; home: string; env?: Record<string, string>; input?: string }): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: o.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: o.home, ...(o.env ?? {}) },
    input: o.input ?? "",
    timeout: 90_000,
  });
  return { code: r.status, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
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
