/**
 * What the demo verifies at each step, as small functions the e2e test reuses: env files on hosts,
 * recipients of sops files, whether a host's own key can decrypt a file, and a plaintext leak scan.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseIdentities, sshToAgeIdentity } from "../../provider/age";
import { decrypt, formatFromPath, readMetadata, NoIdentityError } from "../../provider/sops";
import { parseEnv, type EnvFormat } from "../../provider/render";
import { readAudit, type AuditEntry } from "../../provider/access/audit-log";

/** A demo check failed: the demo stops with this message (it never contains a value). */
export class DemoCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DemoCheckError";
  }
}

/** Throws a DemoCheckError with `message` unless `ok`. */
export function verify(ok: boolean, message: string): asserts ok {
  if (!ok) throw new DemoCheckError(`demo check failed: ${message}`);
}

/** sha256 hex of a file, or "" when it does not exist. */
export function fileSha(path: string): string {
  return existsSync(path) ? createHash("sha256").update(readFileSync(path)).digest("hex") : "";
}

/** An env file on a host, parsed (`undefined` when it is not there). */
export function readEnvFile(path: string, format: EnvFormat): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  return Object.fromEntries(parseEnv(readFileSync(path, "utf8"), format));
}

/** Lines in a host's restart marker file (one per restart the demo's onChange ran). */
export function restartCount(path: string): number {
  return existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "").length
    : 0;
}

/** Recipients recorded in a sops file's metadata (no key needed). */
export function sopsRecipients(file: string): string[] {
  return readMetadata(readFileSync(file, "utf8"), formatFromPath(file), file).recipients;
}

/** The `ENC[…]` strings of a sops file: unchanged when only recipients were added (same data key). */
export function encStrings(file: string): string[] {
  return readFileSync(file, "utf8").match(/ENC\[[^\]]*\]/g) ?? [];
}

/**
 * Whether a host's own SSH host key (OpenSSH PEM) decrypts the sops file, as a sops-nix host would:
 * the ssh-to-age identity and the native ssh-ed25519 identity are both tried.
 */
export async function hostCanDecrypt(file: string, hostKeyPem: string): Promise<boolean> {
  const ids = [
    ...parseIdentities(sshToAgeIdentity(hostKeyPem), "host key (ssh-to-age)"),
    ...parseIdentities(hostKeyPem, "host key (ssh)"),
  ];
  try {
    await decrypt(readFileSync(file, "utf8"), { format: formatFromPath(file), identities: ids, file });
    return true;
  } catch (e) {
    if (e instanceof NoIdentityError) return false;
    throw e;
  }
}

/** Audit log entries of the project. */
export function auditEntries(workDir: string): AuditEntry[] {
  return readAudit(".keyfleet/audit.jsonl", workDir);
}

/** Every regular file under `dir` (bounded depth; symbolic links are not followed). */
export function filesUnder(dir: string, depth = 8): string[] {
  if (!existsSync(dir)) return [];
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return [];
  if (st.isFile()) return [dir];
  if (depth === 0) return [];
  return readdirSync(dir).flatMap((n) => filesUnder(join(dir, n), depth - 1));
}

/**
 * Where any of `secrets` occurs: in the given files and texts (also base64 and hex forms of each
 * value). Returns "where: which value's name" lines; empty means no leak.
 */
export function findLeaks(
  secrets: Record<string, string>,
  o: { files?: string[]; texts?: Record<string, string> },
): string[] {
  const forms = Object.entries(secrets).flatMap(([name, v]) => [
    [name, v],
    [`${name} (base64)`, Buffer.from(v).toString("base64")],
    [`${name} (hex)`, Buffer.from(v).toString("hex")],
  ]);
  const hits: string[] = [];
  const scan = (where: string, text: string): void => {
    for (const [name, form] of forms) if (form && text.includes(form as string)) hits.push(`${where}: ${name}`);
  };
  for (const f of o.files ?? []) scan(f, readFileSync(f).toString("latin1"));
  for (const [where, t] of Object.entries(o.texts ?? {})) scan(where, t);
  return hits;
}

/** `KEY=****` lines of an env file's keys (values masked). */
export function masked(env: Record<string, string> | undefined): string {
  if (!env) return "(no env file)";
  return Object.keys(env)
    .map((k) => `${k}=****`)
    .join("  ");
}
