/**
 * Identity loading for the sops verbs, as sops does it (provider/age discoverIdentities over the
 * verb's environment), and the "who can decrypt this" error: a NoIdentityError from provider/sops
 * is re-raised with recipient names and the list of identity sources tried. No key material is
 * ever part of a message.
 */
import { discoverIdentities, type AgeIdentity } from "../provider/age";
import { isKeyfleetError, KeyfleetError } from "../provider/errors";
import type { CliIo } from "./args";
import { labelRecipient, loadNames, projectDir } from "./recipient-names";

/** Identities found plus the report of every source tried. */
export interface LoadedIdentities {
  identities: AgeIdentity[];
  report: string[];
}

/**
 * Discovers the caller's identities from `io.env` (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD,
 * SOPS_AGE_SSH_PRIVATE_KEY_FILE, ~/.config/sops/age/keys.txt, ~/.ssh/id_ed25519).
 * @throws KeyfleetError `KEY_DISCOVERY` when a configured source is unusable (exit 128)
 */
export async function loadIdentities(io: CliIo): Promise<LoadedIdentities> {
  try {
    return await discoverIdentities({ env: io.env, ...(io.env.HOME ? { home: io.env.HOME } : {}) });
  } catch (e) {
    if (isKeyfleetError(e))
      throw new KeyfleetError("KEY_DISCOVERY", `cannot load your age identities: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The NO_IDENTITY error the CLI prints: named recipients, sources tried and the fix. */
export function noIdentityError(
  file: string,
  recipients: readonly string[],
  report: readonly string[],
  badEntries: readonly string[] = [],
): KeyfleetError {
  const names = loadNames(projectDir(file));
  const shown = recipients.slice(0, 50).map((r) => labelRecipient(r, names));
  if (recipients.length > 50) shown.push(`… (${recipients.length} in all)`);
  const who = recipients.length ? shown.join(", ") : "nobody (the file has no age entries)";
  const tried = report.length ? report.join(", ") : "no identity sources";
  const bad = badEntries.length ? `; unreadable age entries (malformed or tampered): ${badEntries.join("; ")}` : "";
  return new KeyfleetError(
    "NO_IDENTITY",
    `none of your identities can decrypt ${file}; its recipients are ${who}; tried: ${tried}${bad}`,
    {
      file,
      hint: "set SOPS_AGE_KEY_FILE to a key file holding the identity of one of these recipients (or SOPS_AGE_KEY / SOPS_AGE_SSH_PRIVATE_KEY_FILE)",
    },
  );
}

/**
 * Runs `fn`, turning provider/sops' NoIdentityError into {@link noIdentityError} for `file` (for
 * the error's own file when `file` is undefined, as when `fn` works on several files).
 */
export async function explainingIdentities<T>(
  file: string | undefined,
  ids: LoadedIdentities,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isKeyfleetError(e) && e.code === "NO_IDENTITY") {
      const rs = (e as { recipients?: unknown }).recipients;
      const bad = (e as { badEntries?: unknown }).badEntries;
      throw noIdentityError(
        file ?? e.file ?? "the sops file",
        Array.isArray(rs) ? (rs as string[]) : [],
        ids.report,
        Array.isArray(bad) ? (bad as string[]) : [],
      );
    }
    throw e;
  }
}
