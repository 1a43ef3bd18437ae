/**
 * The engine stand-in's state file: URN → type, id, inputs, outputs, parent, dependencies.
 *
 * No plaintext secret ever reaches the file. In memory, secret values are secret envelopes
 * `{ "4dabf1…": "1b4706…", value }`; on disk each one becomes
 * `{ "4dabf1…": "1b4706…", ciphertext: "v1:<iv>:<ciphertext+tag>" }` — the same envelope shape the
 * real Pulumi checkpoint uses — encrypted with AES-256-GCM under a key derived from a passphrase with
 * scrypt (salt kept in the file). This mirrors Pulumi's `passphrase` secrets provider in spirit; the
 * exact KDF and ciphertext encoding are ours, so the file is not a Pulumi checkpoint.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../../../provider/fs/atomic";
import { SECRET_SIG, SIG_KEY, isSecret, type PropertyMap } from "./marshal";

/** One resource in state. */
export interface ResourceState {
  /** Resource URN. */
  urn: string;
  /** Resource type token, e.g. `pulumi-nodejs:dynamic:Resource`. */
  type: string;
  /** True for custom (provider-managed) resources, false for components and the stack. */
  custom: boolean;
  /** Provider-assigned id (custom resources). */
  id?: string;
  /** Inputs after Check, secret values as envelopes. */
  inputs: PropertyMap;
  /** Outputs, secret values as envelopes. */
  outputs: PropertyMap;
  /** Parent URN, if any. */
  parent?: string;
  /** URNs this resource depends on. */
  dependencies: string[];
  /** `deleteBeforeReplace` as last registered. */
  deleteBeforeReplace?: boolean;
  /** `retainOnDelete` as last registered. */
  retainOnDelete?: boolean;
}

interface StateFileJson {
  version: 1;
  note: string;
  secretsProvider: "passphrase-scrypt-aes256gcm";
  encryptionSalt: string;
  resources: ResourceState[];
}

const NOTE =
  "keyfleet engine stand-in state (test and demo harness, not a Pulumi checkpoint); secrets are AES-256-GCM ciphertext";

/** Loads, holds and atomically saves a state file. */
export class StateFile {
  /** Resources in registration order (dependencies before dependents). */
  readonly resources = new Map<string, ResourceState>();
  private readonly key: Buffer;
  private readonly salt: Buffer;

  private constructor(
    readonly path: string,
    passphrase: string,
    salt: Buffer,
  ) {
    this.salt = salt;
    this.key = scryptSync(passphrase, salt, 32, { N: 1 << 14, r: 8, p: 1 });
  }

  /**
   * Opens `path` (an absent file is an empty state).
   * @throws Error when the file is malformed or the passphrase does not decrypt its secrets
   */
  static load(path: string, passphrase: string): StateFile {
    if (!existsSync(path)) return new StateFile(path, passphrase, randomBytes(16));
    let json: StateFileJson | undefined;
    try {
      json = JSON.parse(readFileSync(path, "utf8")) as StateFileJson;
    } catch {
      json = undefined; // not JSON: refused below with the same message as any other foreign file
    }
    if (json?.version !== 1 || typeof json.encryptionSalt !== "string" || !Array.isArray(json.resources)) {
      throw new Error(`state file ${path} is not an engine stand-in state file; delete it or pass another stateFile`);
    }
    const st = new StateFile(path, passphrase, Buffer.from(json.encryptionSalt.split(":")[1] ?? "", "base64"));
    for (const r of json.resources) {
      st.resources.set(r.urn, {
        ...r,
        inputs: st.decryptTree(r.inputs) as PropertyMap,
        outputs: st.decryptTree(r.outputs) as PropertyMap,
      });
    }
    return st;
  }

  /** Writes the state (secrets encrypted) atomically, mode 0600: temp file in the same directory, fsync, rename. */
  save(): void {
    const json: StateFileJson = {
      version: 1,
      note: NOTE,
      secretsProvider: "passphrase-scrypt-aes256gcm",
      encryptionSalt: `v1:${this.salt.toString("base64")}:scrypt-n16384`,
      resources: [...this.resources.values()].map((r) => ({
        ...r,
        inputs: this.encryptTree(r.inputs) as PropertyMap,
        outputs: this.encryptTree(r.outputs) as PropertyMap,
      })),
    };
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileAtomic(this.path, JSON.stringify(json, null, 2) + "\n", { mode: 0o600 });
  }

  private encryptTree(v: unknown): unknown {
    if (isSecret(v)) {
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", this.key, iv);
      const ct = Buffer.concat([c.update(JSON.stringify(v["value"] ?? null), "utf8"), c.final(), c.getAuthTag()]);
      return { [SIG_KEY]: SECRET_SIG, ciphertext: `v1:${iv.toString("base64")}:${ct.toString("base64")}` };
    }
    if (Array.isArray(v)) return v.map((x) => this.encryptTree(x));
    if (typeof v === "object" && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.encryptTree(x)]));
    return v;
  }

  private decryptTree(v: unknown): unknown {
    if (isSecret(v) && typeof v["ciphertext"] === "string") {
      const [, ivB64, ctB64] = v["ciphertext"].split(":");
      const raw = Buffer.from(ctB64 ?? "", "base64");
      const d = createDecipheriv("aes-256-gcm", this.key, Buffer.from(ivB64 ?? "", "base64"));
      d.setAuthTag(raw.subarray(raw.length - 16));
      let plain: string;
      try {
        plain = Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]).toString("utf8");
      } catch (e) {
        throw new Error(
          `state file ${this.path}: a secret does not decrypt; pass the passphrase the state was written with`,
          { cause: e },
        );
      }
      return { [SIG_KEY]: SECRET_SIG, value: JSON.parse(plain) as unknown };
    }
    if (Array.isArray(v)) return v.map((x) => this.decryptTree(x));
    if (typeof v === "object" && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.decryptTree(x)]));
    return v;
  }
}

/**
 * Orders URNs so that every resource comes after its parent and its dependencies (stable otherwise).
 * Deletes walk this order in reverse.
 */
export function dependencyOrder(resources: ResourceState[]): ResourceState[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const out: ResourceState[] = [];
  const seen = new Set<string>();
  const visit = (r: ResourceState, depth: number): void => {
    if (seen.has(r.urn) || depth > resources.length) return;
    seen.add(r.urn);
    for (const d of [...(r.parent ? [r.parent] : []), ...r.dependencies]) {
      const dr = byUrn.get(d);
      if (dr) visit(dr, depth + 1);
    }
    out.push(r);
  };
  for (const r of resources) visit(r, 0);
  return out;
}
