/**
 * Binary store (`stores/json/store.go` BinaryStore): the whole plaintext is one `str` leaf `data`,
 * written as the JSON store; decrypted output is exactly the bytes.
 */
import { SopsParseError } from "../errors.js";
import { entry, mapping, scalar } from "../tree.js";
import { jsonStore } from "./json.js";
import type { Store } from "./store.js";

/** The binary store. */
export const binaryStore: Store = {
  parseEncrypted(text, file) {
    const p = jsonStore.parseEncrypted(text, file);
    const root = p.tree[0];
    const data = root?.items.find((i) => i.kind === "entry" && i.key === "data");
    if (!data || data.kind !== "entry" || data.value.kind !== "scalar")
      throw new SopsParseError("binary sops file has no data field", { file });
    return p;
  },
  parsePlain(input) {
    const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
    return { tree: [mapping([entry("data", scalar(bytes))])], meta: undefined };
  },
  emitEncrypted: (tree, meta, opts) => jsonStore.emitEncrypted(tree, meta, opts),
  emitPlain(tree) {
    const root = tree[0];
    const data = root?.items.find((i) => i.kind === "entry" && i.key === "data");
    if (!data || data.kind !== "entry" || data.value.kind !== "scalar") return new Uint8Array();
    const v = data.value.value;
    if (v instanceof Uint8Array) return v;
    return new TextEncoder().encode(typeof v === "string" ? v : String(v));
  },
};
