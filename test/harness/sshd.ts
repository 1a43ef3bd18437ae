/**
 * Real OpenSSH `sshd` processes on 127.0.0.1 for host tests, benchmarks and the demo.
 *
 * Each host gets its own base directory, ed25519 host key (made by `ssh-keygen`), free port,
 * `sshd_config`, authorized client key and log file (`-E`, LogLevel VERBOSE). The daemon runs in the
 * foreground (`-D`) as the current user, so tests that run as root log in as root with the harness's
 * client key; `opts.user` logs in as another local user instead (see {@link createLoginUser}). Every
 * process started here is stopped by its pid.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  existsSync,
} from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { SshTarget } from "../../provider/ssh/index";

/** Path of the OpenSSH server binary the harness runs. */
export const SSHD_BIN = "/usr/sbin/sshd";

/** Most ports one sshd listens on (OpenSSH's MAX_LISTEN_SOCKS). */
export const MAX_PORTS_PER_SSHD = 16;

/** One running sshd. */
export interface SshdHost {
  /** Always "127.0.0.1". */
  readonly host: string;
  /** TCP port the daemon listens on. */
  readonly port: number;
  /** Every port it listens on: `port` first, then the extra ones asked for with `opts.ports`. */
  readonly ports: readonly number[];
  /** Login user (the current user, or `opts.user`). */
  readonly user: string;
  /** Public host key line "ssh-ed25519 AAAA…" (no comment); changes after replaceHostKey(). */
  hostKeyLine: string;
  /** Path of the private host key; its `.pub` sits next to it. */
  readonly hostKeyFile: string;
  /** OpenSSH PEM of the client key authorized for `user`. */
  readonly clientKeyPem: string;
  /** Path of that client private key (mode 0600), for the `ssh`/`scp` CLI. */
  readonly clientKeyFile: string;
  /** Directory holding everything of this host; tests write their files under `baseDir/data`. */
  readonly baseDir: string;
  /** Scratch directory for pushed files (`baseDir/data`). */
  readonly dataDir: string;
  /** sshd log file (LogLevel VERBOSE). */
  readonly logFile: string;
  /** pid of the listening sshd (the parent of per-connection children). */
  pid(): number;
  /** pids of this sshd's direct children (one per live connection). */
  childPids(): number[];
  /** Stop the daemon: SIGTERM, then SIGKILL after a bounded wait. Idempotent. */
  stop(): Promise<void>;
  /** Generate a new host key and restart the daemon on the same port. */
  replaceHostKey(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr?.toString()}`);
}

function keygen(file: string, comment: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}

function pubLine(file: string): string {
  const parts = readFileSync(`${file}.pub`, "utf8").trim().split(/\s+/);
  return `${parts[0]} ${parts[1]}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolve once the port answers with an SSH banner; bounded by `timeoutMs`. */
async function waitForBanner(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`sshd on port ${port} exited during startup`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      const t = setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 500);
      s.once("data", (d) => {
        clearTimeout(t);
        s.destroy();
        resolve(d.toString("latin1").startsWith("SSH-2.0"));
      });
      s.once("error", () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`sshd on port ${port} did not accept connections within ${timeoutMs} ms`);
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      // field 4 (ppid) comes after the ")" that closes the command name
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[1]) === pid) out.push(Number(d));
    } catch {
      // the process exited while we were looking
    }
  }
  return out;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const pid = child.pid;
  // kill the per-connection children first so no session outlives its daemon
  for (const c of childrenOf(pid)) {
    try {
      process.kill(c, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
  if (!done) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
    await Promise.race([exited, sleep(2000)]);
  }
}

/** A local login user made by {@link createLoginUser}. */
/** The SSH target of `h` (its first port, its client key, its pinned host key), with `o` over it. */
export function sshTargetOf(h: SshdHost, o: Partial<SshTarget> = {}): SshTarget {
  return { host: h.host, port: h.port, user: h.user, privateKey: h.clientKeyPem, hostKey: h.hostKeyLine, ...o };
}

export interface LoginUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Its home directory (a fresh temp directory it owns). */
  readonly home: string;
  /** Delete the user, its group and its home (only when this process created the user). Idempotent. */
  remove(): void;
}

function idOf(name: string, flag: "-u" | "-g"): number | undefined {
  const r = spawnSync("id", [flag, name], { stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 });
  return r.status === 0 ? Number(r.stdout.toString().trim()) : undefined;
}

/**
 * A throwaway local login user for benchmarks: login shell /bin/sh, home in a fresh temp directory,
 * a password field of `*` (no password login, yet not "locked", so sshd accepts its keys without
 * PAM). Its sessions run no rc file of the machine's own users (root's ~/.bashrc may start
 * anything on a developer machine). A user of that name left by a killed run is reused, and
 * removed by remove() like a new one. Needs root (useradd).
 * @throws when useradd fails (e.g. not root)
 */
export function createLoginUser(name = "kfbench"): LoginUser {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(name)) throw new Error(`not a login user name: ${name}`);
  const home = mkdtempSync(join(tmpdir(), `kf-home-${name}-`));
  try {
    if (idOf(name, "-u") === undefined) run("useradd", ["-M", "-d", home, "-s", "/bin/sh", "-p", "*", name]);
    else run("usermod", ["-d", home, "-s", "/bin/sh", "-p", "*", name]);
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  const uid = idOf(name, "-u")!;
  const gid = idOf(name, "-g")!;
  chownSync(home, uid, gid);
  let removed = false;
  return {
    name,
    uid,
    gid,
    home,
    remove() {
      if (removed) return;
      removed = true;
      spawnSync("userdel", [name], { stdio: "ignore", timeout: 20_000 });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Start one sshd. `opts.keep` keeps the base directory after stop() (default: removed); `opts.ports`
 * (default 1, at most {@link MAX_PORTS_PER_SSHD}) makes it listen on that many free ports, so one
 * daemon can stand in for several hosts. `opts.user` (needs root) is the login user instead of the
 * current one: the data directory is then its own and the authorized keys readable by it.
 * `opts.logLevel` DEBUG1 logs every authentication request (default VERBOSE).
 * @throws if sshd cannot be started within the bounded wait (3 attempts on fresh ports); the base
 *   directory is removed then, whatever `keep` says
 */
export async function startSshd(
  opts: {
    keep?: boolean;
    maxStartups?: number;
    ports?: number;
    user?: LoginUser;
    logLevel?: "VERBOSE" | "DEBUG1";
  } = {},
): Promise<SshdHost> {
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const baseDir = mkdtempSync(join(tmpdir(), "kf-sshd-"));
  const dataDir = join(baseDir, "data");
  mkdirSync(dataDir, { mode: 0o755 });
  const hostKeyFile = join(baseDir, "ssh_host_ed25519_key");
  const clientKeyFile = join(baseDir, "client_ed25519");
  const logFile = join(baseDir, "sshd.log");
  const cfgFile = join(baseDir, "sshd_config");
  try {
    keygen(hostKeyFile, "kf-test-host");
    keygen(clientKeyFile, "kf-test-client");
    writeFileSync(join(baseDir, "authorized_keys"), readFileSync(`${clientKeyFile}.pub`), { mode: 0o600 });
    if (opts.user) {
      // sshd reads the authorized keys as the login user, who also owns the directory it writes in
      chmodSync(baseDir, 0o711);
      chmodSync(join(baseDir, "authorized_keys"), 0o644);
      chownSync(dataDir, opts.user.uid, opts.user.gid);
    }
  } catch (e) {
    rmSync(baseDir, { recursive: true, force: true });
    throw e;
  }
  const user = opts.user?.name ?? userInfo().username;
  let child: ChildProcess | undefined;
  let port = 0;
  let extra: number[] = [];
  const nPorts = Math.max(1, Math.min(opts.ports ?? 1, MAX_PORTS_PER_SSHD));
  const maxStartups = opts.maxStartups ?? 200;

  const launch = async (): Promise<void> => {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (port === 0 || attempt > 0) port = await freePort();
      if (extra.length !== nPorts - 1 || attempt > 0) {
        const set = new Set<number>([port]);
        for (let i = 0; set.size < nPorts && i < nPorts * 4; i++) set.add(await freePort());
        extra = [...set].slice(1);
      }
      writeFileSync(
        cfgFile,
        [
          `Port ${port}`,
          ...extra.map((p) => `Port ${p}`),
          "ListenAddress 127.0.0.1",
          `HostKey ${hostKeyFile}`,
          `PidFile ${join(baseDir, "sshd.pid")}`,
          `AuthorizedKeysFile ${join(baseDir, "authorized_keys")}`,
          "PermitRootLogin prohibit-password",
          "PubkeyAuthentication yes",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "StrictModes no",
          "UsePAM no",
          `LogLevel ${opts.logLevel ?? "VERBOSE"}`,
          `MaxStartups ${maxStartups}:30:${maxStartups * 2}`,
          "MaxSessions 64",
          "PrintMotd no",
          "Subsystem sftp internal-sftp",
          "",
        ].join("\n"),
      );
      const c = spawn(SSHD_BIN, ["-D", "-f", cfgFile, "-E", logFile], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      c.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      child = c;
      try {
        await waitForBanner(port, 10_000, () => c.exitCode === null && c.signalCode === null);
        // sshd binds every port before it accepts; one taken meanwhile is only logged, so check them all
        // (another process answering there would present a different host key)
        const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
        const missing = extra.filter((p) => !log.includes(`Server listening on 127.0.0.1 port ${p}.`));
        if (missing.length === 0) return;
        throw new Error(`sshd could not listen on port(s) ${missing.join(", ")}`);
      } catch (e) {
        lastErr = new Error(
          `${(e as Error).message}: ${stderr}${existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-500) : ""}`,
        );
        await stopChild(c);
      }
    }
    throw lastErr;
  };
  try {
    await launch();
  } catch (e) {
    // launch() stopped every daemon it tried; nothing is handed back, so nothing of this host stays
    rmSync(baseDir, { recursive: true, force: true });
    throw e;
  }

  const h: SshdHost = {
    host: "127.0.0.1",
    get port() {
      return port;
    },
    get ports() {
      return [port, ...extra];
    },
    user,
    hostKeyLine: pubLine(hostKeyFile),
    hostKeyFile,
    clientKeyPem: readFileSync(clientKeyFile, "utf8"),
    clientKeyFile,
    baseDir,
    dataDir,
    logFile,
    pid: () => child?.pid ?? -1,
    childPids: () => (child?.pid ? childrenOf(child.pid) : []),
    async stop() {
      if (child) await stopChild(child);
      if (!opts.keep) rmSync(baseDir, { recursive: true, force: true });
    },
    async replaceHostKey() {
      if (child) await stopChild(child);
      keygen(hostKeyFile, "kf-test-host-2");
      h.hostKeyLine = pubLine(hostKeyFile);
      // same port when possible: launch() reuses `port` on its first attempt
      await launch();
    },
  };
  return h;
}

/** Start `n` sshd hosts in parallel; on failure, the ones that started are stopped. */
export async function startHosts(n: number, opts: { keep?: boolean } = {}): Promise<SshdHost[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => startSshd(opts)));
  const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(ok.map((h) => h.stop()));
    throw failed.reason;
  }
  return ok;
}

/** Stop every host (bounded per host). */
export async function stopHosts(hosts: SshdHost[]): Promise<void> {
  await Promise.all(hosts.map((h) => h.stop()));
}
