/**
 * Pending rotations: values someone else could read, from the moment they were exposed (a
 * recipient removed, or marked by hand with `keyfleet exposed`) until the value actually changes.
 *
 * A change is detected with keyed digests (secret-file-digests' `valueDigest`, HMAC under a key
 * derived from the file's data key), recorded in the audit log's `pending` field: an exposure
 * records the digests of the exposed values; each later keyfleet write of the file records them
 * again (under its data key after the write). Same data key and another digest: the value
 * changed and the rotation is done. Nothing else clears a pending rotation.
 */
import { keyedDigest, type DecryptedLeaf } from "../sops";
import type { AuditEntry, PendingDigests } from "./audit-log";
import { leafDigests } from "./value-digests";

/** One value to rotate. */
export interface PendingRotation {
  readonly file: string;
  /** Dotted key name. */
  readonly key: string;
  /** ISO time of the first exposure still pending. */
  readonly since: string;
  /** Whole days since then. */
  readonly days: number;
  /** Who could read it (recipient names, or "marked by hand"). */
  readonly exposedTo: string[];
  /** The reason given with the exposure, if any. */
  readonly reason?: string;
  /**
   * True when the value was compared with the current file just now (or by the last write);
   * false when keyfleet cannot tell (no identity, or the data key changed outside keyfleet).
   */
  readonly checked: boolean;
}

/** Digests of a file as it is now. */
export interface CurrentDigests {
  readonly dataKeyId: string;
  readonly digests: Readonly<Record<string, string>>;
}

/** Label of the data key id (a digest of nothing under the data key: identifies it, reveals nothing). */
const KEY_ID_LABEL = "keyfleet data key id v1";

/** Short non-secret identifier of a data key. */
export function dataKeyId(dataKey: Uint8Array): string {
  return keyedDigest(dataKey, KEY_ID_LABEL, "").slice(0, 16);
}

/** The current digests of a decrypted file. */
export function currentDigests(dataKey: Uint8Array, leaves: readonly DecryptedLeaf[]): CurrentDigests {
  return { dataKeyId: dataKeyId(dataKey), digests: leafDigests(dataKey, leaves) };
}

/**
 * The `pending` field for an audit entry: digests of `keys` under the file's data key after the
 * write (`after`), and the keys found already rotated (`cleared`).
 */
export function pendingDigests(
  after: CurrentDigests,
  keys: Iterable<string>,
  cleared: readonly string[] = [],
): PendingDigests | undefined {
  const digests: Record<string, string> = {};
  for (const k of keys) {
    const d = after.digests[k];
    if (d !== undefined) digests[k] = d;
  }
  if (Object.keys(digests).length === 0 && cleared.length === 0) return undefined;
  return { dataKeyId: after.dataKeyId, digests, ...(cleared.length ? { cleared: [...cleared] } : {}) };
}

interface Item {
  file: string;
  key: string;
  since: string;
  reason?: string;
  exposedTo: Set<string>;
  digest?: string;
  keyId?: string;
}

const DAY_MS = 86_400_000;

/**
 * The rotations still pending after the audit log `entries` (in log order). `current` gives a
 * file's digests now (undefined: cannot decrypt it), which clears those whose value changed.
 */
export function computePending(
  entries: readonly AuditEntry[],
  o: { now?: Date; current?: (file: string) => CurrentDigests | undefined } = {},
): PendingRotation[] {
  return stillPending(replayLog(entries), o);
}

/** The open items after replaying the log: exposures opened, value changes and clears applied. */
function replayLog(entries: readonly AuditEntry[]): Map<string, Item> {
  const items = new Map<string, Item>();
  const id = (f: string, k: string): string => `${f}\0${k}`;
  for (const e of entries) {
    if (!e || typeof e.file !== "string") continue;
    const p = e.pending;
    if (e.operation === "move" && typeof e.movedFrom === "string") {
      // the same bytes (same data key, same values) now live at e.file: so do their pending rotations
      for (const [k, it] of [...items]) {
        if (it.file !== e.movedFrom) continue;
        if (!e.oldKept) items.delete(k);
        items.set(id(e.file, it.key), { ...it, file: e.file, exposedTo: new Set(it.exposedTo) });
      }
    }
    if (e.operation === "set-values") {
      // keyfleet changed these values: an item it has no digest for cannot be compared, so the change clears it
      for (const k of e.keysChanged ?? [])
        if (items.get(id(e.file, k))?.digest === undefined || !p) items.delete(id(e.file, k));
    }
    if (p && typeof p === "object" && p.digests && typeof p.digests === "object") {
      for (const k of Array.isArray(p.cleared) ? p.cleared : []) items.delete(id(e.file, k));
      for (const [k, d] of Object.entries(p.digests)) {
        const it = items.get(id(e.file, k));
        if (!it) continue;
        if (it.digest !== undefined && it.keyId === p.dataKeyId && it.digest !== d) items.delete(id(e.file, k));
        else {
          it.digest = d;
          it.keyId = p.dataKeyId;
        }
      }
    }
    for (const x of Array.isArray(e.exposure) ? e.exposure : []) {
      for (const k of x.keys ?? []) {
        const key = id(e.file, k);
        const it = items.get(key);
        if (it) {
          it.exposedTo.add(x.recipient);
          continue;
        }
        const d = p?.digests?.[k];
        items.set(key, {
          file: e.file,
          key: k,
          since: e.time,
          ...(e.reason ? { reason: e.reason } : {}),
          exposedTo: new Set([x.recipient]),
          ...(d !== undefined && p ? { digest: d, keyId: p.dataKeyId } : {}),
        });
      }
    }
  }
  return items;
}

/** The open items whose value has not changed since (per `o.current`), aged against `o.now`, sorted. */
function stillPending(
  items: Map<string, Item>,
  o: { now?: Date; current?: (file: string) => CurrentDigests | undefined },
): PendingRotation[] {
  const now = (o.now ?? new Date()).getTime();
  const out: PendingRotation[] = [];
  const currentCache = new Map<string, CurrentDigests | undefined>();
  for (const it of items.values()) {
    let cur = currentCache.get(it.file);
    if (!currentCache.has(it.file)) {
      cur = o.current?.(it.file);
      currentCache.set(it.file, cur);
    }
    let checked = false;
    if (cur && it.digest !== undefined && it.keyId === cur.dataKeyId) {
      if (cur.digests[it.key] !== it.digest) continue; // the value changed (or is gone): rotated
      checked = true;
    } else if (!cur && it.digest !== undefined) checked = true; // as of the last keyfleet write
    const since = Date.parse(it.since);
    out.push({
      file: it.file,
      key: it.key,
      since: it.since,
      days: Number.isFinite(since) ? Math.max(0, Math.floor((now - since) / DAY_MS)) : 0,
      exposedTo: [...it.exposedTo],
      ...(it.reason ? { reason: it.reason } : {}),
      checked,
    });
  }
  return out.sort((a, b) => (a.file === b.file ? (a.key < b.key ? -1 : 1) : a.file < b.file ? -1 : 1));
}

/** The rotations pending longer than `maxDays`. */
export function overdue(pending: readonly PendingRotation[], maxDays: number): PendingRotation[] {
  return pending.filter((p) => p.days > maxDays);
}
