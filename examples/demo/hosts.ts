/**
 * Throwaway SSH hosts on 127.0.0.1 for the demo: real OpenSSH `sshd` when it is installed (through
 * the test harness), else a host built on the `ssh2` server (see ssh2-host.ts).
 */
import { existsSync } from "node:fs";
import { startSshd, SSHD_BIN } from "../../test/harness/sshd";
import { startSsh2Host } from "./ssh2-host";

/** One demo host, whichever kind. */
export interface DemoHost {
  /** "sshd" (OpenSSH) or "ssh2" (the npm ssh2 server). */
  readonly kind: "sshd" | "ssh2";
  /** Always 127.0.0.1. */
  readonly host: string;
  /** Listening port. */
  readonly port: number;
  /** Login user (the current user). */
  readonly user: string;
  /** Pinned host key "ssh-ed25519 AAAA…". */
  readonly hostKeyLine: string;
  /** The host's private key file (OpenSSH PEM), e.g. to show a removed host can no longer decrypt. */
  readonly hostKeyFile: string;
  /** OpenSSH PEM of the client key the host accepts. */
  readonly clientKeyPem: string;
  /** Everything of this host lives here; removed on stop. */
  readonly baseDir: string;
  /** Where the demo's env files go. */
  readonly dataDir: string;
  /** The host's log file. */
  readonly logFile: string;
  /** pids that belong to this host (the daemon and its children). */
  pids(): number[];
  /** Stops the host by pid (bounded) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Which host kind this machine supports: sshd when `/usr/sbin/sshd` exists (unless `KEYFLEET_DEMO_HOSTS=ssh2`). */
export function hostKind(env: NodeJS.ProcessEnv = process.env): "sshd" | "ssh2" {
  if (env["KEYFLEET_DEMO_HOSTS"] === "ssh2") return "ssh2";
  return existsSync(SSHD_BIN) ? "sshd" : "ssh2";
}

/** Starts one host of the given kind. */
export async function startDemoHost(kind: "sshd" | "ssh2"): Promise<DemoHost> {
  if (kind === "ssh2") return startSsh2Host();
  const h = await startSshd();
  return {
    kind: "sshd",
    host: h.host,
    port: h.port,
    user: h.user,
    hostKeyLine: h.hostKeyLine,
    hostKeyFile: h.hostKeyFile,
    clientKeyPem: h.clientKeyPem,
    baseDir: h.baseDir,
    dataDir: h.dataDir,
    logFile: h.logFile,
    pids: () => [h.pid(), ...h.childPids()],
    stop: () => h.stop(),
  };
}
