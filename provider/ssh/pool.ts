/**
 * SshPool keeps one pinned connection per (host, port, user) and hands out sessions that run
 * commands, atomic writes, stats and removals over it. Connecting and the idempotent operations
 * (write, stat, remove, mark) reconnect and retry on transport failures under the one policy of
 * ./retry.ts; commands are not retried once sent.
 */
import { createHash } from "node:crypto";
import type { Client, ClientChannel, ParsedKey } from "ssh2";
import {
  connectPinned,
  isTransportError,
  preparePrivateKey,
  targetName,
  DEFAULT_PORT,
  type SshTarget,
} from "./connect";
import { HostKeyMismatchError, SshError } from "./errors";
import { parsePinnedHostKey, type PinnedHostKey } from "./hostkey";
import { shellJoin } from "./quote";
import {
  EXIT,
  MARK_SCRIPT,
  parseStat,
  parseUnsafe,
  REMOVE_SCRIPT,
  STAT_SCRIPT,
  WRITE_SCRIPT,
  type RemoteStat,
} from "./remote";
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from "./retry";
import { DEFAULT_HOST_CONCURRENCY } from "./concurrency";

export { DEFAULT_HOST_CONCURRENCY } from "./concurrency";

/** What writeFileAtomic read back from the file it wrote. */
export interface WriteResult {
  /** Hex sha256 of the content read back through the written inode (equal to what was sent). */
  sha256: string;
  /** Permission bits of the written file, e.g. 0o600. */
  mode: number;
  /** Owner user name (or uid when the name is unknown). */
  owner: string;
  /** Owner group name (or gid). */
  group: string;
}

/** Result of a remote command. */
export interface ExecResult {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Operations on one host; see docs/internals.md. */
export interface SshSession {
  /** Run argv (each argument POSIX-quoted) with optional stdin. Not retried once the command started. */
  exec(argv: string[], o?: { stdin?: Uint8Array }): Promise<ExecResult>;
  /**
   * Write `content` to `path` atomically with `mode` (and owner/group), verified by reading back its
   * sha256. Content travels only on the channel's stdin.
   * @returns the hex sha256 of what the host read back (equal to the content's), and the mode, owner
   *   and group of the file now at `path` (the inode written), so no stat is needed after a write
   */
  writeFileAtomic(
    path: string,
    content: Uint8Array,
    o: { mode: number; owner?: string; group?: string },
  ): Promise<WriteResult>;
  /** Stat and digest `path`; `sha256` is the raw content digest (compare it, never store it unkeyed). */
  stat(path: string): Promise<RemoteStat>;
  /** Remove the file at `path` (no error when it is already gone). */
  remove(path: string): Promise<void>;
  /**
   * Create an empty regular file at `path` unless one is there (a marker such as a pending restart).
   * An existing file is never opened; a planted symlink, FIFO or socket is replaced, a directory refused.
   */
  mark(path: string): Promise<void>;
}

/** Tuning knobs; defaults suit a handful of VPSs over the internet. */
export interface SshPoolOptions {
  /** Attempts for connecting and for idempotent operations (default {@link DEFAULT_RETRY}: 4). */
  attempts?: number;
  /** First backoff delay in ms, doubled each retry (default {@link DEFAULT_RETRY}: 200). */
  backoffMs?: number;
  /** Handshake timeout (default 15 s). */
  connectTimeoutMs?: number;
  /** Timeout of one remote operation (default 60 s). */
  opTimeoutMs?: number;
  /** Concurrent channels per connection (default 8; sshd's MaxSessions default is 10). */
  channelsPerConnection?: number;
  /**
   * Hosts worked on at once across the whole pool (default {@link DEFAULT_HOST_CONCURRENCY}): at most
   * this many handshakes and remote operations run at the same time, whatever the callers start, so
   * a fleet of any size is pushed at a steady rate instead of overloading the deployer. The CLI's
   * `--concurrency` and the fleet core's default are the same number.
   */
  concurrency?: number;
  /**
   * Called with every command line sent in an exec request, for audits and tests: it shows what
   * the host (and its process list) sees. Content never appears there; it goes on stdin.
   */
  onCommand?: (target: string, command: string) => void;
}

/** Largest file writeFileAtomic sends (env files are small; this bounds memory and time). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

interface Conn {
  client: Client;
  presented: PinnedHostKey;
  closed: boolean;
  active: number;
  waiters: (() => void)[];
  /** close() was called while operations ran: the last one to finish closes it. */
  release: boolean;
}

/** Longest remote path accepted, in bytes (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096;

/** Refuses what is not an absolute file path of at most 4096 bytes without NUL, CR or LF (checked before anything else touches it). */
function checkPath(name: string, path: string): void {
  const ok =
    typeof path === "string" &&
    path.length <= MAX_PATH_BYTES &&
    Buffer.byteLength(path) <= MAX_PATH_BYTES &&
    path.startsWith("/") &&
    !path.endsWith("/") &&
    !/[\0\r\n]/.test(path);
  if (!ok) {
    const shown =
      typeof path === "string"
        ? JSON.stringify(path.slice(0, 60)) + (path.length > 60 ? `… (${path.length} characters)` : "")
        : typeof path;
    throw new SshError(
      name,
      `remote path ${shown} on ${name} must be an absolute file path of at most ${MAX_PATH_BYTES} bytes without NUL, CR or LF`,
      { hint: "use an absolute path such as /etc/myapp/app.env" },
    );
  }
}

/** One connection per (host, port, user), reused by every session for that key. */
export class SshPool {
  private readonly conns = new Map<string, Promise<Conn>>();
  /** Private keys parsed once per key text while the pool is open (closeAll() forgets them). */
  private readonly keys = new Map<string, ParsedKey | undefined>();
  private readonly o: Required<SshPoolOptions>;
  private busy = 0;
  private readonly queue: (() => void)[] = [];
  /** Number of connections opened so far (for tests and reports). */
  connectCount = 0;
  /** Most handshakes and operations that ran at once so far (for tests and reports). */
  peakBusy = 0;

  constructor(o: SshPoolOptions = {}) {
    this.o = {
      attempts: DEFAULT_RETRY.attempts,
      backoffMs: DEFAULT_RETRY.backoffMs,
      connectTimeoutMs: 15_000,
      opTimeoutMs: 60_000,
      channelsPerConnection: 8,
      concurrency: DEFAULT_HOST_CONCURRENCY,
      onCommand: () => undefined,
      ...o,
    };
    this.setConcurrency(this.o.concurrency);
  }

  /** The pool's limit of hosts worked on at once ({@link SshPoolOptions.concurrency}). */
  get concurrency(): number {
    return this.o.concurrency;
  }

  /**
   * Change {@link SshPoolOptions.concurrency}; operations already waiting start as slots free up.
   * @throws SshError unless `n` is an integer from 1 to 1024
   */
  setConcurrency(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > 1024)
      throw new SshError("pool", `concurrency must be an integer from 1 to 1024, got ${String(n)}`, {
        hint: `pass e.g. ${DEFAULT_HOST_CONCURRENCY}`,
      });
    this.o.concurrency = n;
    while (this.busy < n && this.queue.length > 0) {
      this.busy++;
      this.queue.shift()!();
    }
  }

  /** @internal runs `fn` in one of the pool's {@link SshPoolOptions.concurrency} slots (FIFO). */
  async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy >= this.o.concurrency) await new Promise<void>((r) => this.queue.push(r));
    else this.busy++;
    this.peakBusy = Math.max(this.peakBusy, this.busy);
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.busy--;
    }
  }

  /** The retry policy of this pool (connecting and idempotent operations). */
  get retry(): RetryPolicy {
    return { attempts: this.o.attempts, backoffMs: this.o.backoffMs };
  }

  /**
   * A session for `t`. Connects (pinned) now, retrying transport failures under the pool's policy,
   * so a host-key mismatch or an authentication failure surfaces here at once.
   * @throws HostKeyMismatchError, HostKeyParseError, SshError
   */
  async session(t: SshTarget): Promise<SshSession> {
    parsePinnedHostKey(t.hostKey, `hostKey of ${targetName(t)}`);
    await this.slot(() => withRetries(this.retry, () => this.conn(t)));
    return new Session(this, t);
  }

  /**
   * Close the connection to `t` (host, port and user), when one is open: a fleet push calls it when
   * it is done with a host, so the deployer holds at most `concurrency` connections, not one per host
   * pushed. Operations running on it finish first (the last one closes it); the next operation for
   * `t` connects again.
   */
  async close(t: SshTarget): Promise<void> {
    const key = `${t.user}@${targetName(t)}`;
    const p = this.conns.get(key);
    if (!p) return;
    const c = await p.catch(() => undefined);
    if (this.conns.get(key) === p && (!c || c.active === 0)) this.conns.delete(key);
    if (!c || c.closed) return;
    if (c.active > 0) c.release = true;
    else this.retire(t, c);
  }

  /** Closes `c` (with a goodbye to the host) and forgets it if it is still `t`'s connection. */
  private retire(t: SshTarget, c: Conn): void {
    c.closed = true;
    c.client.end();
    c.client.destroy();
    const key = `${t.user}@${targetName(t)}`;
    const p = this.conns.get(key);
    void p?.then(
      (x) => {
        if (x === c && this.conns.get(key) === p) this.conns.delete(key);
      },
      () => undefined,
    );
  }

  /** Close every connection. */
  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    this.keys.clear();
    await Promise.all(
      all.map(async (p) => {
        try {
          const c = await p;
          c.closed = true;
          c.client.end();
          c.client.destroy();
        } catch {
          /* never connected */
        }
      }),
    );
  }

  /**
   * Destroy every open socket at once without a goodbye (what a network cut does). Operations in
   * flight fail or retry; the next operation reconnects. Used by fault-injection tests.
   */
  destroyConnections(): number {
    let n = 0;
    for (const p of this.conns.values()) {
      void p.then(
        (c) => {
          c.closed = true;
          c.client.destroy();
        },
        () => undefined,
      );
      n++;
    }
    return n;
  }

  /** @internal live connection for `t`, opening one when needed; checks the pin of every caller. */
  async conn(t: SshTarget): Promise<Conn> {
    const key = `${t.user}@${targetName(t)}`;
    let p = this.conns.get(key);
    if (p) {
      const c = await p.catch(() => undefined);
      if (!c || c.closed) {
        if (this.conns.get(key) === p) this.conns.delete(key);
        p = undefined;
      } else {
        const pinned = parsePinnedHostKey(t.hostKey, `hostKey of ${targetName(t)}`);
        if (!pinned.blob.equals(c.presented.blob))
          throw new HostKeyMismatchError(targetName(t), pinned.fingerprint, c.presented.fingerprint);
        return c;
      }
    }
    p = (async () => {
      this.connectCount++;
      const { client, presented } = await connectPinned(t, {
        timeoutMs: this.o.connectTimeoutMs,
        ...this.keyOf(t.privateKey),
      });
      const c: Conn = { client, presented, closed: false, active: 0, waiters: [], release: false };
      const dead = () => {
        c.closed = true;
        for (const w of c.waiters.splice(0)) w();
      };
      client.on("close", dead);
      client.on("end", dead);
      client.on("error", dead);
      return c;
    })();
    this.conns.set(key, p);
    try {
      return await p;
    } catch (e) {
      if (this.conns.get(key) === p) this.conns.delete(key);
      throw e;
    }
  }

  /** `{ key }` of `text` parsed once (preparePrivateKey), or nothing when there is none to parse. */
  private keyOf(text: string | undefined): { key?: ParsedKey } {
    if (!text) return {};
    if (!this.keys.has(text)) this.keys.set(text, preparePrivateKey(text));
    const key = this.keys.get(text);
    return key ? { key } : {};
  }

  /** @internal forget a broken connection. */
  drop(c: Conn): void {
    c.closed = true;
    c.client.destroy();
  }

  /** @internal run `fn` on a channel slot of `t`'s connection, retrying transport failures when `retry`. */
  withConn<T>(t: SshTarget, retry: boolean, fn: (c: Conn) => Promise<T>): Promise<T> {
    return this.slot(() => this.onConn(t, retry, fn));
  }

  private async onConn<T>(t: SshTarget, retry: boolean, fn: (c: Conn) => Promise<T>): Promise<T> {
    const name = targetName(t);
    const policy = retry ? this.retry : { attempts: 1, backoffMs: 0 };
    let c: Conn | undefined;
    try {
      return await withRetries(
        policy,
        async () => {
          c = undefined;
          c = await this.conn(t);
          // closed by close() before anything was sent on it: connecting again is safe for any operation
          for (let i = 0; c.closed && i < 2; i++) c = await this.conn(t);
          const conn = c;
          while (conn.active >= this.o.channelsPerConnection && !conn.closed)
            await new Promise<void>((r) => conn.waiters.push(r));
          if (conn.closed) throw new SshError(name, `connection to ${name} was lost`, { retryable: true });
          conn.active++;
          try {
            return await fn(conn);
          } finally {
            conn.active--;
            conn.waiters.shift()?.();
            if (conn.release && conn.active === 0) this.retire(t, conn);
          }
        },
        () => {
          if (c) this.drop(c);
        },
      );
    } catch (e) {
      if (e instanceof SshError || !isTransportError(e)) throw e;
      throw new SshError(name, `connection to ${name} failed after ${policy.attempts} attempt(s)`, {
        cause: e,
        retryable: true,
      });
    }
  }

  /** @internal exec on a live connection; rejects with a retryable SshError if the channel dies. */
  run(t: SshTarget, c: Conn, command: string, stdin: Uint8Array | undefined): Promise<ExecResult> {
    const name = targetName(t);
    this.o.onCommand(name, command);
    return new Promise((resolve, reject) => {
      let ch: ClientChannel | undefined;
      const timer = setTimeout(() => {
        ch?.destroy();
        reject(
          new SshError(name, `remote command on ${name} timed out after ${this.o.opTimeoutMs} ms`, { retryable: true }),
        );
      }, this.o.opTimeoutMs);
      const onClose = () => {
        clearTimeout(timer);
        reject(new SshError(name, `connection to ${name} was lost`, { retryable: true }));
      };
      c.client.once("close", onClose);
      const done = (f: () => void) => {
        clearTimeout(timer);
        c.client.removeListener("close", onClose);
        f();
      };
      try {
        c.client.exec(command, (err, stream) => {
          if (err)
            return done(() =>
              reject(
                new SshError(name, `cannot open a channel on ${name}: ${err.message}`, { retryable: true, cause: err }),
              ),
            );
          ch = stream;
          const out: Buffer[] = [];
          const errb: Buffer[] = [];
          let code: number | null = null;
          let signal: string | undefined;
          stream.on("data", (d: Buffer) => out.push(d));
          stream.stderr.on("data", (d: Buffer) => errb.push(d));
          stream.on("exit", (cd: number | null, sig?: string) => {
            code = cd;
            signal = sig;
          });
          stream.on("error", () => undefined);
          stream.on("close", () =>
            done(() => {
              if (code === null || code === undefined) {
                reject(
                  new SshError(
                    name,
                    `remote command on ${name} ended without an exit status${signal ? ` (signal ${signal})` : ""}`,
                    { retryable: true },
                  ),
                );
              } else {
                resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(errb) });
              }
            }),
          );
          if (stdin) stream.end(Buffer.from(stdin));
          else stream.end();
        });
      } catch (e) {
        done(() =>
          reject(
            new SshError(name, `cannot run a command on ${name}: ${(e as Error).message}`, {
              retryable: true,
              cause: e,
            }),
          ),
        );
      }
    });
  }
}

function stderrTail(b: Buffer): string {
  const s = b.toString("utf8").trim();
  return s.length > 300 ? "…" + s.slice(-300) : s;
}

/**
 * The error of a remote script's refusal: the StrictModes check (naming the directory, its owner and
 * mode, and the fix), a directory in the way, or another exit with the stderr tail (the scripts print
 * only fixed texts and paths there, never content).
 */
function refusal(name: string, what: string, where: string, r: ExecResult): SshError {
  const u = r.code === EXIT.unsafeDir ? parseUnsafe(r.stderr.toString("utf8")) : undefined;
  if (u) {
    const who = u.user === u.uid ? `uid ${u.uid}` : `${u.user} (uid ${u.uid})`;
    const fixes = [
      u.uid !== "0" ? `chown root ${u.dir}` : "",
      u.mode !== "?" && (parseInt(u.mode, 8) & 0o022) !== 0 ? `chmod go-w ${u.dir}` : "",
    ]
      .filter(Boolean)
      .join(" && ");
    return new SshError(
      name,
      `refusing to ${what} ${where}: directory ${u.dir} is owned by ${who} with mode ${u.mode}, so someone other than root and the login user could write there and redirect the write (checked as OpenSSH StrictModes does)`,
      {
        exitCode: r.code,
        file: where,
        hint: `make root (or the login user) own ${u.dir} and every directory above it, with no group or world write (except sticky ones such as /tmp above it), e.g. ${fixes || `chown root ${u.dir} && chmod go-w ${u.dir}`}; then remove any entries in it you did not create`,
      },
    );
  }
  const why =
    r.code === EXIT.noDir
      ? "its directory does not exist"
      : r.code === EXIT.isDir
        ? "it is a directory"
        : r.code === EXIT.notRegular
          ? "a directory is in the way"
          : r.code === EXIT.replaced
            ? "the target was replaced while it was written"
            : `exit ${r.code}: ${stderrTail(r.stderr)}`;
  const hint =
    r.code === EXIT.noDir
      ? "create the directory on the host first"
      : r.code === EXIT.isDir || r.code === EXIT.notRegular
        ? "remove what is at that path on the host (keyfleet never deletes a directory)"
        : r.code === EXIT.replaced
          ? "only root or the login user can do that: find out which process writes this file"
          : "check the path, owner and group and that the login user may write there";
  return new SshError(name, `cannot ${what} ${where}: ${why}`, { exitCode: r.code, file: where, hint });
}

class Session implements SshSession {
  constructor(
    private readonly pool: SshPool,
    private readonly t: SshTarget,
  ) {}

  private get name(): string {
    return targetName(this.t);
  }

  exec(argv: string[], o: { stdin?: Uint8Array } = {}): Promise<ExecResult> {
    const cmd = shellJoin(argv);
    return this.pool.withConn(this.t, false, (c) => this.pool.run(this.t, c, cmd, o.stdin));
  }

  /** Runs a remote script (retried on transport failures); `op` names it in errors ("write of /etc/app.env"). */
  private script(script: string, args: string[], stdin: Uint8Array | undefined, op: string): Promise<ExecResult> {
    const cmd = shellJoin(["sh", "-c", script, "keyfleet", ...args]);
    return this.pool.withConn(this.t, true, async (c) => {
      const r = await this.pool.run(this.t, c, cmd, stdin);
      // a killed remote shell exits by signal (129/143…) or with "incomplete": the transport broke
      if (r.code === EXIT.incomplete || r.code >= 128) {
        throw new SshError(this.name, `${op} on ${this.name} was interrupted (exit ${r.code})`, {
          retryable: true,
          exitCode: r.code,
        });
      }
      return r;
    });
  }

  async writeFileAtomic(
    path: string,
    content: Uint8Array,
    o: { mode: number; owner?: string; group?: string },
  ): Promise<WriteResult> {
    checkPath(this.name, path);
    const where = `${this.name}:${path}`;
    if (!Number.isInteger(o.mode) || o.mode < 0 || o.mode > 0o7777)
      throw new SshError(this.name, `mode for ${where} must be an integer between 0 and 0o7777`, { file: where });
    for (const [k, v] of [
      ["owner", o.owner],
      ["group", o.group],
    ] as const) {
      if (v !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/.test(v))
        throw new SshError(this.name, `${k} for ${where} is not a valid user or group name`, { file: where });
    }
    if (content.length > MAX_FILE_BYTES)
      throw new SshError(this.name, `content for ${where} is larger than ${MAX_FILE_BYTES} bytes`, { file: where });
    const sha = createHash("sha256").update(content).digest("hex");
    const stdin = Buffer.concat([Buffer.from(`KFv1 ${content.length} ${sha}\n`), Buffer.from(content)]);
    const r = await this.script(
      WRITE_SCRIPT,
      [path, o.mode.toString(8), o.owner ?? "", o.group ?? ""],
      stdin,
      `write of ${path}`,
    );
    if (r.code !== 0) throw refusal(this.name, "write", where, r);
    const m = /^([0-9a-f]{64}) ([0-7]{1,4}):([^:\s]+):([^:\s]+)$/.exec(r.stdout.toString("latin1").trim());
    if (!m)
      throw new SshError(this.name, `write of ${where} printed no read-back digest`, {
        file: where,
        retryable: false,
        hint: "check that the host has POSIX sh and GNU coreutils",
      });
    if (m[1] !== sha)
      throw new SshError(this.name, `read-back digest of ${where} does not match what was sent`, {
        file: where,
        retryable: false,
        hint: "another process may be writing the same file",
      });
    return { sha256: m[1], mode: parseInt(m[2]!, 8), owner: m[3]!, group: m[4]! };
  }

  async stat(path: string): Promise<RemoteStat> {
    checkPath(this.name, path);
    const r = await this.script(STAT_SCRIPT, [path], undefined, `stat of ${path}`);
    const s = r.code === 0 ? parseStat(r.stdout.toString("utf8")) : undefined;
    if (!s) throw refusal(this.name, "stat", `${this.name}:${path}`, r);
    return s;
  }

  async remove(path: string): Promise<void> {
    checkPath(this.name, path);
    const r = await this.script(REMOVE_SCRIPT, [path], undefined, `removal of ${path}`);
    if (r.code !== 0) throw refusal(this.name, "remove", `${this.name}:${path}`, r);
  }

  async mark(path: string): Promise<void> {
    checkPath(this.name, path);
    const r = await this.script(MARK_SCRIPT, [path], undefined, `creation of ${path}`);
    if (r.code !== 0) throw refusal(this.name, "create", `${this.name}:${path}`, r);
  }
}

export { DEFAULT_PORT };
