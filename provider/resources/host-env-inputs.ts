/**
 * HostEnv inputs as the provider receives them: types, per-property check, normalisation and the
 * canonical form diff compares. No network, no decryption: check and diff run during preview.
 */
import type * as pulumi from "@pulumi/pulumi";
import { formatFromPath, isSopsFormat, sopsFormatList, type SopsFormat } from "../sops";
import { ENV_FORMATS, KEY_RE, type EnvFormat } from "../render";
import { parsePinnedHostKey, DEFAULT_PORT, type SshTarget } from "../ssh";
import { KeyfleetError } from "../errors";
import { isRecord, isUnknown, messageOf, type Failure } from "./inputs";

/**
 * SSH connection: @pulumi/command's remote connection shape plus the pinned `hostKey`; exactly
 * provider/ssh's {@link SshTarget}, which it is handed to.
 */
export type HostEnvConnection = SshTarget;

/** One source as the provider receives it. */
export interface HostEnvSourceInput {
  /** sops file path, relative to the project directory. */
  path: string;
  /** sops format; default from the extension. */
  format?: SopsFormat;
  /** Dotted key names to take; default every top-level scalar. */
  keys?: string[];
  /** Prepended to every env name of this source. */
  prefix?: string;
  /** Source key → env name (applied before the prefix). */
  rename?: Record<string, string>;
  /** True when the SDK got a SecretFile (its keyed digests come in `sourceDigests`). */
  secretFile?: boolean;
}

/**
 * Options of an env file on a host, as plain values: HostEnv's provider inputs and the SDK's
 * `FleetEnvFile` share them (HostEnv's own SDK args take `pulumi.Input`s of the same).
 */
export interface EnvFileOptions {
  /** `dotenv` | `systemd` | `json`. Default: dotenv. */
  format?: EnvFormat;
  /** Octal mode string. Default: "0600". */
  mode?: string;
  /** Owner on the host. Default: the login user. */
  owner?: string;
  /** Group on the host. Default: the login user's group. */
  group?: string;
  /** systemd units restarted when the content changed. Default: none. */
  restartUnits?: string[];
  /** Shell command run on the host when the content changed. Default: none. */
  onChange?: string;
  /** Leave the file on the host when the env file (or its host) is removed. Default: false. */
  keepOnDelete?: boolean;
  /** Allow a mode with setuid, setgid or sticky bits or group / world write. Default: false (refused). */
  allowUnsafeMode?: boolean;
  /**
   * Put a failing restart command's stderr tail into the error. Default: false, the error carries the
   * exit code and how to see the output on the host. The output may leak values (no scrubber can
   * recognise every form a command may print them in), and errors reach Pulumi's output and CI logs.
   */
  showRestartOutput?: boolean;
}

/** Provider inputs. */
export interface HostEnvInputs extends EnvFileOptions {
  connection: HostEnvConnection;
  path: string;
  sources: HostEnvSourceInput[];
  /** Per source (same index): the SecretFile's keyed digests of the selected keys only. */
  sourceDigests?: Record<string, string>[];
  env?: Record<string, string>;
}

/** Inputs with every default applied; what diff compares and what outputs echo. */
export interface NormalInputs {
  connection: HostEnvConnection & { port: number };
  path: string;
  sources: HostEnvSourceInput[];
  sourceDigests: Record<string, string>[];
  env: Record<string, string>;
  format: EnvFormat;
  /** Four octal digits, e.g. "0600". */
  mode: string;
  owner: string;
  group: string;
  restartUnits: string[];
  onChange: string;
  keepOnDelete: boolean;
  allowUnsafeMode: boolean;
  showRestartOutput: boolean;
}

/** Default file mode. */
export const DEFAULT_MODE = "0600";
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/;
const MODE_RE = /^[0-7]{3,4}$/;
const UNIT_RE = /^[^\s\0-]\S{0,255}$/;

/** "0600" from a mode number. */
export function modeString(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

/** Normalised mode string ("600" → "0600"). */
export function normalMode(mode: string | undefined): string {
  const m = mode ?? DEFAULT_MODE;
  return m.length === 3 ? "0" + m : m;
}

const absent = (v: unknown) => v === undefined || v === null;
const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** Applies defaults (and drops nulls the engine may send for absent optionals). */
export function normalise(i: HostEnvInputs): NormalInputs {
  const c = i.connection;
  const connection: HostEnvConnection & { port: number } = {
    host: c.host,
    port: opt(c.port) ?? DEFAULT_PORT,
    user: c.user,
    hostKey: c.hostKey.trim(),
  };
  if (!absent(c.privateKey)) connection.privateKey = c.privateKey as string;
  if (!absent(c.agent)) connection.agent = c.agent as string;
  return {
    connection,
    path: i.path,
    sources: i.sources.map((s) => {
      const o: HostEnvSourceInput = {
        path: s.path,
        format: opt(s.format) ?? formatFromPath(s.path),
        secretFile: s.secretFile === true,
      };
      if (!absent(s.keys)) o.keys = [...(s.keys as string[])];
      if (!absent(s.prefix) && s.prefix !== "") o.prefix = s.prefix as string;
      if (!absent(s.rename)) o.rename = sortObject(s.rename as Record<string, string>);
      return o;
    }),
    sourceDigests: i.sources.map((_, k) => sortObject(opt(i.sourceDigests?.[k]) ?? {})),
    env: sortObject(opt(i.env) ?? {}),
    format: opt(i.format) ?? "dotenv",
    mode: normalMode(opt(i.mode)),
    owner: opt(i.owner) ?? "",
    group: opt(i.group) ?? "",
    restartUnits: [...(opt(i.restartUnits) ?? [])],
    onChange: opt(i.onChange) ?? "",
    keepOnDelete: opt(i.keepOnDelete) ?? false,
    allowUnsafeMode: opt(i.allowUnsafeMode) === true,
    showRestartOutput: opt(i.showRestartOutput) === true,
  };
}

/** A copy of `o` with sorted keys (stable comparison and rendering order). */
export function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** JSON with sorted object keys at every depth. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (isRecord(x) ? sortObject(x) : x));
}

function isStr(v: unknown): v is string {
  return typeof v === "string";
}

function checkConnection(c: unknown, f: Failure[]): void {
  if (isUnknown(c)) return;
  if (!isRecord(c)) {
    f.push({
      property: "connection",
      reason: "connection must be an object { host, port?, user, privateKey? | agent?, hostKey }",
    });
    return;
  }
  const { host, port, user, privateKey, agent, hostKey } = c;
  if (!isUnknown(host) && !(isStr(host) && host.trim() !== "" && !/\s/.test(host)))
    f.push({ property: "connection", reason: "connection.host must be a host name or address without spaces" });
  if (
    !absent(port) &&
    !isUnknown(port) &&
    !(typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535)
  )
    f.push({ property: "connection", reason: "connection.port must be an integer from 1 to 65535 (default 22)" });
  if (!isUnknown(user) && !(isStr(user) && user.trim() !== ""))
    f.push({ property: "connection", reason: "connection.user must be a non-empty login name" });
  if (!isUnknown(privateKey) && !absent(privateKey) && !isStr(privateKey))
    f.push({ property: "connection", reason: "connection.privateKey must be OpenSSH private key text" });
  if (!isUnknown(agent) && !absent(agent) && !isStr(agent))
    f.push({ property: "connection", reason: "connection.agent must be an ssh-agent socket path" });
  if (absent(privateKey) && absent(agent))
    f.push({ property: "connection", reason: "connection needs privateKey or agent (e.g. process.env.SSH_AUTH_SOCK)" });
  if (!isUnknown(hostKey)) {
    if (absent(hostKey))
      f.push({
        property: "connection",
        reason:
          'connection.hostKey is required: pin the host with a HostKey\'s publicKey or an "ssh-ed25519 AAAA…" line',
      });
    else {
      try {
        parsePinnedHostKey(String(hostKey), "connection.hostKey");
      } catch (e) {
        f.push({ property: "connection", reason: messageOf(e) });
      }
    }
  }
}

function checkSource(s: unknown, k: number, f: Failure[]): void {
  const at = `sources[${k}]`;
  if (isUnknown(s)) return;
  if (!isRecord(s)) {
    f.push({ property: "sources", reason: `${at} must be { file, keys?, prefix?, rename? }` });
    return;
  }
  const { path, keys, prefix, rename, format } = s;
  if (!isUnknown(path) && !(isStr(path) && path.trim() !== ""))
    f.push({ property: "sources", reason: `${at}.file must be a SecretFile or a sops file path` });
  if (!absent(format) && !isUnknown(format) && !isSopsFormat(format))
    f.push({ property: "sources", reason: `${at}.format must be ${sopsFormatList()}` });
  if (
    !absent(prefix) &&
    !isUnknown(prefix) &&
    !(isStr(prefix) && (prefix === "" || /^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)))
  ) {
    f.push({
      property: "sources",
      reason: `${at}.prefix must start with a letter or _ and hold only letters, digits and _`,
    });
  }
  const renames: Record<string, unknown> = isRecord(rename) ? rename : {};
  if (!absent(rename) && !isUnknown(rename)) {
    if (!isRecord(rename))
      f.push({ property: "sources", reason: `${at}.rename must map source key names to env names` });
    else
      for (const [from, to] of Object.entries(rename)) {
        if (!isUnknown(to) && !(isStr(to) && KEY_RE.test(to)))
          f.push({
            property: "sources",
            reason: `${at}.rename["${from}"] must be a valid env name ([A-Za-z_][A-Za-z0-9_]*)`,
          });
      }
  }
  if (!absent(keys) && !isUnknown(keys)) checkSourceKeys(at, keys, prefix, renames, f);
}

/** The `keys` of source `at`: a non-empty list whose names (after prefix and rename) are valid env names. */
function checkSourceKeys(
  at: string,
  keys: unknown,
  prefix: unknown,
  renames: Record<string, unknown>,
  f: Failure[],
): void {
  if (!Array.isArray(keys) || keys.length === 0) {
    f.push({
      property: "sources",
      reason: `${at}.keys must be a non-empty list of key names (omit it for every top-level key)`,
    });
    return;
  }
  const pre = isStr(prefix) ? prefix : "";
  for (const key of keys) {
    if (isUnknown(key)) continue;
    if (!isStr(key) || key === "") {
      f.push({ property: "sources", reason: `${at}.keys must hold non-empty strings` });
      continue;
    }
    const to = renames[key];
    if (isUnknown(to) || isUnknown(prefix)) continue;
    const name = pre + (isStr(to) ? to : key);
    if (!KEY_RE.test(name)) {
      f.push({
        property: "sources",
        reason: `${at}.keys: "${key}" gives env name "${name}", which is not a valid variable name; add rename: { "${key}": "${key.replace(/[^A-Za-z0-9_]/g, "_").toUpperCase()}" }`,
      });
    }
  }
  for (const from of Object.keys(renames)) {
    if (!keys.includes(from) && !keys.some(isUnknown))
      f.push({ property: "sources", reason: `${at}.rename names "${from}", which keys does not select` });
  }
}

/** Longest `path` accepted, in bytes (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** Mode bits refused unless `allowUnsafeMode`: setuid, setgid, sticky, group write, world write. */
const UNSAFE_MODE_BITS = 0o7022;

/** Why `path` is not an acceptable remote file path, or undefined. Length first: a huge path costs nothing and is never echoed. */
function pathProblem(path: unknown): string | undefined {
  if (!isStr(path)) return "path must be a string: an absolute file path on the host, e.g. /etc/myapp/app.env";
  if (path.length > MAX_PATH_BYTES || Buffer.byteLength(path) > MAX_PATH_BYTES)
    return `path is longer than ${MAX_PATH_BYTES} bytes`;
  if (/[\0\r\n]/.test(path)) return "path must not contain NUL, CR or LF";
  if (!path.startsWith("/") || path.endsWith("/"))
    return "path must be an absolute file path on the host, e.g. /etc/myapp/app.env";
  return undefined;
}

function checkPathAndMode(news: Record<string, unknown>, f: Failure[]): void {
  const path = news["path"];
  if (!isUnknown(path)) {
    const why = pathProblem(path);
    if (why) f.push({ property: "path", reason: why });
  }
  const { mode, allowUnsafeMode } = news;
  if (!absent(mode) && !isUnknown(mode)) {
    if (!(isStr(mode) && MODE_RE.test(mode)))
      f.push({ property: "mode", reason: 'mode must be an octal string such as "0600" (default) or "0640"' });
    else if ((parseInt(mode, 8) & UNSAFE_MODE_BITS) !== 0 && allowUnsafeMode !== true && !isUnknown(allowUnsafeMode)) {
      f.push({
        property: "mode",
        reason: `mode ${mode} has setuid, setgid, sticky, group-write or world-write bits; use e.g. "0600" or "0640", or set allowUnsafeMode: true if that is really meant`,
      });
    }
  }
  for (const k of ["allowUnsafeMode", "showRestartOutput"] as const) {
    const v = news[k];
    if (!absent(v) && !isUnknown(v) && typeof v !== "boolean")
      f.push({ property: k, reason: `${k} must be a boolean (default false)` });
  }
}

/** Per-property validation; unknown values are skipped. No network, no file access. */
export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  return { inputs: news, failures: failuresOf(news) };
}

/** Invalid HostEnv inputs reached a provider method (check did not run, or the state holds them). */
export class HostEnvInputError extends KeyfleetError {
  /** The failures, as check reports them. */
  readonly failures: readonly Failure[];
  constructor(op: string, failures: readonly Failure[]) {
    const list = failures
      .slice(0, 8)
      .map((x) => `${x.property}: ${x.reason}`)
      .join("; ");
    super(
      "HOSTENV_INPUT",
      `HostEnv ${op} refused invalid inputs: ${list}${failures.length > 8 ? `; and ${failures.length - 8} more` : ""}`,
      { hint: "fix these inputs; the provider checks them in every method, not only in check" },
    );
    this.failures = failures;
  }
}

/**
 * The checks of {@link check}, run again by every CRUD method so nothing relies on check having run.
 * `scope: "target"` (read, delete) checks only what those touch: the connection and the path.
 * @throws HostEnvInputError
 */
export function assertValid(op: string, news: Record<string, unknown>, scope: "all" | "target" = "all"): void {
  const f: Failure[] = [];
  if (scope === "all") f.push(...failuresOf(news));
  else {
    checkConnection(news["connection"], f);
    const why = pathProblem(news["path"]);
    if (why) f.push({ property: "path", reason: why });
  }
  if (f.length > 0) throw new HostEnvInputError(op, f);
}

/** Every failure of `news` (unknown values skipped). */
function failuresOf(news: Record<string, unknown>): Failure[] {
  const f: Failure[] = [];
  checkConnection(news["connection"], f);
  checkPathAndMode(news, f);
  const sources = news["sources"];
  if (!isUnknown(sources)) {
    if (!Array.isArray(sources))
      f.push({ property: "sources", reason: "sources must be a list of { file, keys?, prefix?, rename? }" });
    else sources.forEach((s, k) => checkSource(s, k, f));
  }
  const env = news["env"];
  if (!absent(env) && !isUnknown(env)) {
    if (!isRecord(env)) f.push({ property: "env", reason: "env must map names to plain string values" });
    else
      for (const [k, v] of Object.entries(env)) {
        if (!KEY_RE.test(k))
          f.push({ property: "env", reason: `env key "${k}" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)` });
        if (!isUnknown(v) && !isStr(v)) f.push({ property: "env", reason: `env.${k} must be a string` });
      }
  }
  const { format, owner, group, restartUnits, onChange, keepOnDelete } = news;
  if (!absent(format) && !isUnknown(format) && !ENV_FORMATS.includes(format as EnvFormat))
    f.push({ property: "format", reason: `format must be one of ${ENV_FORMATS.join(", ")} (default dotenv)` });
  for (const [k, v] of [
    ["owner", owner],
    ["group", group],
  ] as const) {
    if (!absent(v) && !isUnknown(v) && !(isStr(v) && NAME_RE.test(v)))
      f.push({ property: k, reason: `${k} must be a user or group name on the host` });
  }
  if (!absent(restartUnits) && !isUnknown(restartUnits)) {
    if (!Array.isArray(restartUnits) || restartUnits.some((u) => !isUnknown(u) && !(isStr(u) && UNIT_RE.test(u)))) {
      f.push({
        property: "restartUnits",
        reason: 'restartUnits must be a list of systemd unit names such as "myapp.service"',
      });
    }
  }
  if (
    !absent(onChange) &&
    !isUnknown(onChange) &&
    !(isStr(onChange) && onChange.trim() !== "" && !onChange.includes("\0"))
  )
    f.push({ property: "onChange", reason: "onChange must be a non-empty shell command" });
  if (!absent(onChange) && Array.isArray(restartUnits) && restartUnits.length > 0)
    f.push({ property: "onChange", reason: "give restartUnits or onChange, not both" });
  if (!absent(keepOnDelete) && !isUnknown(keepOnDelete) && typeof keepOnDelete !== "boolean")
    f.push({ property: "keepOnDelete", reason: "keepOnDelete must be a boolean (default false)" });
  return f;
}

/** The format of a source. */
export function sourceFormat(s: HostEnvSourceInput): SopsFormat {
  return s.format ?? formatFromPath(s.path);
}
