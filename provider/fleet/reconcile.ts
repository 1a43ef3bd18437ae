/**
 * The Pulumi-free reconciler behind `keyfleet push`, `provision` and `deprovision`.
 *
 * It keeps no state: the desired state is `fleet.yaml` plus the sops files (see desired.ts), the
 * actual state is read from the files (their recipients) and the hosts (read-back digests). It
 * drives the same provider code as `pulumi up`: SecretFile's `reconcile` for each file and
 * HostEnv's `create` (stat, write only on a difference, restart only on a change) for each env
 * file, so a CLI push and an up of one inventory leave the same files and hosts.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { recipientDelta } from "../age";
import { canonicalRecipientText, deriveRecipientName, type NamedRecipient } from "../access/names";
import { DEFAULT_AUDIT_LOG, namesFromAudit, readAudit } from "../access/audit-log";
import type { Exposure } from "../access/exposure";
import { isKeyfleetError } from "../errors";
import { readMetadata } from "../sops";
import { reconcile as reconcileFile } from "../resources/secret-file";
import { formatOf } from "../resources/secret-file-inputs";
import { create as pushEnv } from "../resources/host-env";
import { materialise } from "../resources/host-env-content";
import { normalise } from "../resources/host-env-inputs";
import {
  closeHostEnvPool,
  hostEnvPool,
  releaseHost,
  markerExists,
  markerPath,
  restartArgv,
  withHost,
} from "../resources/host-env-remote";
import { DEFAULT_HOST_CONCURRENCY } from "../ssh";
import type { DesiredEnv, DesiredFile, DesiredFleet } from "./desired";

/** Default number of hosts pushed at once: the SSH pool's one limit ({@link DEFAULT_HOST_CONCURRENCY}). */
export const DEFAULT_CONCURRENCY = DEFAULT_HOST_CONCURRENCY;

/** What will change in one secret file. */
export interface FilePlan {
  readonly name: string;
  readonly path: string;
  /** False when the file does not exist yet (it is created with the planned recipients). */
  readonly exists: boolean;
  /** Recipient names that gain access. */
  readonly gains: string[];
  /** Recipient names (as known) that lose access: the data key is rotated. */
  readonly loses: string[];
}

/** What will happen to one env file. */
export type EnvStatus = "new" | "update" | "unchanged" | "restart pending";

/** One host's planned env files, or why it cannot be reached. */
export interface HostPlan {
  readonly host: string;
  readonly envs: { path: string; status: EnvStatus }[];
  /** Set when the host could not be reached or its env files cannot be rendered. */
  readonly error?: string;
}

/** The whole plan. */
export interface ChangePlan {
  readonly files: FilePlan[];
  readonly hosts: HostPlan[];
}

/** What applying did to one file. */
export interface FileResult {
  readonly name: string;
  readonly path: string;
  readonly changed: boolean;
  /** What recipients removed now could read (rotate these values). */
  readonly exposure: Exposure[];
}

/** What applying did on one host. */
export interface HostResult {
  readonly host: string;
  readonly envs: { path: string; written: boolean; restarted: boolean }[];
  /** Set when the host failed; the others go on. */
  readonly error?: string;
}

/** The error text for a plan or result: a KeyfleetError's message (never a value), else the error's. */
function why(e: unknown): string {
  if (isKeyfleetError(e)) return e.message;
  return e instanceof Error ? e.message : String(e);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(resolve(process.cwd(), path), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Runs `fn` over `items` with at most `limit` at once, in order of start; never rejects. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Recipient changes of one file, read from its sops metadata (no key needed). */
export function planFile(f: DesiredFile, previous: readonly NamedRecipient[] = []): FilePlan {
  const text = readText(f.inputs.path);
  if (text === undefined)
    return {
      name: f.name,
      path: f.inputs.path,
      exists: false,
      gains: f.inputs.recipients.map((r) => r.name),
      loses: [],
    };
  const have = readMetadata(text, formatOf(f.inputs), f.inputs.path).recipients;
  const delta = recipientDelta(have, f.inputs.recipients, (r) => r.recipient);
  const logged =
    delta.removed.length > 0
      ? namesFromAudit(readAudit(f.inputs.auditLog ?? DEFAULT_AUDIT_LOG))
      : new Map<string, string>();
  const nameOf = (r: string): string => {
    const c = canonicalRecipientText(r);
    return (
      previous.find((p) => canonicalRecipientText(p.recipient) === c)?.name ?? logged.get(c) ?? deriveRecipientName(r)
    );
  };
  return {
    name: f.name,
    path: f.inputs.path,
    exists: true,
    gains: delta.added.map((r) => r.name),
    loses: delta.removed.map(nameOf),
  };
}

/** The status of one env file on a reachable host: rendered here, compared with the host's digest. */
async function envStatus(e: DesiredEnv): Promise<EnvStatus> {
  const n = normalise(e.inputs);
  const m = await materialise(n.sources, n.env, n.format);
  const sha = createHash("sha256").update(m.content).digest("hex");
  return withHost(n.connection, async (s) => {
    const st = await s.stat(n.path);
    if (!st.exists) return "new";
    const attrs =
      st.mode !== parseInt(n.mode, 8) ||
      (n.owner !== "" && st.owner !== n.owner) ||
      (n.group !== "" && st.group !== n.group);
    if (st.sha256 !== sha || attrs) return "update";
    if (restartArgv(n.restartUnits, n.onChange) !== undefined && (await markerExists(s, n.path)))
      return "restart pending";
    return "unchanged";
  });
}

/** Hosts of `d` selected by `only` (all when empty), in inventory order. */
export function selectedHosts(d: DesiredFleet, only: readonly string[] = []): string[] {
  const all = [...new Set([...d.envs.map((e) => e.host), ...Object.keys(d.hostProblems)])];
  return only.length === 0 ? all : all.filter((h) => only.includes(h));
}

/** Plans one host: each env file's status, or the host's error. */
export async function planHost(d: DesiredFleet, host: string): Promise<HostPlan> {
  const problem = d.hostProblems[host];
  if (problem !== undefined) return { host, envs: [], error: problem };
  const envs: { path: string; status: EnvStatus }[] = [];
  try {
    for (const e of d.envs.filter((x) => x.host === host))
      envs.push({ path: e.inputs.path, status: await envStatus(e) });
  } catch (err) {
    return { host, envs, error: why(err) };
  } finally {
    // done with this host: a push holds at most `concurrency` connections, not one per host
    for (const e of d.envs.filter((x) => x.host === host)) await releaseHost(e.inputs.connection);
  }
  return { host, envs };
}

/**
 * The plan: recipient changes per file (no key needed), then each selected host's env files
 * compared with the host, `concurrency` hosts at once. Writes nothing.
 */
export async function planChanges(
  d: DesiredFleet,
  o: {
    hosts?: readonly string[];
    files?: readonly string[];
    concurrency?: number;
    previous?: readonly NamedRecipient[];
  } = {},
): Promise<ChangePlan> {
  const files = d.files
    .filter((f) => o.files === undefined || o.files.includes(f.name))
    .map((f) => planFile(f, o.previous));
  const conc = o.concurrency ?? DEFAULT_CONCURRENCY;
  hostEnvPool().setConcurrency(conc);
  const hosts = await mapLimit(selectedHosts(d, o.hosts), conc, (h) => planHost(d, h));
  return { files, hosts };
}

/** True when the plan changes nothing. */
export function nothingToDo(p: ChangePlan): boolean {
  return (
    p.files.every((f) => f.exists && f.gains.length === 0 && f.loses.length === 0) &&
    p.hosts.every((h) => h.error === undefined && h.envs.every((e) => e.status === "unchanged"))
  );
}

/**
 * Brings each file to its planned recipients (and managed values) through SecretFile's reconcile:
 * additions wrap the same data key, a removal rotates it and reports the exposure, every write is
 * atomic and audited. `previous` names recipients that leave.
 */
export async function applyFiles(
  files: readonly DesiredFile[],
  previous: readonly NamedRecipient[] = [],
): Promise<FileResult[]> {
  const out: FileResult[] = [];
  for (const f of files) {
    const before = readText(f.inputs.path);
    const outs = await reconcileFile(f.inputs, [], previous, false);
    const changed = before === undefined || createHash("sha256").update(before).digest("hex") !== outs.fileSha256;
    out.push({ name: f.name, path: f.inputs.path, changed, exposure: changed ? outs.exposure : [] });
  }
  return out;
}

/**
 * Pushes one host's env files through HostEnv's create: rendered in memory, written atomically
 * and read back only where the host differs, restarted only on a change (or a pending restart).
 * Never throws: a failure is the result's `error`.
 */
export async function applyHost(d: DesiredFleet, host: string): Promise<HostResult> {
  const problem = d.hostProblems[host];
  if (problem !== undefined) return { host, envs: [], error: problem };
  const envs: { path: string; written: boolean; restarted: boolean }[] = [];
  try {
    for (const e of d.envs.filter((x) => x.host === host)) {
      const status = await envStatus(e);
      if (status === "unchanged") {
        envs.push({ path: e.inputs.path, written: false, restarted: false });
        continue;
      }
      const r = await pushEnv(e.inputs);
      envs.push({
        path: e.inputs.path,
        written: status !== "restart pending",
        restarted: (r.outs as { restarted?: boolean }).restarted === true,
      });
    }
  } catch (err) {
    return { host, envs, error: why(err) };
  } finally {
    // done with this host: a push holds at most `concurrency` connections, not one per host
    for (const e of d.envs.filter((x) => x.host === host)) await releaseHost(e.inputs.connection);
  }
  return { host, envs };
}

/** Pushes the selected hosts, `concurrency` at once; `onHost` hears each as it finishes. */
export async function applyHosts(
  d: DesiredFleet,
  o: { hosts?: readonly string[]; concurrency?: number; onHost?: (r: HostResult) => void } = {},
): Promise<HostResult[]> {
  const conc = o.concurrency ?? DEFAULT_CONCURRENCY;
  hostEnvPool().setConcurrency(conc);
  return mapLimit(selectedHosts(d, o.hosts), conc, async (h) => {
    const r = await applyHost(d, h);
    o.onHost?.(r);
    return r;
  });
}

/**
 * Removes env files from their host (and a pending restart marker), as HostEnv's delete does,
 * unless `keepOnDelete`. All of `envs` must be on one host. Returns the paths removed.
 * @throws the connection's error when the host is unreachable
 */
export async function removeEnvs(envs: readonly DesiredEnv[]): Promise<string[]> {
  const remove = envs.map((e) => normalise(e.inputs)).filter((n) => !n.keepOnDelete);
  const first = remove[0];
  if (first === undefined) return [];
  return withHost(first.connection, async (s) => {
    for (const n of remove) {
      await s.remove(n.path);
      await s.remove(markerPath(n.path));
    }
    return remove.map((n) => n.path);
  });
}

/** Closes the pooled SSH connections (the end of a CLI run). */
export function closeConnections(): Promise<void> {
  return closeHostEnvPool();
}
