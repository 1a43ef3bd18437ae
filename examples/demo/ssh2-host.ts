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
import { Server, utils, type Connection } from "ssh2";
import type { DemoHost } from "./hosts";

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
  const allowedBlob = allowed.getPublicSSH();
  const children = new Set<ChildProcess>();
  const conns = new Set<Connection>();
  const log = (line: string): void => writeFileSync(logFile, `${new Date().toISOString()} ${line}\n`, { flag: "a" });

  const server = new Server({ hostKeys: [hostPair.private] }, (client) => {
    conns.add(client);
    client.on("close", () => conns.delete(client));
    client.on("error", () => conns.delete(client));
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const blob = ctx.key.data;
      const same = blob.length === allowedBlob.length && timingSafeEqual(blob, allowedBlob);
      if (!same) return ctx.reject(["publickey"]);
      if (!ctx.signature || !ctx.blob) return ctx.accept(); // key query: the client will sign next
      if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) {
        log(`accepted publickey for ${ctx.username}`);
        return ctx.accept();
      }
      return ctx.reject(["publickey"]);
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("exec", (accept, _reject, info) => {
          const stream = accept();
          log(`exec (${info.command.length} bytes of command)`);
          const child = spawn("sh", ["-c", info.command], { cwd: dataDir, stdio: ["pipe", "pipe", "pipe"] });
          children.add(child);
          stream.pipe(child.stdin);
          child.stdin.on("error", () => undefined); // the command may exit before reading all input
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          stream.on("close", () => {
            if (child.exitCode === null) child.kill("SIGTERM");
          });
          child.on("close", (code, signal) => {
            children.delete(child);
            try {
              if (signal) stream.exit(signal.replace(/^SIG/, ""), false, "");
              else stream.exit(code ?? 255);
              stream.end();
            } catch {
              // the client went away
            }
          });
        });
      });
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : 0);
    });
  }).catch((e: unknown) => {
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
    pids: () => [process.pid, ...[...children].flatMap((c) => (c.pid ? [c.pid] : []))],
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of children) c.kill("SIGKILL");
      for (const c of conns) c.end();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}
