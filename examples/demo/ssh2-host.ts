/**
 * A throwaway SSH host built on the `ssh2` server, for machines without OpenSSH `sshd`, so the demo
 * needs nothing outside npm. It listens on 127.0.0.1 with its own ed25519 host key, accepts exactly
 * one client key (signature verified), and runs each `exec` request as `sh -c <command>` through
 * child_process — the same POSIX commands keyfleet runs on a real host. No shell, no pty, no sftp.
 * It is a demo host only: it runs commands as the current user and is stopped by the demo.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { timingSafeEqual } from "node:crypto";
import { Server, utils, type Connection, type ParsedKey, type ServerChannel } from "ssh2";
import type { DemoHost } from "./hosts";

/** What one demo host's connections share: who may log in, where commands run, what is running. */
interface HostContext {
  readonly allowed: ParsedKey;
  readonly allowedBlob: Buffer;
  readonly dataDir: string;
  readonly children: Set<ChildProcess>;
  readonly conns: Set<Connection>;
  log(line: string): void;
}

/** Starts one ssh2-server host on 127.0.0.1 on a free port. */
export async function startSsh2Host(): Promise<DemoHost> {
  const baseDir = mkdtempSync(join(tmpdir(), "kf-ssh2-"));
  const dataDir = join(baseDir, "data");
  mkdirSync(dataDir, { mode: 0o755 });
  const hostPair = utils.generateKeyPairSync("ed25519", { comment: "kf-demo-host" });
  const clientPair = utils.generateKeyPairSync("ed25519", { comment: "kf-demo-client" });
  const hostKeyFile = join(baseDir, "ssh_host_ed25519_key");
  writeFileSync(hostKeyFile, hostPair.private, { mode: 0o600 });
  writeFileSync(`${hostKeyFile}.pub`, hostPair.public + "\n");
  const logFile = join(baseDir, "host.log");
  const allowed = utils.parseKey(clientPair.public);
  if (allowed instanceof Error) throw allowed;
  const ctx: HostContext = {
    allowed,
    allowedBlob: allowed.getPublicSSH(),
    dataDir,
    children: new Set<ChildProcess>(),
    conns: new Set<Connection>(),
    log: (line) => writeFileSync(logFile, `${new Date().toISOString()} ${line}\n`, { flag: "a" }),
  };
  const server = new Server({ hostKeys: [hostPair.private] }, (client) => serveClient(client, ctx));
  const port = await listenLoopback(server).catch((e: unknown) => {
    rmSync(baseDir, { recursive: true, force: true }); // holds the host's private key; nothing is handed back
    throw e;
  });
  let stopped = false;
  return {
    kind: "ssh2",
    host: "127.0.0.1",
    port,
    user: userInfo().username,
    hostKeyLine: hostPair.public.split(/\s+/).slice(0, 2).join(" "),
    hostKeyFile,
    clientKeyPem: clientPair.private,
    baseDir,
    dataDir,
    logFile,
    pids: () => [process.pid, ...[...ctx.children].flatMap((c) => (c.pid ? [c.pid] : []))],
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of ctx.children) c.kill("SIGKILL");
      for (const c of ctx.conns) c.end();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

/** Listens on 127.0.0.1 on a free port; resolves the port. */
function listenLoopback(server: Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : 0);
    });
  });
}

/** One client connection: public-key authentication against the one allowed key, then exec sessions. */
function serveClient(client: Connection, ctx: HostContext): void {
  ctx.conns.add(client);
  client.on("close", () => ctx.conns.delete(client));
  client.on("error", () => ctx.conns.delete(client));
  client.on("authentication", (auth) => {
    if (auth.method !== "publickey") return auth.reject(["publickey"]);
    const blob = auth.key.data;
    const same = blob.length === ctx.allowedBlob.length && timingSafeEqual(blob, ctx.allowedBlob);
    if (!same) return auth.reject(["publickey"]);
    if (!auth.signature || !auth.blob) return auth.accept(); // key query: the client will sign next
    if (ctx.allowed.verify(auth.blob, auth.signature, auth.hashAlgo) === true) {
      ctx.log(`accepted publickey for ${auth.username}`);
      return auth.accept();
    }
    return auth.reject(["publickey"]);
  });
  client.on("ready", () => {
    client.on("session", (acceptSession) => {
      const session = acceptSession();
      session.on("exec", (accept, _reject, info) => runExec(accept(), info.command, ctx));
    });
  });
}

/** Runs one exec request as `sh -c <command>` in the host's data directory, wired to the channel. */
function runExec(stream: ServerChannel, command: string, ctx: HostContext): void {
  ctx.log(`exec (${command.length} bytes of command)`);
  const child = spawn("sh", ["-c", command], { cwd: ctx.dataDir, stdio: ["pipe", "pipe", "pipe"] });
  ctx.children.add(child);
  stream.pipe(child.stdin);
  child.stdin.on("error", () => undefined); // the command may exit before reading all input
  child.stdout.pipe(stream, { end: false });
  child.stderr.pipe(stream.stderr, { end: false });
  stream.on("close", () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  child.on("close", (code, signal) => {
    ctx.children.delete(child);
    try {
      if (signal) stream.exit(signal.replace(/^SIG/, ""), false, "");
      else stream.exit(code ?? 255);
      stream.end();
    } catch {
      // the client went away
    }
  });
}
