/**
 * Prior outputs as the engine hands them back (`olds`, `props`), made whole before a provider method
 * uses them. State written by an older keyfleet may lack fields added since, or carry fields
 * dropped since; every method must accept both. Missing fields get the value that means "nothing
 * recorded" (an empty list, "", false), which makes diff plan an update that records them; extra
 * fields are kept as they are (they do no harm and a later version may know them again).
 */
import { formatFromPath } from "../sops";
import { DEFAULT_AUDIT_LOG } from "../access";
import type { SecretFileOutputs } from "./secret-file";
import type { HostEnvOutputs } from "./host-env";
import type { RecipientOutputs } from "./recipient";

type Loose = Record<string, unknown>;

const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const str = (v: unknown, d = ""): string => (typeof v === "string" ? v : d);
const bool = (v: unknown): boolean => v === true;
const rec = <T>(v: unknown): Record<string, T> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, T>) : {};

/** SecretFile outputs of any earlier shape, completed. */
export function secretFileOlds(props: unknown): SecretFileOutputs {
  const p = rec<unknown>(props);
  const path = str(p["path"]);
  let format = p["format"] as SecretFileOutputs["format"] | undefined;
  if (typeof format !== "string") {
    try {
      format = formatFromPath(path);
    } catch {
      format = "binary";
    }
  }
  const recipients = list<Loose>(p["recipients"])
    .filter((r) => typeof r?.["recipient"] === "string")
    .map((r) => ({
      name: str(r["name"], str(r["recipient"])),
      recipient: str(r["recipient"]),
      fingerprint: str(r["fingerprint"]),
    }));
  return {
    ...(p as object),
    path,
    format,
    recipients,
    recipientLabels: list<string>(p["recipientLabels"]),
    keyNames: list<string>(p["keyNames"]),
    managedKeys: list<string>(p["managedKeys"]),
    valueDigests: rec<string>(p["valueDigests"]),
    digestsStale: bool(p["digestsStale"]),
    fileSha256: str(p["fileSha256"]),
    lastmodified: str(p["lastmodified"]),
    exposure: list<Loose>(p["exposure"]).map((e) => ({
      recipient: str(e["recipient"]),
      fingerprint: str(e["fingerprint"]),
      keys: list<string>(e["keys"]),
    })),
    pendingRotations: list<string>(p["pendingRotations"]),
    auditLog: str(p["auditLog"], DEFAULT_AUDIT_LOG),
    deleteFileOnDestroy: bool(p["deleteFileOnDestroy"]),
  } as SecretFileOutputs;
}

/** HostEnv outputs of any earlier shape, completed (host and port from the connection when missing). */
export function hostEnvOlds(props: unknown): HostEnvOutputs {
  const p = rec<unknown>(props);
  const c = rec<unknown>(p["connection"]);
  const host = str(p["host"], str(c["host"]));
  const port = typeof p["port"] === "number" ? p["port"] : typeof c["port"] === "number" ? c["port"] : 22;
  const user = str(p["user"], str(c["user"]));
  return {
    ...(p as object),
    connection: {
      ...(c as object),
      host: str(c["host"], host),
      port,
      user: str(c["user"], user),
      hostKey: str(c["hostKey"]),
    } as HostEnvOutputs["connection"],
    host,
    port,
    user,
    path: str(p["path"]),
    format: str(p["format"], "dotenv") as HostEnvOutputs["format"],
    mode: str(p["mode"]),
    owner: str(p["owner"]),
    group: str(p["group"]),
    sources: list(p["sources"]),
    sourceDigests: list(p["sourceDigests"]),
    sourceFiles: list(p["sourceFiles"]),
    env: rec<string>(p["env"]),
    restartUnits: list(p["restartUnits"]),
    onChange: str(p["onChange"]),
    keepOnDelete: bool(p["keepOnDelete"]),
    keyNames: list(p["keyNames"]),
    hostFingerprint: str(p["hostFingerprint"]),
    contentDigest: str(p["contentDigest"]),
    writtenDigest: str(p["writtenDigest"]),
    restarted: bool(p["restarted"]),
    drift: list(p["drift"]),
  } as HostEnvOutputs;
}

/** Recipient outputs of any earlier shape: the key from `publicKey`, else the recorded `recipient`. */
export function recipientOlds(props: unknown): RecipientOutputs {
  const p = rec<unknown>(props);
  const publicKey = str(p["publicKey"], str(p["recipient"]));
  return {
    ...(p as object),
    name: str(p["name"]),
    publicKey,
    recipient: str(p["recipient"]),
    fingerprint: str(p["fingerprint"]),
    label: str(p["label"]),
  } as RecipientOutputs;
}
