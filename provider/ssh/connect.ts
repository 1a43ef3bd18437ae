/**
 * Opening SSH connections with ssh2: a scan that captures the host key and stops before
 * authentication, and a pinned connection that refuses any key but the pinned one, also before
 * authentication. Only ssh-ed25519 host keys are negotiated.
 */
import { createPrivateKey, sign } from "node:crypto";
import type {
  AgentAuthMethod,
  AuthenticationType,
  AuthMethod,
  ConnectConfig,
  ParsedKey,
  PublicKeyAuthMethod,
} from "ssh2";
import { Client, parseKey } from "./ssh2";
import { HostKeyMismatchError, SshError } from "./errors";
import { hostKeyFromBlob, parsePinnedHostKey, sameHostKey, type PinnedHostKey } from "./hostkey";

/** Where and as whom to connect; `hostKey` is the pinned "ssh-ed25519 AAAA…" line. */
export interface SshTarget {
  host: string;
  port?: number;
  user: string;
  /** OpenSSH/PEM private key text. */
  privateKey?: string;
  /** ssh-agent socket path. */
  agent?: string;
  /** Pinned host key "ssh-ed25519 AAAA…" (required: nothing is sent to an unpinned host). */
  hostKey: string;
}

/** Default SSH port. */
export const DEFAULT_PORT = 22;

/** "host:port" as used in messages. */
export function targetName(t: { host: string; port?: number }): string {
  const h = t.host.includes(":") ? `[${t.host}]` : t.host;
  return `${h}:${t.port ?? DEFAULT_PORT}`;
}

const TRANSPORT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
]);

/** True for errors of the socket/transport (retry may help), false for auth/host-key/usage errors. */
export function isTransportError(e: unknown): boolean {
  if (e instanceof SshError) return e.retryable;
  if (!(e instanceof Error)) return false;
  const level = (e as { level?: string }).level;
  const code = (e as { code?: string }).code;
  if (level === "client-authentication" || level === "client-host-verification") return false;
  if (level === "client-socket" || level === "client-timeout" || level === "protocol") return true;
  if (code && TRANSPORT_CODES.has(code)) return true;
  return /not connected|no response from server|connection lost|keepalive|channel open failure|socket|closed|ended/i.test(
    e.message,
  );
}

function baseConfig(host: string, port: number, timeoutMs: number): ConnectConfig {
  return {
    host,
    port,
    readyTimeout: timeoutMs,
    keepaliveInterval: 0,
    algorithms: { serverHostKey: ["ssh-ed25519"] },
  };
}

/**
 * Fetch a host's ssh-ed25519 key without authenticating: the verifier records the key and
 * aborts the handshake.
 * @returns "ssh-ed25519 AAAA…"
 * @throws SshError when the host is unreachable, offers no ed25519 key or does not answer in time
 */
export function scanHostKey(host: string, port: number, o: { timeoutMs?: number } = {}): Promise<string> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const name = targetName({ host, port });
  return new Promise((resolve, reject) => {
    const c = new Client();
    let key: PinnedHostKey | undefined;
    let parseErr: unknown;
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.removeAllListeners();
      c.on("error", () => undefined);
      c.destroy();
      if (key) resolve(key.line);
      else reject(err ?? new SshError(name, `no ssh-ed25519 host key received from ${name}`));
    };
    const timer = setTimeout(
      () => finish(new SshError(name, `host key scan of ${name} timed out after ${timeoutMs} ms`, { retryable: true })),
      timeoutMs,
    );
    c.on("error", (e) =>
      finish(
        parseErr ??
          (key
            ? undefined
            : new SshError(name, `host key scan of ${name} failed: ${e.message}`, {
                retryable: isTransportError(e),
                cause: e,
                hint: "check host, port and that sshd offers an ssh-ed25519 host key",
              })),
      ),
    );
    c.on("close", () => finish());
    c.connect({
      ...baseConfig(host, port, timeoutMs),
      username: "keyfleet-scan",
      hostVerifier: (blob: Buffer) => {
        try {
          key = hostKeyFromBlob(blob, `host key of ${name}`);
        } catch (e) {
          parseErr = e;
        }
        return false; // abort before authentication
      },
    });
  });
}

/**
 * A private key parsed once for many connections (SshPool keeps one per key text while it is
 * open). An ed25519 key signs through one node:crypto KeyObject: ssh2 would decode the key's PEM
 * again for every signature, about a millisecond of CPU per connection. The signature is the same
 * (ed25519 is deterministic).
 * @returns undefined when ssh2 cannot parse the text: connectPinned then reports it as for a string
 */
export function preparePrivateKey(text: string): ParsedKey | undefined {
  let parsed: ReturnType<typeof parseKey>;
  try {
    parsed = parseKey(text);
  } catch {
    return undefined;
  }
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) return undefined;
  if (parsed.type !== "ssh-ed25519") return parsed;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(parsed.getPrivatePEM());
  } catch {
    return parsed;
  }
  // an object whose prototype is ssh2's key: ssh2 sees a parsed key, and this sign() is found first
  const fast = Object.create(parsed) as ParsedKey;
  fast.sign = (data: Buffer | string) => sign(null, Buffer.from(data), key);
  return fast;
}

/**
 * User, key and agent of `t` for ssh2. The methods tried, in order: the private key (`key` when it
 * was parsed already, else the text, which ssh2 parses and refuses at once if it must), then the
 * agent; never "none", which ssh2 would try first: one more round trip, one more request for sshd.
 */
function credentials(t: SshTarget, key: ParsedKey | undefined): ConnectConfig {
  const cfg: ConnectConfig = { username: t.user };
  if (t.agent) cfg.agent = t.agent;
  if (!key) {
    if (t.privateKey) cfg.privateKey = t.privateKey;
    const names: AuthenticationType[] = [
      ...(t.privateKey ? ["publickey" as const] : []),
      ...(t.agent ? ["agent" as const] : []),
    ];
    return { ...cfg, authHandler: names };
  }
  const methods: (PublicKeyAuthMethod | AgentAuthMethod)[] = [{ type: "publickey", username: t.user, key }];
  if (t.agent) methods.push({ type: "agent", username: t.user, agent: t.agent });
  return { ...cfg, authHandler: methods as AuthMethod[] };
}

/**
 * Open an authenticated connection to `t`, refusing any host key other than the pinned one
 * before authentication. `o.key` is `t.privateKey` as {@link preparePrivateKey} parsed it.
 * @throws HostKeyMismatchError, HostKeyParseError, SshError
 */
export function connectPinned(
  t: SshTarget,
  o: { timeoutMs?: number; key?: ParsedKey } = {},
): Promise<{ client: Client; presented: PinnedHostKey }> {
  const pinned = parsePinnedHostKey(t.hostKey, `hostKey of ${targetName(t)}`);
  const port = t.port ?? DEFAULT_PORT;
  const name = targetName(t);
  const timeoutMs = o.timeoutMs ?? 15_000;
  if (!t.privateKey && !t.agent) {
    return Promise.reject(
      new SshError(name, `connection to ${name} has neither privateKey nor agent`, {
        hint: "set connection.privateKey or connection.agent",
      }),
    );
  }
  return new Promise((resolve, reject) => {
    const c = new Client();
    let presented: PinnedHostKey | undefined;
    let mismatch: HostKeyMismatchError | undefined;
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      c.removeAllListeners();
      c.on("error", () => undefined);
      c.destroy();
      reject(e);
    };
    c.once("ready", () => {
      if (settled) return;
      settled = true;
      c.removeAllListeners("error");
      c.on("error", () => undefined); // later errors surface on channels / close
      resolve({ client: c, presented: presented! });
    });
    c.on("error", (e) => {
      if (mismatch) return fail(mismatch);
      const level = (e as { level?: string }).level;
      const auth = level === "client-authentication";
      fail(
        new SshError(
          name,
          auth ? `authentication to ${name} as ${t.user} failed` : `connection to ${name} failed: ${e.message}`,
          {
            retryable: !auth && isTransportError(e),
            cause: e,
            hint: auth
              ? "check connection.user and connection.privateKey / agent"
              : "check that the host is reachable and sshd is running",
          },
        ),
      );
    });
    c.on("close", () =>
      fail(mismatch ?? new SshError(name, `connection to ${name} closed during handshake`, { retryable: true })),
    );
    const cfg: ConnectConfig = {
      ...baseConfig(t.host, port, timeoutMs),
      ...credentials(t, o.key),
      hostVerifier: (blob: Buffer) => {
        let k: PinnedHostKey;
        try {
          k = hostKeyFromBlob(blob, `host key of ${name}`);
        } catch {
          mismatch = new HostKeyMismatchError(name, pinned.fingerprint, "(unparseable key)");
          return false;
        }
        if (!sameHostKey(pinned, blob)) {
          mismatch = new HostKeyMismatchError(name, pinned.fingerprint, k.fingerprint);
          return false;
        }
        presented = k;
        return true;
      },
    };
    try {
      c.connect(cfg);
    } catch (e) {
      // ssh2 throws synchronously on unparseable private keys; never echo the key
      fail(
        new SshError(name, `cannot use connection.privateKey for ${name}: ${(e as Error).message}`, {
          hint: "pass an unencrypted OpenSSH ed25519 private key",
        }),
      );
    }
  });
}
