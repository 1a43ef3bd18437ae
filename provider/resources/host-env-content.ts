/**
 * HostEnv content: decrypt the sources in memory, select / rename / prefix their keys, merge the
 * plain `env`, render, and key the content digest. Nothing here writes to disk or logs.
 *
 * Which keys a source provides:
 * - dotenv and binary files: every key (binary has one, `data`).
 * - yaml, json and ini files: by default every top-level scalar; a nested value is addressed with
 *   dots (`db.password`) in `keys`, and then needs a `rename` to a valid env name.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { decrypt, keyedDigest, leafText, loadEncrypted, unwrapDataKey } from "../sops";
import { KEY_RE, renderEnv, type EnvFormat } from "../render";
import { KeyfleetError } from "../errors";
import { keyName } from "../access/exposure";
import { identitiesOnce } from "./identities";
import { sourceFormat, type HostEnvSourceInput } from "./host-env-inputs";

/** Error in selecting keys from a source (names the file and key, never a value). */
export class HostEnvSourceError extends KeyfleetError {
  constructor(file: string, message: string, hint: string) {
    super("HOSTENV_SOURCE", message, { hint, file });
  }
}

/** The rendered file and what outputs may show about it. */
export interface Materialised {
  /** The rendered file (plaintext: keep in memory, send only on an SSH channel's stdin). */
  content: Buffer;
  /** Env names in the file, in order. */
  keyNames: string[];
  /** Key for the content digest, derived from the sources' data keys. */
  digestKey: Uint8Array;
  /** The secret values (from sources), to scrub command output; memory only. */
  secretValues: string[];
}

/** The string form of a decrypted leaf value, as `sops exec-env` gives it (shared with `keyfleet exec-env`). */
export const leafString = leafText;

/**
 * The `[envName, value]` entries a source provides from its decrypted leaves (dotted name →
 * value, in file order). Pure: tested without files.
 * @throws HostEnvSourceError for a missing key, a rename of an unselected key, or an invalid env name
 */
export function selectEntries(
  file: string,
  leaves: ReadonlyMap<string, string>,
  leafDepth: ReadonlyMap<string, number>,
  s: Pick<HostEnvSourceInput, "keys" | "prefix" | "rename">,
): [string, string][] {
  const keys = s.keys ?? [...leaves.keys()].filter((k) => leafDepth.get(k) === 1);
  const rename = s.rename ?? {};
  for (const from of Object.keys(rename)) {
    if (!keys.includes(from))
      throw new HostEnvSourceError(
        file,
        `rename in the source ${file} names "${from}", which is not selected`,
        `add "${from}" to keys or remove it from rename`,
      );
  }
  const out: [string, string][] = [];
  for (const k of keys) {
    const v = leaves.get(k);
    if (v === undefined) {
      const names = [...leaves.keys()];
      const list = names.slice(0, 20).join(", ") + (names.length > 20 ? ", …" : "");
      throw new HostEnvSourceError(
        file,
        `key "${k}" not found in ${file} (it has ${list || "no keys"})`,
        "fix keys in the HostEnv source, or add the key to the file",
      );
    }
    const name = (s.prefix ?? "") + (rename[k] ?? k);
    if (!KEY_RE.test(name)) {
      throw new HostEnvSourceError(
        file,
        `key "${k}" of ${file} gives env name "${name}", which is not a valid variable name`,
        `add rename: { "${k}": "${k.replace(/[^A-Za-z0-9_]/g, "_").toUpperCase()}" } to the source, or select keys explicitly`,
      );
    }
    out.push([name, v]);
  }
  return out;
}

/**
 * Merges source entries and the plain env (sorted by name, after the sources).
 * @throws HostEnvSourceError when two entries set the same name
 */
export function mergeEntries(
  perSource: { file: string; entries: [string, string][] }[],
  env: Record<string, string>,
): [string, string][] {
  const from = new Map<string, string>();
  const out: [string, string][] = [];
  const add = (where: string, name: string, value: string) => {
    const prev = from.get(name);
    if (prev !== undefined)
      throw new HostEnvSourceError(
        where,
        `env name ${name} is set by both ${prev} and ${where}`,
        "drop the key from one source, or use rename / prefix",
      );
    from.set(name, where);
    out.push([name, value]);
  };
  for (const p of perSource) for (const [n, v] of p.entries) add(p.file, n, v);
  for (const n of Object.keys(env).sort()) add("env", n, env[n] as string);
  return out;
}

/** Absolute path of a source file (relative paths are under the project directory, as SecretFile). */
export function sourceAbs(path: string): string {
  return resolve(process.cwd(), path);
}

function readSource(path: string): string {
  try {
    return readFileSync(sourceAbs(path), "utf8");
  } catch (e) {
    throw new KeyfleetError(
      "HOSTENV_SOURCE",
      `cannot read the source ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
      { file: path, hint: "check the path; relative paths are under the project directory", cause: e },
    );
  }
}

/** sha256 hex of a source file's (encrypted) text, to notice changes of plain-path sources. */
export function sourceFileSha(path: string): string {
  return createHash("sha256").update(readSource(path)).digest("hex");
}

const NO_SOURCES_KEY = createHash("sha256").update("keyfleet hostenv: no secret sources").digest();

/** Digest key: sha256 over the sources' data keys (in source order), never stored. */
export function digestKeyOf(dataKeys: Uint8Array[]): Uint8Array {
  if (dataKeys.length === 0) return NO_SOURCES_KEY;
  const h = createHash("sha256").update("keyfleet hostenv digest key v1\0");
  for (const k of dataKeys) h.update(k);
  return h.digest();
}

/** Keyed digest of the file content given its raw sha256 (so Read can key a remote digest). */
export function contentDigest(digestKey: Uint8Array, path: string, sha256hex: string): string {
  return keyedDigest(digestKey, `keyfleet hostenv content v1 ${path}`, sha256hex);
}

/**
 * Decrypts every source in memory, selects its keys, merges `env` and renders.
 * @throws NoIdentityError, HostEnvSourceError, RenderError (naming files and keys, never values)
 */
export async function materialise(
  sources: HostEnvSourceInput[],
  env: Record<string, string>,
  format: EnvFormat,
): Promise<Materialised> {
  const ids = sources.length > 0 ? await identitiesOnce()() : [];
  const perSource: { file: string; entries: [string, string][] }[] = [];
  const dataKeys: Uint8Array[] = [];
  for (const s of sources) {
    const d = await decrypt(readSource(s.path), { format: sourceFormat(s), identities: ids, file: s.path });
    dataKeys.push(d.dataKey);
    const leaves = new Map<string, string>();
    const depth = new Map<string, number>();
    for (const l of d.leaves) {
      const k = keyName(l.path);
      if (leaves.has(k)) continue; // later yaml documents cannot override the first
      leaves.set(k, leafString(l.value));
      depth.set(k, l.path.length);
    }
    perSource.push({ file: s.path, entries: selectEntries(s.path, leaves, depth, s) });
  }
  const entries = mergeEntries(perSource, env);
  const content = Buffer.from(renderEnv(entries, format), "utf8");
  const secretValues = perSource.flatMap((p) => p.entries.map(([, v]) => v));
  return { content, keyNames: entries.map(([n]) => n), digestKey: digestKeyOf(dataKeys), secretValues };
}

/**
 * The digest key without decrypting any value (only the data keys are unwrapped), for Read.
 * @throws when no identity can unwrap a source
 */
export async function digestKeyForRead(sources: HostEnvSourceInput[]): Promise<Uint8Array> {
  const ids = sources.length > 0 ? await identitiesOnce()() : [];
  const keys: Uint8Array[] = [];
  for (const s of sources)
    keys.push(await unwrapDataKey(loadEncrypted(readSource(s.path), sourceFormat(s), s.path).meta, ids, s.path));
  return digestKeyOf(keys);
}
