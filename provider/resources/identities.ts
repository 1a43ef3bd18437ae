/**
 * The deployer's age identities for one resource operation: discovered on first use and at most
 * once, so `SOPS_AGE_KEY_CMD` runs at most once per operation, and not at all when the operation
 * needs no key (a new file, an unchanged one).
 */
import { discoverIdentities, type AgeIdentity } from "../age";

/** Returns the operation's identities, discovering them on the first call only. */
export type IdentitySource = () => Promise<AgeIdentity[]>;

/**
 * A fresh source for one operation. A failed discovery is remembered too (it is reported by the
 * step that needs a key, and not retried within the operation).
 */
export function identitiesOnce(): IdentitySource {
  let found: Promise<AgeIdentity[]> | undefined;
  return () => (found ??= discoverIdentities().then((r) => r.identities));
}
