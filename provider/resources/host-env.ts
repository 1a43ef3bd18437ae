/**
 * The HostEnv resource: an env file materialised from sops sources and pushed over SSH to a host
 * pinned by its host key.
 *
 * - check / diff run in preview: no network, no decryption (diff reads plain-path sources' encrypted
 *   text only to notice a change).
 * - create / update decrypt in memory, render, compare the sha256 of the new content with the
 *   remote file's, and write (atomically, verified) only when the content, mode, owner or group
 *   differ. The restart runs only when the content changed (or a failed restart is pending).
 * - read stats and digests the remote file: missing, changed content or a changed host key is
 *   recorded in `drift`, and mode / owner / group reflect the host, so the next up repairs it.
 * - Outputs carry names, fingerprints and keyed digests, never values.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { HostKeyMismatchError, parsePinnedHostKey, type RemoteStat, type SshSession } from "../ssh";
import { KeyfleetError } from "../errors";
import type { EnvFormat } from "../render";
import { containsUnknown, isRecord, isUnknown } from "./inputs";
import {
  assertValid,
  modeString,
  normalise,
  stableJson,
  type HostEnvConnection,
  type HostEnvInputs,
  type HostEnvSourceInput,
  type NormalInputs,
} from "./host-env-inputs";
import { contentDigest, digestKeyForRead, materialise, sourceFileSha, type Materialised } from "./host-env-content";
import { hostEnvOlds } from "./olds";
import {
  markerExists,
  markerPath,
  RestartError,
  restartArgv,
  runRestart,
  setMarker,
  withHost,
} from "./host-env-remote";

export { check } from "./host-env-inputs";

/** Outputs recorded in state (no values; `connection` and the digests are secret outputs). */
export interface HostEnvOutputs {
  connection: HostEnvConnection & { port: number };
  host: string;
  port: number;
  user: string;
  path: string;
  format: EnvFormat;
  /** Mode on the host ("0600"). */
  mode: string;
  /** Owner and group on the host. */
  owner: string;
  group: string;
  sources: HostEnvSourceInput[];
  sourceDigests: Record<string, string>[];
  /** sha256 of plain-path sources' encrypted text ("" for SecretFile sources). */
  sourceFiles: string[];
  env: Record<string, string>;
  restartUnits: string[];
  onChange: string;
  keepOnDelete: boolean;
  /** Env names in the file. */
  keyNames: string[];
  /** `SHA256:…` of the pinned host key. */
  hostFingerprint: string;
  /** Keyed digest of the content on the host at the last apply or refresh ("" when missing). */
  contentDigest: string;
  /** Keyed digest of the content keyfleet wrote. */
  writtenDigest: string;
  /** True when the last apply ran the restart. */
  restarted: boolean;
  /** What the last refresh found wrong ("missing", "content changed", "host key changed …"); empty after an apply. */
  drift: string[];
}

/** Outputs that are secret (derived from secret inputs). */
export const SECRET_OUTPUTS = ["connection", "sourceDigests", "contentDigest", "writtenDigest"];

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const where = (n: { connection: { host: string; port: number }; path: string }) =>
  `${n.connection.host}:${n.connection.port}:${n.path}`;

function attrsDiffer(st: RemoteStat, mode: number, n: NormalInputs): boolean {
  return (
    !st.exists ||
    st.mode !== mode ||
    (n.owner !== "" && st.owner !== n.owner) ||
    (n.group !== "" && st.group !== n.group)
  );
}

/**
 * Materialise, push when needed, restart when the content changed.
 *
 * Partial failure policy: a Create whose restart fails ROLLS BACK. When the file did not exist
 * before, the env file and its restart marker are removed again and the error says so, because the
 * engine records nothing for a failed Create and would never delete them. An Update whose restart
 * fails keeps the new file and the marker (the engine keeps tracking the resource), and the next
 * up retries the restart.
 */
async function apply(n: NormalInputs, creating = false): Promise<HostEnvOutputs> {
  const m = await materialise(n.sources, n.env, n.format);
  const sha = sha256(m.content);
  const mode = parseInt(n.mode, 8);
  const sourceFiles = n.sources.map((s) => (s.secretFile ? "" : sourceFileSha(s.path)));
  const argv = restartArgv(n.restartUnits, n.onChange);
  const w = where(n);
  return withHost(n.connection, async (s) => {
    const before = await s.stat(n.path);
    const contentChanged = !before.exists || before.sha256 !== sha;
    // the marker is set before the write, so a restart lost to a failure is retried next time
    const pending =
      argv === undefined
        ? false
        : contentChanged
          ? (await setMarker(s, w, n.path), true)
          : await markerExists(s, n.path);
    const after =
      contentChanged || attrsDiffer(before, mode, n) ? await writeVerified(s, n, m.content, sha, mode) : before;
    if (argv !== undefined && pending) await restartOrRollBack(s, n, argv, m, creating && !before.exists);
    return hostEnvOutputs(n, m, {
      mode: modeString(after.mode ?? mode),
      owner: after.owner ?? "",
      group: after.group ?? "",
      sourceFiles,
      sha,
      restarted: argv !== undefined && pending,
    });
  });
}

/**
 * Writes the env file atomically with its mode, owner and group, and checks the read-back digest.
 * @returns the file's stat after the write
 * @throws KeyfleetError `HOSTENV_VERIFY` when what is on the host is not what was sent
 */
async function writeVerified(
  s: SshSession,
  n: NormalInputs,
  content: Buffer,
  sha: string,
  mode: number,
): Promise<RemoteStat> {
  const w = where(n);
  const o: { mode: number; owner?: string; group?: string } = { mode };
  if (n.owner !== "") o.owner = n.owner;
  if (n.group !== "") o.group = n.group;
  const res = await s.writeFileAtomic(n.path, content, o);
  if (res.sha256 !== sha)
    throw new KeyfleetError("HOSTENV_VERIFY", `read-back digest of ${w} does not match what was sent`, {
      file: w,
      hint: "another process may be writing the same file",
    });
  // the script read the digest back through the inode it wrote and checked that inode is at the
  // path; its mode, owner and group come from the same lstat (no second round trip)
  return { exists: true, sha256: res.sha256, mode: res.mode, owner: res.owner, group: res.group };
}

/**
 * Runs the restart. When it fails for a file this Create put there (`rollBack`), the file and its
 * marker are removed again and the error says so (see {@link apply}).
 */
async function restartOrRollBack(
  s: SshSession,
  n: NormalInputs,
  argv: NonNullable<ReturnType<typeof restartArgv>>,
  m: Materialised,
  rollBack: boolean,
): Promise<void> {
  const w = where(n);
  try {
    await runRestart(s, w, n.path, argv, [...m.secretValues, m.content.toString("utf8")], {
      showOutput: n.showRestartOutput,
      login: { user: n.connection.user, host: n.connection.host, port: n.connection.port },
    });
  } catch (e) {
    if (!rollBack || !(e instanceof RestartError)) throw e;
    await s.remove(n.path);
    await s.remove(markerPath(n.path));
    throw rolledBack(e, w);
  }
}

/** The outputs after an apply: inputs as given, attributes as found on the host, digests. */
function hostEnvOutputs(
  n: NormalInputs,
  m: Materialised,
  r: { mode: string; owner: string; group: string; sourceFiles: string[]; sha: string; restarted: boolean },
): HostEnvOutputs {
  const digest = contentDigest(m.digestKey, n.path, r.sha);
  return {
    connection: n.connection,
    host: n.connection.host,
    port: n.connection.port,
    user: n.connection.user,
    path: n.path,
    format: n.format,
    mode: r.mode,
    owner: r.owner,
    group: r.group,
    sources: n.sources,
    sourceDigests: n.sourceDigests,
    sourceFiles: r.sourceFiles,
    env: n.env,
    restartUnits: n.restartUnits,
    onChange: n.onChange,
    keepOnDelete: n.keepOnDelete,
    keyNames: m.keyNames,
    hostFingerprint: parsePinnedHostKey(n.connection.hostKey, "connection.hostKey").fingerprint,
    contentDigest: digest,
    writtenDigest: digest,
    restarted: r.restarted,
    drift: [],
  };
}

/** The error of a Create rolled back after its restart failed (the restart's own message first). */
function rolledBack(e: RestartError, w: string): KeyfleetError {
  const base =
    e.hint !== undefined && e.message.endsWith(`; ${e.hint}`) ? e.message.slice(0, -(e.hint.length + 2)) : e.message;
  return new KeyfleetError("HOSTENV_RESTART", `${base}; create rolled back: ${w} and its restart marker were removed`, {
    file: w,
    hint: "fix the restart command or the service and run up again (the file is then written and the restart run)",
    cause: e,
  });
}

/** Pushes the file; the id is `host:port:path`. */
export async function create(i: HostEnvInputs): Promise<pulumi.dynamic.CreateResult> {
  assertValid("create", i as unknown as Record<string, unknown>);
  const n = normalise(i);
  return { id: where(n), outs: await apply(n, true) };
}

/** Re-materialises and pushes when anything differs on the host. */
export async function update(
  _id: string,
  _olds: HostEnvOutputs,
  news: HostEnvInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  assertValid("update", news as unknown as Record<string, unknown>);
  return { outs: await apply(normalise(news)) };
}

/**
 * Stats and digests the remote file. A missing file, changed content or a changed host key goes
 * into `drift`; mode, owner and group take the host's values. An unreachable host keeps the state.
 */
export async function read(id: string, recorded: HostEnvOutputs): Promise<pulumi.dynamic.ReadResult> {
  // validated as recorded (before missing fields are completed, so a missing hostKey is named as such)
  assertValid("read", recorded as unknown as Record<string, unknown>, "target");
  const props = hostEnvOlds(recorded);
  let st: RemoteStat;
  try {
    st = await withHost(props.connection, (s) => s.stat(props.path));
  } catch (e) {
    if (e instanceof HostKeyMismatchError)
      return { id, props: { ...props, drift: [`host key changed: pinned ${e.expected}, presented ${e.presented}`] } };
    return { id, props };
  }
  if (!st.exists)
    return {
      id,
      props: { ...props, contentDigest: "", drift: [st.other ? `not a regular file: ${st.other}` : "missing"] },
    };
  const drift: string[] = [];
  let digest = props.contentDigest;
  try {
    digest = contentDigest(await digestKeyForRead(props.sources ?? []), props.path, st.sha256 ?? "");
    if (digest !== props.writtenDigest) drift.push("content changed");
  } catch {
    // no identity here to key the digest: mode and owner are still refreshed
  }
  return {
    id,
    props: {
      ...props,
      mode: modeString(st.mode ?? 0),
      owner: st.owner ?? "",
      group: st.group ?? "",
      contentDigest: digest,
      drift,
    },
  };
}

const COMPARED = [
  "connection",
  "sources",
  "sourceDigests",
  "env",
  "format",
  "restartUnits",
  "onChange",
  "keepOnDelete",
] as const;

/**
 * Replace when the host, port or path change; update when any other input, a SecretFile source's
 * selected digests, a plain-path source's file or the host (drift) changed. Unknowns → update.
 *
 * A replacement deletes the old file first: the old and the new name may be the same file (an IP
 * replaced by the host's DNS name, sshd moved to another port, `/etc/app/./a.env`), and the default
 * create-then-delete would remove the file it just wrote.
 */
export async function diff(
  _id: string,
  oldOuts: HostEnvOutputs,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  const olds = hostEnvOlds(oldOuts);
  assertValid("diff", news);
  const some = (replaces: string[] = []): pulumi.dynamic.DiffResult => ({
    changes: true,
    replaces,
    deleteBeforeReplace: replaces.length > 0,
  });
  const c = news["connection"];
  const replaces: string[] = [];
  if (
    !isRecord(c) ||
    isUnknown(c["host"]) ||
    c["host"] !== olds.host ||
    isUnknown(c["port"]) ||
    ((c["port"] as number | undefined | null) ?? 22) !== olds.port
  )
    replaces.push("connection");
  if (isUnknown(news["path"]) || news["path"] !== olds.path) replaces.push("path");
  if (replaces.length > 0) return some(replaces);
  if (containsUnknown(news)) return some();
  const n = normalise(news as unknown as HostEnvInputs);
  for (const k of COMPARED) if (stableJson(n[k]) !== stableJson(olds[k])) return some();
  if (n.mode !== olds.mode || (n.owner !== "" && n.owner !== olds.owner) || (n.group !== "" && n.group !== olds.group))
    return some();
  if ((olds.drift ?? []).length > 0) return some();
  for (const [k, s] of n.sources.entries()) {
    if (s.secretFile) continue;
    try {
      if (sourceFileSha(s.path) !== olds.sourceFiles?.[k]) return some();
    } catch {
      return some(); // update reports why the file cannot be read
    }
  }
  return { changes: false, replaces: [], deleteBeforeReplace: false };
}

/** Removes the file (and a pending restart marker) unless `keepOnDelete`. */
export async function deleteResource(_id: string, recorded: HostEnvOutputs): Promise<void> {
  const props = hostEnvOlds(recorded);
  if (props.keepOnDelete) return;
  assertValid("delete", recorded as unknown as Record<string, unknown>, "target");
  await withHost(props.connection, async (s) => {
    await s.remove(props.path);
    await s.remove(markerPath(props.path));
  });
}
export { deleteResource as delete };
