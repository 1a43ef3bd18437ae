/**
 * The CLI's entries in the project audit log (`.keyfleet/audit.jsonl`, written by
 * provider/access/audit-log): file, operation, recipients added/removed with names and
 * fingerprints, key names changed, exposure of removed recipients. Never values.
 */
import { dirname, relative, resolve } from "node:path";
import { resolveActor } from "../provider/access/actor";
import {
  appendAudit,
  auditEntry,
  DEFAULT_AUDIT_LOG,
  type AuditEntry,
  type AuditOperation,
  type PendingDigests,
} from "../provider/access/audit-log";
import { computeExposure, exposureMessage, type ListedKey } from "../provider/access/exposure";
import { canonicalRecipientText, deriveRecipientName, fingerprinted } from "../provider/access/names";
import { loadNames, projectDir } from "./recipient-names";

/** What one CLI change did to one file. */
export interface CliChange {
  /** The file as given on the command line. */
  file: string;
  operation: AuditOperation;
  /** Recipients added, as given (an ssh key's comment names it when no other name is known). */
  added?: readonly string[];
  removed?: readonly string[];
  /** Dotted key names whose values changed. */
  keysChanged?: readonly string[];
  /** Of keysChanged, the new keys; and the keys removed (edit tells them apart). */
  keysAdded?: readonly string[];
  keysRemoved?: readonly string[];
  /** Keys of the file before the change (for the exposure of removed recipients). */
  keysBefore?: readonly ListedKey[];
  /** `--reason TEXT`. */
  reason?: string;
  /** Digests of the values pending rotation after the change (cli/pending-view cliPendingDigests). */
  pending?: PendingDigests;
  /** Exposure by hand (`keyfleet exposed`): who could read the keys, e.g. "marked by hand". */
  exposedBy?: string;
  /** Keys marked exposed by hand. */
  exposedKeys?: readonly string[];
  /** Who made the change, when already known (provider/access/actor resolveActorLater); else resolved here. */
  actor?: string;
}

/** A file's path as the audit log of its project names it (relative to the project directory). */
export function auditPath(file: string, batch?: AuditBatch): string {
  return relative(batch ? batch.projectDir(file) : projectDir(file), resolve(file)) || file;
}

/**
 * What {@link recordChange} looks up per project, remembered for one command over many files: the
 * project directory of each file's directory, the recipient names and the actor (git config) of
 * each project. Names are read once, before the command's own entries (which only repeat them).
 */
export interface AuditBatch {
  projectDir(file: string): string;
  names(dir: string): Map<string, string>;
  actor(dir: string): string;
}

/** A fresh {@link AuditBatch}. */
export function auditBatch(): AuditBatch {
  const dirs = new Map<string, string>();
  const names = new Map<string, Map<string, string>>();
  const actors = new Map<string, string>();
  return {
    projectDir(file) {
      const d = dirname(resolve(file));
      let p = dirs.get(d);
      if (p === undefined) dirs.set(d, (p = projectDir(file)));
      return p;
    },
    names(dir) {
      let n = names.get(dir);
      if (!n) names.set(dir, (n = loadNames(dir)));
      return n;
    },
    actor(dir) {
      let a = actors.get(dir);
      if (a === undefined) actors.set(dir, (a = resolveActor(dir)));
      return a;
    },
  };
}

/** A change ready to log: its project directory, the file as the log names it, the entry and the exposure message. */
export interface PreparedChange {
  dir: string;
  rel: string;
  entry: AuditEntry;
  message: string;
}

/** The audit entry of a change, with where it goes; nothing is written. */
export function prepareChange(c: CliChange, batch?: AuditBatch): PreparedChange {
  const dir = batch ? batch.projectDir(c.file) : projectDir(c.file);
  // read only when a recipient is named: a `set` adds and removes none (start-up, issue 13 §4)
  let names: Map<string, string> | undefined;
  const named = (r: string) => {
    names ??= batch ? batch.names(dir) : loadNames(dir);
    return fingerprinted({ name: names.get(canonicalRecipientText(r)) ?? deriveRecipientName(r), recipient: r });
  };
  const removed = (c.removed ?? []).map(named);
  const exposure = computeExposure(removed, c.keysBefore ?? []);
  if (c.exposedKeys?.length)
    exposure.push({ recipient: c.exposedBy ?? "marked by hand", fingerprint: "", keys: [...c.exposedKeys] });
  const rel = auditPath(c.file, batch);
  const entry = auditEntry(rel, c.operation, "cli", {
    recipientsAdded: (c.added ?? []).map(named),
    recipientsRemoved: removed,
    keysChanged: [...(c.keysChanged ?? [])],
    ...(c.keysAdded ? { keysAdded: [...c.keysAdded] } : {}),
    ...(c.keysRemoved ? { keysRemoved: [...c.keysRemoved] } : {}),
    exposure,
    actor: c.actor ?? (batch ? batch.actor(dir) : resolveActor(dir)),
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.pending ? { pending: c.pending } : {}),
  });
  return { dir, rel, entry, message: exposureMessage(rel, exposure) };
}

/**
 * Appends a change that writes no file (`keyfleet exposed`) to the audit log of the file's project
 * and returns the exposure message ("" when nobody was removed). A change that writes a file goes
 * through cli/audit-ahead.ts instead, so that a kill between the write and the entry loses nothing.
 */
export function recordChange(c: CliChange, batch?: AuditBatch): string {
  const p = prepareChange(c, batch);
  appendAudit(DEFAULT_AUDIT_LOG, p.entry, p.dir);
  return p.message;
}
