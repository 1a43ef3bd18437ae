/**
 * The demo's step 7: the same job without Pulumi, on one more host. `keyfleet provision` adds web-4
 * (pinned by its fingerprint, files re-keyed with the same data key, env file pushed), then a
 * rotation with `keyfleet set` + `keyfleet push -y`, timed from the set to the new value being on
 * every host that uses it.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sshFingerprint } from "../../provider/age";
import { encStrings, fileSha, readEnvFile, restartCount, sopsRecipients, verify } from "./checks";
import type { DemoHost } from "./hosts";

/** What step 7 needs from the flow. */
export interface CliStepInput {
  repoRoot: string;
  workDir: string;
  keyDir: string;
  /** Environment of the CLI (HOME, SOPS_AGE_KEY_FILE…). */
  env: Record<string, string | undefined>;
  /** The new host (started by the flow, which stops it). */
  host: DemoHost;
  /** Hosts already in the fleet that take API_TOKEN, and the one that does not. */
  apiHosts: { name: string; host: DemoHost; format: "dotenv" | "systemd" }[];
  otherHost: DemoHost;
  newToken: string;
  say(line: string): void;
}

/** Runs the built CLI with `args`, the value (if any) on stdin only; resolves with its output. */
export function keyfleetCli(
  repoRoot: string,
  cwd: string,
  env: Record<string, string | undefined>,
  args: string[],
  input = "",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const clean = Object.fromEntries(
      Object.entries({ ...process.env, ...env }).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const child = spawn(process.execPath, [join(repoRoot, "dist/cli/main.js"), ...args], {
      cwd,
      env: clean,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Step 7; returns the rotation time in milliseconds. */
export async function cliStep(i: CliStepInput): Promise<number> {
  const h = i.host;
  const env = join(h.dataDir, "app.env");
  const restarts = join(h.dataDir, "restarts.log");
  writeFileSync(join(i.keyDir, "web-4"), h.clientKeyPem, { mode: 0o600 });
  const cli = (args: string[], input?: string) => keyfleetCli(i.repoRoot, i.workDir, i.env, args, input);
  const app = join(i.workDir, "secrets/app.yaml");
  const enc = encStrings(app);
  const others = i.apiHosts.map((a) => fileSha(join(a.host.dataDir, "app.env")));
  const fp = sshFingerprint(h.hostKeyLine);
  const provision = [
    "provision",
    `web-4=${h.user}@${h.host}:${h.port}`,
    "--env",
    `${env}:secrets/app.yaml:DB_PASSWORD,API_TOKEN`,
    "--fingerprint",
    fp,
    "--ssh-key",
    join(i.keyDir, "web-4"),
    "--on-change",
    `echo restarted >> '${restarts}'`,
  ];
  i.say(
    `    $ keyfleet provision web-4=${h.user}@${h.host}:${h.port} --env ${env}:secrets/app.yaml:DB_PASSWORD,API_TOKEN --fingerprint ${fp} …`,
  );
  const p = await cli(provision);
  verify(p.code === 0, `keyfleet provision exited ${p.code}: ${p.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  for (const l of p.stderr.trim().split("\n")) i.say(`    ${l}`);
  verify(
    readEnvFile(env, "dotenv")?.["API_TOKEN"] !== undefined && restartCount(restarts) === 1,
    "web-4 should hold DB_PASSWORD and API_TOKEN and have restarted once",
  );
  verify(
    JSON.stringify(encStrings(app)) === JSON.stringify(enc),
    "provision must keep every encrypted value byte-identical (same data key, one new age entry)",
  );
  verify(
    sopsRecipients(app).length === 5,
    "secrets/app.yaml should have 5 recipients (alice, ci-runner, web-2, web-3, web-4)",
  );
  verify(
    i.apiHosts.every((a, k) => fileSha(join(a.host.dataDir, "app.env")) === others[k]),
    "provisioning web-4 must not touch the other hosts",
  );
  const again = await cli(provision);
  verify(
    again.code === 0 && again.stderr.includes("nothing to do"),
    "a second provision of web-4 should say nothing to do",
  );
  i.say("    second run: nothing to do");

  // the rotation, timed from `keyfleet set` to the new value on every host that uses it
  const otherSha = fileSha(join(i.otherHost.dataDir, "app.env"));
  i.say("    $ keyfleet set secrets/app.yaml API_TOKEN   (new value on stdin)  &&  keyfleet push -y");
  const t0 = performance.now();
  const s = await cli(["set", "secrets/app.yaml", "API_TOKEN"], i.newToken);
  verify(s.code === 0, `keyfleet set exited ${s.code}`);
  const push = await cli(["push", "-y"]);
  const ms = performance.now() - t0;
  verify(push.code === 0, `keyfleet push exited ${push.code}: ${push.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  for (const l of push.stdout.trim().split("\n")) i.say(`    ${l}`);
  const on = [...i.apiHosts, { name: "web-4", host: h, format: "dotenv" as const }];
  for (const a of on)
    verify(
      readEnvFile(join(a.host.dataDir, "app.env"), a.format)?.["API_TOKEN"] === i.newToken,
      `${a.name} should hold the new API_TOKEN`,
    );
  verify(fileSha(join(i.otherHost.dataDir, "app.env")) === otherSha, "web-2 (no API_TOKEN) must be untouched");
  i.say(
    `    rotation: keyfleet set → new API_TOKEN on ${on.map((a) => a.name).join(", ")} in ${(ms / 1000).toFixed(1)} s (target: under 5 minutes); web-2 untouched`,
  );
  return ms;
}
