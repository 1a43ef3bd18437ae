/** The store interface each file format implements (sops `Store`). */
import type { Tree } from "../tree.js";

import type { SopsFormat } from "../formats.js";

export type { SopsFormat };

/** A parsed file: the data documents and, for encrypted files, the raw `sops` metadata object. */
export interface Parsed {
  tree: Tree;
  meta: Record<string, unknown> | undefined;
}

/** Output options from `.sops.yaml` `stores:` (sops `config.StoresConfig`). */
export interface StoreOptions {
  /** `stores.yaml.indent` (default 4). */
  yamlIndent?: number;
  /** `stores.json.indent` (default: a tab); also used by the binary store, as sops does. */
  jsonIndent?: number;
}

/** Reads and writes one format. */
export interface Store {
  /** Parses an encrypted file (metadata separated out of the tree). */
  parseEncrypted(text: string, file?: string): Parsed;
  /** Parses plaintext input; `meta` is set if it already carries sops metadata. */
  parsePlain(input: string | Uint8Array, file?: string): Parsed;
  /** Emits an encrypted file with metadata (plain object in emission order). */
  emitEncrypted(tree: Tree, meta: Record<string, unknown>, opts?: StoreOptions): string;
  /** Emits plaintext as `sops -d` prints it. */
  emitPlain(tree: Tree, opts?: StoreOptions): string | Uint8Array;
}
