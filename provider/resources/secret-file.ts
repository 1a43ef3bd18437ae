/**
 * The SecretFile resource: a sops file in the repo, re-keyed and re-encrypted declaratively.
 *
 * Preview (check + diff) never writes and never decrypts values: diff reads the file's text to
 * spot outside edits, and unwraps the data key only when managed `values` are given, to compare
 * keyed digests. Outputs carry names and keyed digests, never values.
 *
 * `valueDigests` covers every leaf of the file (not only managed keys): create and update compute
 * it from the file they wrote, read recomputes it when an identity is available. A HostEnv passes
 * on only the digests of the keys it selects, so an edit of key A does not touch hosts that use B.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { KeyfleetError } from "../errors";
import {
  decrypt,
  decryptWithDataKey,
  encryptKeyed,
  listKeys,
  loadEncrypted,
  readMetadata,
  rotateKeyed,
  setValuesWithDataKey,
  unwrapDataKey,
  updateRecipients,
  type SopsFormat,
} from "../sops";
import { complete, recoverPending, writeAhead } from "../access/audit-wal";
import { textVersion, withFileLock, writeFileAtomic } from "../fs";
import {
  appendAudit,
  auditEntry,
  canonicalRecipientText,
  computeExposure,
  deriveRecipientName,
  exposureMessage,
  fingerprinted,
  keyName,
  namesFromAudit,
  readAudit,
  recipientDelta,
  recipientLabel,
  type AuditEntry,
  type Exposure,
  type FingerprintedRecipient,
  type NamedRecipient,
} from "../access";
import { identitiesOnce, type IdentitySource } from "./identities";
import { claimFile, mayRemove, releaseFile } from "./secret-file-owner";
import { containsUnknown, isUnknown } from "./inputs";
import {
  auditLogOf,
  check as checkInputs,
  formatOf,
  parseNamed,
  rulesOf,
  valuePath,
  type SecretFileInputs,
} from "./secret-file-inputs";
import { isMove, moveFile, moveNote } from "./secret-file-move";
import { initialDocument } from "./secret-file-doc";
import { currentDigestsOf, leafData, valueDigest } from "./secret-file-digests";
import { pendingDetail } from "./secret-file-pending";
import { pendingKeysOfFile } from "../access/pending-file";
import { secretFileOlds } from "./olds";
import { fileSha256 } from "./secret-file-sha";

export { MoveConflictError, moveFaults } from "./secret-file-move";
export { DIGEST_LABEL, leafDigests, valueDigest } from "./secret-file-digests";

/** Outputs recorded in state: names and keyed digests only. */
export interface SecretFileOutputs {
  path: string;
  format: SopsFormat;
  recipients: FingerprintedRecipient[];
  recipientLabels: string[];
  /** Dotted names of every key in the file. */
  keyNames: string[];
  /** The `values` keys keyfleet manages. */
  managedKeys: string[];
  /**
   * Key name (as in `keyNames`) → HMAC-SHA256 of its value under a key derived from the file's data
   * key, for every leaf (secret output). Empty when no identity here could decrypt the file; a
   * key missing from the map is compared through `fileSha256` by consumers.
   */
  valueDigests: Record<string, string>;
  /**
   * True when a refresh found the file changed but could not recompute `valueDigests` (no
   * identity): the map is then empty and the next diff plans an update to recompute it.
   */
  digestsStale: boolean;
  /** sha256 of the file's (encrypted) text, to detect edits made outside Pulumi. */
  fileSha256: string;
  lastmodified: string;
  /** What recipients removed by the last rotation could read. */
  exposure: Exposure[];
  /**
   * Key names (never values) pending rotation in this file, from the audit log: exposed to someone
   * who lost access (or marked by hand) and not changed since, as `keyfleet log --pending` decides.
   */
  pendingRotations: string[];
  auditLog: string;
  deleteFileOnDestroy: boolean;
  /**
   * This resource's claim on the file (secret-file-owner.ts): a random token, also in
   * `.keyfleet/owners/`. Absent in state written before claims existed.
   */
  owner?: string;
}

/** The claim token recorded in outputs, if any. */
function tokenOf(o: { owner?: unknown }): string | undefined {
  return typeof o.owner === "string" && o.owner !== "" ? o.owner : undefined;
}

/** sha256 hex of the file text. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function absPath(p: string): string {
  return resolve(process.cwd(), p);
}

function readText(abs: string): string | undefined {
  try {
    return readFileSync(abs, "utf8");
  } catch (e) {
    // ENOTDIR: a parent is a file, so the file does not exist either (creating it reports why)
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/**
 * Creates the missing parent directories of a new file, as `mkdir -p`. New directories get mode
 * 0755 (less the umask), as git gives the directories it checks out: the file in them is
 * encrypted and 0644, and a 0700 directory would hide it from the group or CI user that reads the
 * repo. Existing directories are left as they are.
 */
function ensureParentDir(abs: string, file: string): void {
  try {
    mkdirSync(dirname(abs), { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new KeyfleetError("WRITE_FAILED", `cannot create the directory of ${file}: ${(e as Error).message}`, {
      hint: "check that no part of the path is a file and that the parent directory is writable",
      file,
      cause: e,
    });
  }
}

/**
 * Dotted key → plaintext value (as its digest covers it, see {@link leafData}), for the leaves of a
 * decrypted file; with `dataKey` known no identity is needed.
 */
async function decryptLeaves(
  text: string,
  format: SopsFormat,
  file: string,
  key: { dataKey?: Uint8Array; ids: IdentitySource },
): Promise<{ dataKey: Uint8Array; leaves: Map<string, string | Uint8Array> }> {
  const d = key.dataKey
    ? decryptWithDataKey(text, format, key.dataKey, { file })
    : await decrypt(text, { format, identities: await key.ids(), file });
  const leaves = new Map<string, string | Uint8Array>();
  for (const l of d.leaves) leaves.set(keyName(l.path), leafData(l.value));
  return { dataKey: d.dataKey, leaves };
}

/** The digest outputs of a description. */
type DigestOutputs = Pick<SecretFileOutputs, "valueDigests" | "digestsStale">;

/** Outputs describing `text` as it is on disk, with digests computed by the caller. */
function describe(
  text: string,
  i: SecretFileInputs,
  named: readonly NamedRecipient[],
  exposure: Exposure[],
  digests: DigestOutputs,
  pendingRotations: string[],
): SecretFileOutputs {
  const format = formatOf(i);
  const meta = readMetadata(text, format, i.path);
  const byKey = new Map(named.map((r) => [canonicalRecipientText(r.recipient), r.name] as const));
  const recipients = meta.recipients.map((r) =>
    fingerprinted({ name: byKey.get(canonicalRecipientText(r)) ?? deriveRecipientName(r), recipient: r }),
  );
  return {
    path: i.path,
    format,
    recipients,
    recipientLabels: recipients.map(recipientLabel),
    keyNames: listKeys(text, format, i.path).map((k) => keyName(k.path)),
    managedKeys: Object.keys(i.values ?? {}).sort(),
    valueDigests: digests.valueDigests,
    digestsStale: digests.digestsStale,
    fileSha256: sha256(text),
    lastmodified: meta.lastmodified,
    exposure,
    pendingRotations,
    auditLog: auditLogOf(i),
    deleteFileOnDestroy: i.deleteFileOnDestroy ?? false,
  };
}

/**
 * Test hook: called after each write of a reconcile (the write-ahead record, the file, the audit
 * completion); throw from it to inject a failure at that point. Empty in production.
 */
export const reconcileFaults: { after?: (step: "write-ahead" | "file" | "audit") => void } = {};

/** Recipients recorded in state (olds) that are neither desired nor in the file any more. */
function unrecordedRemovals(
  previous: readonly NamedRecipient[],
  inFile: readonly string[],
  desired: readonly NamedRecipient[],
): FingerprintedRecipient[] {
  const keep = new Set([...inFile, ...desired.map((r) => r.recipient)].map(canonicalRecipientText));
  return previous
    .filter((p) => !keep.has(canonicalRecipientText(p.recipient)))
    .map((p) => fingerprinted({ name: p.name, recipient: canonicalRecipientText(p.recipient) }));
}

/** Name of a recipient that leaves: from the previous outputs, else the audit log, else derived. */
function knownName(recipient: string, previous: readonly NamedRecipient[], i: SecretFileInputs): string {
  const p = previous.find((r) => canonicalRecipientText(r.recipient) === recipient);
  return p?.name ?? namesFromAudit(readAudit(auditLogOf(i))).get(recipient) ?? deriveRecipientName(recipient);
}

/**
 * Brings the file at `i.path` to the desired state: creates it, or adopts/updates the existing
 * one (add recipients → same data key; any removal → rotation + exposure; changed values →
 * only those keys). Writes atomically and appends one audit line per operation. Holds the file's
 * lock (provider/fs) from the read to the write, and writes only if the file is still the one read.
 */
export async function reconcile(
  i: SecretFileInputs,
  previousExposure: Exposure[],
  previous: readonly NamedRecipient[] = [],
  adopting = true,
): Promise<SecretFileOutputs> {
  const abs = absPath(i.path);
  if (readText(abs) === undefined) ensureParentDir(abs, i.path); // the lock file lives beside the file
  return withFileLock(abs, () => reconcileLocked(i, previousExposure, previous, adopting), {
    command: `pulumi SecretFile ${i.path}`,
  });
}

async function reconcileLocked(
  i: SecretFileInputs,
  previousExposure: Exposure[],
  previous: readonly NamedRecipient[],
  adopting: boolean,
): Promise<SecretFileOutputs> {
  const abs = absPath(i.path);
  const format = formatOf(i);
  const desired = parseNamed(i.recipients);
  const named = i.recipients.map((r) => ({ name: r.name, recipient: canonicalRecipientText(r.recipient) }));
  // discovered once for the whole operation, and only if a step needs a key
  const ids = identitiesOnce();
  const values = i.values ?? {};
  const audit: AuditEntry[] = [];
  let exposure = previousExposure;
  const original = readText(abs);
  recoverPending(auditLogOf(i), i.path, original === undefined ? null : sha256(original)); // a change a failed run made lands in the log now
  const log = readAudit(auditLogOf(i));
  // keys pending before this run: each write records their digests again (see access/pending.ts)
  const pendingBefore = pendingKeysOfFile(log, i.path);
  let text: string;
  // the data key of `text`, while this run knows it (fresh file, or unwrapped and not rotated since)
  let dataKey: Uint8Array | undefined;
  if (original === undefined) {
    // a new file records each recipient's canonical text
    ({ text, dataKey } = await encryptKeyed(initialDocument(i.path, format, values), {
      format,
      recipients: parseNamed(named),
      rules: rulesOf(i),
      file: i.path,
    }));
    audit.push(
      auditEntry(i.path, "create", "provider", {
        recipientsAdded: named.map(fingerprinted),
        keysChanged: Object.keys(values).sort(),
      }),
    );
  } else {
    text = original;
    const inFile = readMetadata(text, format, i.path).recipients;
    const delta = recipientDelta(inFile, named, (r) => r.recipient);
    const added = delta.added.map(fingerprinted);
    const removed = delta.removed
      .map(canonicalRecipientText)
      .map((r) => fingerprinted({ name: knownName(r, previous, i), recipient: r }));
    // Exposure comes from the recipients recorded in state too: one the olds still list but the file
    // no longer has lost access in a step the engine never recorded (it threw after the write, or
    // the file was re-keyed outside Pulumi). It is reported, logged and the data key rotated again.
    const gone = unrecordedRemovals(previous, inFile, named).filter(
      (r) => !removed.some((x) => x.recipient === r.recipient),
    );
    removed.push(...gone);
    if (added.length > 0 || removed.length > 0) {
      const keys = listKeys(text, format, i.path);
      const res =
        gone.length > 0 && added.length === 0 && delta.removed.length === 0
          ? await rotateKeyed(text, { format, identities: await ids(), recipients: desired, file: i.path })
          : await updateRecipients(text, { format, identities: await ids(), recipients: desired, file: i.path });
      text = res.text;
      dataKey = res.dataKey;
      if (removed.length > 0) {
        exposure = computeExposure(removed, keys);
        const pending = pendingDetail(text, format, i.path, dataKey, [
          ...pendingBefore,
          ...exposure.flatMap((x) => x.keys),
        ]);
        audit.push(
          auditEntry(i.path, "rotate", "provider", {
            recipientsAdded: added,
            recipientsRemoved: removed,
            exposure,
            ...pending,
          }),
        );
      } else {
        audit.push(
          auditEntry(i.path, "add-recipients", "provider", {
            recipientsAdded: added,
            ...pendingDetail(text, format, i.path, dataKey, pendingBefore),
          }),
        );
      }
    }
    const keys = Object.keys(values).sort();
    if (keys.length > 0) {
      const d = await decryptLeaves(text, format, i.path, { ...(dataKey ? { dataKey } : {}), ids });
      const leaves = d.leaves;
      dataKey = d.dataKey; // setting values keeps the data key
      const changed = keys.filter((k) => leaves.get(keyName(valuePath(k, format))) !== values[k]);
      if (changed.length > 0) {
        text = setValuesWithDataKey(
          text,
          format,
          dataKey,
          changed.map((k) => ({ path: valuePath(k, format), value: values[k] as string })),
          { file: i.path },
        );
        // a pending key this run set to a new value is rotated; the others keep their digests
        const was = new Set([...pendingBefore, ...audit.flatMap((e) => e.exposure.flatMap((x) => x.keys))]);
        const cleared = changed.filter((k) => was.has(keyName(valuePath(k, format))));
        const still = [...was].filter((k) => !cleared.some((c) => keyName(valuePath(c, format)) === k));
        const pending = pendingDetail(
          text,
          format,
          i.path,
          dataKey,
          still,
          cleared.map((k) => keyName(valuePath(k, format))),
        );
        audit.push(auditEntry(i.path, "set-values", "provider", { keysChanged: changed, ...pending }));
      }
    }
    // create found the file and changed nothing: record that keyfleet now manages it. An update that
    // changes nothing in the file (a recipient renamed, an outside edit re-read) writes no audit line.
    if (audit.length === 0 && adopting) audit.unshift(auditEntry(i.path, "adopt", "provider"));
  }
  // digests of every leaf, computed before the write so a corrupt file is refused untouched
  const current = await currentDigestsOf(text, format, i.path, { ...(dataKey ? { dataKey } : {}), identities: ids });
  const valueDigests = current?.digests ?? {};
  // write-ahead: the audit entries are recorded before the file changes and appended to the log after
  const wal =
    audit.length > 0
      ? writeAhead(auditLogOf(i), {
          file: i.path,
          before: original === undefined ? null : sha256(original),
          after: sha256(text),
          entries: audit,
        })
      : undefined;
  reconcileFaults.after?.("write-ahead");
  if (text !== original)
    writeFileAtomic(abs, text, { mode: 0o644, expect: original === undefined ? null : textVersion(original) });
  reconcileFaults.after?.("file");
  if (wal) complete(auditLogOf(i), wal);
  reconcileFaults.after?.("audit");
  return describe(
    text,
    i,
    named,
    exposure,
    { valueDigests, digestsStale: false },
    pendingKeysOfFile([...log, ...audit], i.path, current),
  );
}

/**
 * Per-property validation (secret-file-inputs); when `path` changes, adds a plain `move` input that
 * says what up will do (the file moves with every key; which keys not in `values` go with it;
 * whether the old file is removed), so preview shows it. No side effects: it reads key names only.
 */
export async function check(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  const { move: _stale, ...rest } = news;
  const r = await checkInputs(olds, rest);
  if ((r.failures ?? []).length > 0) return r;
  const note = moveNote(olds, rest);
  return note === undefined ? r : { ...r, inputs: { ...r.inputs, move: note } };
}

/** Creates or adopts the file, claiming it for this resource (secret-file-owner.ts); the id is its path. */
export async function create(i: SecretFileInputs): Promise<pulumi.dynamic.CreateResult> {
  const owner = claimFile(absPath(i.path), auditLogOf(i)); // first: a failed claim changes nothing
  return { id: i.path, outs: { ...(await reconcile(i, [])), owner } };
}

/**
 * Applies recipient and value changes (and re-reads after an outside edit). A changed `path` first
 * moves the whole file there (see secret-file-move.ts), then applies the other changes to it.
 */
export async function update(
  _id: string,
  oldOuts: SecretFileOutputs,
  news: SecretFileInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  const olds = secretFileOlds(oldOuts);
  const moving = isMove(olds.path, news.path);
  const owner = tokenOf(olds);
  // a moved file (or a new audit log, beside which the claim lives) is claimed anew before the move;
  // state from before claims gets one now
  const reclaim = moving || owner === undefined || auditLogOf(news) !== olds.auditLog;
  const claimed = reclaim ? claimFile(absPath(news.path), auditLogOf(news)) : owner;
  if (moving) await moveFile(olds.path, olds.format, news);
  if (reclaim) releaseFile(absPath(olds.path), olds.auditLog, owner);
  return { outs: { ...(await reconcile(news, olds.exposure ?? [], olds.recipients ?? [], false)), owner: claimed } };
}

/**
 * Refreshes from the file: recipients, key names, file digest and the digests of every key. With
 * no identity here, the recorded digests are kept while the file is unchanged; a changed file
 * empties them and sets `digestsStale`, so diff plans an update and consumers compare through
 * `fileSha256` meanwhile.
 */
export async function read(id: string, recorded: SecretFileOutputs): Promise<pulumi.dynamic.ReadResult> {
  const props = secretFileOlds(recorded);
  const text = readText(absPath(props.path));
  if (text === undefined)
    return { id, props: { ...props, fileSha256: "", keyNames: [], valueDigests: {}, digestsStale: false } };
  const format = formatOf(props);
  let now: Awaited<ReturnType<typeof currentDigestsOf>>;
  try {
    now = await currentDigestsOf(text, format, props.path, { identities: identitiesOnce() });
  } catch {
    now = undefined; // a corrupt file: fileSha256 shows the change, update reports why
  }
  const fresh = now?.digests;
  let digests: DigestOutputs;
  if (fresh) digests = { valueDigests: fresh, digestsStale: false };
  else if (sha256(text) === props.fileSha256)
    digests = { valueDigests: props.valueDigests ?? {}, digestsStale: props.digestsStale ?? false };
  else digests = { valueDigests: {}, digestsStale: true };
  const inputs: SecretFileInputs = {
    path: props.path,
    format,
    recipients: props.recipients,
    auditLog: props.auditLog,
    deleteFileOnDestroy: props.deleteFileOnDestroy,
  };
  const out = describe(
    text,
    inputs,
    props.recipients,
    props.exposure ?? [],
    digests,
    pendingKeysOfFile(readAudit(props.auditLog), props.path, now),
  );
  const owner = tokenOf(props);
  return { id, props: { ...out, managedKeys: props.managedKeys ?? [], ...(owner === undefined ? {} : { owner }) } };
}

/** A diff result that plans an update (a SecretFile is never replaced). */
function changed(): pulumi.dynamic.DiffResult {
  return { changes: true, replaces: [], deleteBeforeReplace: false };
}

/**
 * Update when the path, recipients, managed values, audit settings or the file itself changed;
 * never a replacement: a new `path` moves the file in update, which alone sees both paths (a
 * replacement's create gets no olds, and delete-before-replace would remove the old file first).
 * Unknowns → update, without touching the disk.
 */
export async function diff(
  _id: string,
  oldOuts: SecretFileOutputs,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  const olds = secretFileOlds(oldOuts);
  // a new path (or the same file spelled differently, `./secrets/a.yaml`) is an update that moves it
  if (isUnknown(news["path"]) || typeof news["path"] !== "string" || news["path"] !== olds.path) return changed();
  if (containsUnknown(news)) return changed();
  const n = news as unknown as SecretFileInputs;
  // check refuses a format change at the same path (no in-place conversion); never a replace
  if (formatOf(n) !== olds.format) return changed();
  const wantR = n.recipients.map((r) => `${r.name}\0${canonicalRecipientText(r.recipient)}`).sort();
  const haveR = (olds.recipients ?? []).map((r) => `${r.name}\0${canonicalRecipientText(r.recipient)}`).sort();
  if (wantR.join("\n") !== haveR.join("\n")) return changed();
  if (auditLogOf(n) !== olds.auditLog || (n.deleteFileOnDestroy ?? false) !== olds.deleteFileOnDestroy)
    return changed();
  const digest = fileSha256(absPath(n.path));
  if (digest === undefined || digest !== olds.fileSha256) return changed();
  // a refresh could not recompute the digests of a changed file: update recomputes them
  if (olds.digestsStale === true) return changed();
  const values = n.values ?? {};
  const keys = Object.keys(values).sort();
  if (keys.join("\n") !== (olds.managedKeys ?? []).join("\n")) return changed();
  if (keys.length > 0) {
    let dataKey: Uint8Array;
    try {
      // only the data key is unwrapped (no value is decrypted) to key the digests of the new values
      const text = readText(absPath(n.path));
      if (text === undefined || sha256(text) !== olds.fileSha256) return changed(); // changed since the digest
      dataKey = await unwrapDataKey(loadEncrypted(text, olds.format, n.path).meta, await identitiesOnce()(), n.path);
    } catch {
      return changed(); // update will report why
    }
    const name = (k: string): string => keyName(valuePath(k, olds.format));
    if (keys.some((k) => valueDigest(dataKey, name(k), values[k] as string) !== olds.valueDigests?.[name(k)]))
      return changed();
  }
  return { changes: false, replaces: [], deleteBeforeReplace: false };
}

/**
 * Keeps the file unless `deleteFileOnDestroy`, and keeps it too when another resource has claimed
 * it since (a forced replacement's new resource, secret-file-owner.ts); a removal is audited.
 */
export async function deleteResource(_id: string, recorded: SecretFileOutputs): Promise<void> {
  const props = secretFileOlds(recorded);
  const abs = absPath(props.path);
  const owner = tokenOf(props);
  const log = props.auditLog ?? auditLogOf({});
  if (!props.deleteFileOnDestroy || !existsSync(abs) || !mayRemove(abs, log, owner)) {
    releaseFile(abs, log, owner);
    return;
  }
  rmSync(abs, { force: true });
  releaseFile(abs, log, owner);
  appendAudit(
    props.auditLog ?? auditLogOf({}),
    auditEntry(props.path, "delete", "provider", { recipientsRemoved: props.recipients ?? [] }),
  );
}
export { deleteResource as delete };

/** The exposure message for outputs (for the SDK's log). */
export { exposureMessage };
