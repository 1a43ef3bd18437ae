/**
 * The HostKey resource: a host's SSH ed25519 host key as a recipient, trusted by a pin, an
 * expected fingerprint or explicit trust-on-first-use.
 *
 * Check and diff never touch the network (preview has no side effects). Create and update scan
 * the host and refuse a key that does not match the trust. Read re-scans and records what it saw
 * in `observedFingerprint`; a difference from `fingerprint` is drift, shown in the plan as an
 * update, and never followed silently: `recipient` keeps the trusted key and the update fails
 * until the user pins the new key.
 */
import type * as pulumi from "@pulumi/pulumi";
import { parseSshPublicKey, sshFingerprint, sshToAgeRecipient } from "../age";
import { scanHostKey } from "../ssh";
import { KeyfleetError } from "../errors";
import { canonicalRecipientText } from "../access/names";
import { isUnknown, messageOf, type Failure } from "./inputs";

/** Which form `recipient` takes. */
export type HostKeyMode = "age" | "ssh";

/** Inputs as the provider receives them. */
export interface HostKeyInputs {
  /** Display name (defaults to the resource name in the SDK). */
  name: string;
  /** Host name or address. */
  host: string;
  /** SSH port; default 22. */
  port?: number;
  /** Pinned `ssh-ed25519 AAAA…` host key. */
  publicKey?: string;
  /** Expected `SHA256:…` fingerprint. */
  expectedFingerprint?: string;
  /** Accept the key seen at creation. */
  trustOnFirstUse?: boolean;
  /** "age" (default): ssh-to-age X25519 recipient; "ssh": native ssh-ed25519 recipient. */
  mode?: HostKeyMode;
  /** Scan timeout in ms; default 10000. */
  timeoutMs?: number;
}

/** Outputs recorded in state. */
export interface HostKeyOutputs {
  name: string;
  host: string;
  port: number;
  mode: HostKeyMode;
  publicKey: string;
  fingerprint: string;
  ageRecipient: string;
  sshRecipient: string;
  recipient: string;
  /** How the key was trusted: "pinned", "fingerprint" or "trust-on-first-use". */
  trust: string;
  /** The pin / expected fingerprint given, echoed for diff ("" when none). */
  pinnedPublicKey: string;
  expectedFingerprint: string;
  trustOnFirstUse: boolean;
  /** The fingerprint seen at the last scan (create, update or refresh). */
  observedFingerprint: string;
}

const FP = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Per-property validation; exactly one way to trust. No network. */
export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.CheckResult> {
  const f: Failure[] = [];
  const { host, port, publicKey, expectedFingerprint, trustOnFirstUse, mode, name } = news;
  if (!isUnknown(name) && (typeof name !== "string" || name.trim() === ""))
    f.push({ property: "name", reason: "name must be a non-empty string" });
  if (!isUnknown(host) && (typeof host !== "string" || host.trim() === "" || /\s/.test(host))) {
    f.push({ property: "host", reason: "host must be a host name or address without spaces" });
  }
  if (
    port !== undefined &&
    !isUnknown(port) &&
    !(typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535)
  ) {
    f.push({ property: "port", reason: "port must be an integer from 1 to 65535 (default 22)" });
  }
  if (mode !== undefined && !isUnknown(mode) && mode !== "age" && mode !== "ssh")
    f.push({ property: "mode", reason: 'mode must be "age" (default) or "ssh"' });
  if (publicKey !== undefined && !isUnknown(publicKey)) {
    try {
      if (typeof publicKey !== "string") throw new Error("publicKey must be a string");
      const k = parseSshPublicKey(publicKey);
      if (!canonicalRecipientText(publicKey).startsWith("ssh-ed25519 ") || k === undefined)
        throw new Error("only ssh-ed25519 host keys can be age recipients");
    } catch (e) {
      f.push({ property: "publicKey", reason: `publicKey: ${messageOf(e)}` });
    }
  }
  if (
    expectedFingerprint !== undefined &&
    !isUnknown(expectedFingerprint) &&
    !(typeof expectedFingerprint === "string" && FP.test(expectedFingerprint))
  ) {
    f.push({
      property: "expectedFingerprint",
      reason: "expectedFingerprint must look like SHA256:<43 base64 chars>, as ssh-keygen -lf prints it",
    });
  }
  if (trustOnFirstUse !== undefined && !isUnknown(trustOnFirstUse) && typeof trustOnFirstUse !== "boolean") {
    f.push({ property: "trustOnFirstUse", reason: "trustOnFirstUse must be a boolean" });
  }
  const ways = [publicKey !== undefined, expectedFingerprint !== undefined, trustOnFirstUse === true].filter(
    Boolean,
  ).length;
  const anyUnknown = [publicKey, expectedFingerprint, trustOnFirstUse].some(isUnknown);
  if (!anyUnknown && ways !== 1) {
    f.push({
      property: "publicKey",
      reason: `host key of ${String(host)}: give exactly one of publicKey (pinned), expectedFingerprint, or trustOnFirstUse: true (got ${ways})`,
    });
  }
  return { inputs: news, failures: f };
}

/** Update when anything the user set changes or refresh observed a different key; replace when host or port change. */
export async function diff(
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  const replaces: string[] = [];
  if (news["host"] !== olds["host"]) replaces.push("host");
  if ((news["port"] ?? 22) !== (olds["port"] ?? 22)) replaces.push("port");
  const changed =
    replaces.length > 0 ||
    news["name"] !== olds["name"] ||
    (news["mode"] ?? "age") !== (olds["mode"] ?? "age") ||
    (news["publicKey"] ?? "") !== (olds["pinnedPublicKey"] ?? "") ||
    (news["expectedFingerprint"] ?? "") !== (olds["expectedFingerprint"] ?? "") ||
    (news["trustOnFirstUse"] ?? false) !== (olds["trustOnFirstUse"] ?? false) ||
    // drift: the last refresh saw a different key
    (typeof olds["observedFingerprint"] === "string" && olds["observedFingerprint"] !== olds["fingerprint"]);
  return { changes: changed, replaces, deleteBeforeReplace: false };
}

/**
 * Scans the host and checks the key against the trust. `trusted` is the fingerprint accepted
 * before (trust-on-first-use keeps it).
 * @throws KeyfleetError HOST_KEY_MISMATCH naming the expected and presented fingerprints.
 */
async function scanAndVerify(i: HostKeyInputs, trusted: string | undefined): Promise<HostKeyOutputs> {
  const port = i.port ?? 22;
  const mode = i.mode ?? "age";
  let scanned: string;
  try {
    scanned = canonicalRecipientText(await scanHostKey(i.host, port, { timeoutMs: i.timeoutMs ?? 10_000 }));
  } catch (e) {
    throw new KeyfleetError("HOST_SCAN", `cannot read the ssh host key of ${i.host}:${port}: ${messageOf(e)}`, {
      hint: "check that sshd is reachable and offers an ed25519 host key",
      cause: e,
    });
  }
  const fingerprint = sshFingerprint(scanned);
  let expected: string | undefined;
  let trust: string;
  if (i.publicKey !== undefined) {
    expected = sshFingerprint(canonicalRecipientText(i.publicKey));
    trust = "pinned";
  } else if (i.expectedFingerprint !== undefined) {
    expected = i.expectedFingerprint;
    trust = "fingerprint";
  } else {
    expected = trusted;
    trust = "trust-on-first-use";
  }
  if (expected !== undefined && expected !== fingerprint) {
    throw new KeyfleetError(
      "HOST_KEY_MISMATCH",
      `host key of ${i.host}:${port} is ${fingerprint}, expected ${expected}`,
      {
        hint:
          trust === "trust-on-first-use"
            ? "the host key changed since it was first trusted; if the change is legitimate set expectedFingerprint to the new fingerprint"
            : "if the host key was legitimately replaced, update publicKey / expectedFingerprint to the new key",
      },
    );
  }
  const ageRecipient = sshToAgeRecipient(scanned);
  return {
    name: i.name,
    host: i.host,
    port,
    mode,
    publicKey: scanned,
    fingerprint,
    ageRecipient,
    sshRecipient: scanned,
    recipient: mode === "age" ? ageRecipient : scanned,
    trust,
    pinnedPublicKey: i.publicKey ?? "",
    expectedFingerprint: i.expectedFingerprint ?? "",
    trustOnFirstUse: i.trustOnFirstUse ?? false,
    observedFingerprint: fingerprint,
  };
}

/** Scans the host and verifies the key; the id is `host:port`. */
export async function create(i: HostKeyInputs): Promise<pulumi.dynamic.CreateResult> {
  const outs = await scanAndVerify(i, undefined);
  return { id: `${outs.host}:${outs.port}`, outs };
}

/**
 * Re-scans the host. Only `observedFingerprint` follows the host; the trusted key and the
 * recipient stay as they were, so a changed key is drift and never reaches dependent files.
 * An unreachable host keeps the recorded state.
 */
export async function read(id: string, props: HostKeyOutputs): Promise<pulumi.dynamic.ReadResult> {
  try {
    const seen = canonicalRecipientText(await scanHostKey(props.host, props.port ?? 22, { timeoutMs: 10_000 }));
    return { id, props: { ...props, observedFingerprint: sshFingerprint(seen) } };
  } catch {
    return { id, props };
  }
}

/** Re-scans and verifies against the new trust (trust-on-first-use keeps the old fingerprint). */
export async function update(
  _id: string,
  olds: HostKeyOutputs,
  news: HostKeyInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  const keepTofu = news.trustOnFirstUse === true && olds.trust === "trust-on-first-use" ? olds.fingerprint : undefined;
  return { outs: await scanAndVerify(news, keepTofu) };
}

/** Nothing to remove on the host. */
export async function deleteResource(): Promise<void> {}
export { deleteResource as delete };
