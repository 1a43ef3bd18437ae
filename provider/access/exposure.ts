/**
 * Exposure: what a recipient whose access is removed could read until the rotation.
 */
import type { FingerprintedRecipient } from "./names";

/** One removed recipient and the key names it could decrypt. */
export interface Exposure {
  /** The recipient's name. */
  readonly recipient: string;
  /** Its fingerprint (`SHA256:…`). */
  readonly fingerprint: string;
  /** Dotted key names of the encrypted values it could read: rotate these values. */
  readonly keys: string[];
}

/** A key of a sops file as provider/sops listKeys reports it. */
export interface ListedKey {
  readonly path: string[];
  readonly encrypted: boolean;
}

/** Dotted display name of a key path (`db.password`; array indices as numbers). */
export function keyName(path: readonly string[]): string {
  return path.join(".");
}

/**
 * Exposure of each removed recipient: every encrypted leaf of the file (the data key is shared,
 * so a recipient reads all encrypted values). Unencrypted leaves are public and not listed.
 */
export function computeExposure(removed: readonly FingerprintedRecipient[], keys: readonly ListedKey[]): Exposure[] {
  const names = [...new Set(keys.filter((k) => k.encrypted).map((k) => keyName(k.path)))].sort();
  return removed.map((r) => ({ recipient: r.name, fingerprint: r.fingerprint, keys: [...names] }));
}

/** The "rotate these values" message for exposures, or "" when there are none. */
export function exposureMessage(file: string, exposure: readonly Exposure[]): string {
  return exposure
    .filter((e) => e.keys.length > 0)
    .map((e) => `${e.recipient} (${e.fingerprint}) could read ${e.keys.join(", ")} in ${file}: rotate these values`)
    .join("\n");
}
