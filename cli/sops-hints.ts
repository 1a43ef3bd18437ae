/**
 * Hints for flags that sops has and keyfleet spells differently or does not support, shown when
 * such a flag is given to a keyfleet verb that does not take it.
 */

/** sops flag (long or short, without dashes) → what to use with keyfleet. */
const HINTS: Record<string, string> = {
  d: "keyfleet decrypt FILE (or keyfleet -d FILE)",
  decrypt: "keyfleet decrypt FILE (or keyfleet -d FILE)",
  e: "keyfleet encrypt FILE (or keyfleet -e FILE)",
  encrypt: "keyfleet encrypt FILE (or keyfleet -e FILE)",
  r: "keyfleet rotate FILE",
  rotate: "keyfleet rotate FILE",
  s: "keyfleet audit FILE lists the recipients",
  "show-master-keys": "keyfleet audit FILE lists the recipients",
  set: "keyfleet set FILE KEYPATH (the value comes from stdin or a hidden prompt)",
  extract: "keyfleet decrypt FILE --extract PATH",
  a: "--age on encrypt, --add-age / --rm-age on rotate",
  age: "--age on encrypt, --add-age / --rm-age on rotate",
  "add-age": "keyfleet rotate FILE --add-age R (or keyfleet updatekeys with a .sops.yaml rule)",
  "rm-age": "keyfleet rotate FILE --rm-age R",
  i: "-i/--in-place on encrypt, decrypt and rotate",
  "in-place": "-i/--in-place on encrypt, decrypt and rotate",
  output: "--output on encrypt, decrypt and rotate",
  "output-type": "--output-type on encrypt, decrypt and rotate",
  pgp: "keyfleet supports age recipients only: use --age",
  p: "keyfleet supports age recipients only: use --age",
  kms: "keyfleet supports age recipients only: use --age",
  k: "keyfleet supports age recipients only: use --age",
  "gcp-kms": "keyfleet supports age recipients only: use --age",
  "azure-kv": "keyfleet supports age recipients only: use --age",
  "hc-vault-transit": "keyfleet supports age recipients only: use --age",
  "aws-profile": "keyfleet supports age recipients only: use --age",
  "encryption-context": "keyfleet supports age recipients only: use --age",
  keyservice: "keyfleet decrypts locally with age identities (SOPS_AGE_KEY_FILE and the usual sources)",
  "enable-local-keyservice": "keyfleet decrypts locally with age identities",
  config: "keyfleet reads the nearest .sops.yaml above the file",
  "shamir-secret-sharing-threshold": "keyfleet supports a single key group only",
  verbose: "keyfleet prints what it changes on stderr by default",
  "ignore-mac": "--ignore-mac on decrypt",
  "filename-override": "--input-type FORMAT chooses the format",
  indent: "keyfleet writes files as sops does by default",
};

/** The hint for an unknown flag that sops has, or undefined. */
export function sopsFlagHint(flag: string): string | undefined {
  const key = flag.replace(/^--?/, "").split("=")[0] ?? "";
  return Object.prototype.hasOwnProperty.call(HINTS, key) ? HINTS[key] : undefined;
}
