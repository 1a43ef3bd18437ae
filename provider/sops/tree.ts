/**
 * Format-independent sops tree, as sops' `sops.TreeBranch`: ordered mappings, sequences, scalars and
 * comments. Stores turn text into documents of this shape and back.
 */

/** Value types sops knows (`type:` in an ENC string). */
export type SopsValueType = "str" | "int" | "float" | "bool" | "time" | "comment" | "bytes";

/**
 * A scalar value. `bigint` = int (int64), `number` = float, `Date` = time, `Uint8Array` = raw bytes
 * (binary store; encrypted as `str`). `null` is never encrypted nor MACed.
 */
export type ScalarValue = string | bigint | number | boolean | Date | Uint8Array | null;

/** A scalar leaf. */
export interface Scalar {
  readonly kind: "scalar";
  value: ScalarValue;
  /** Type recorded when decrypted from an ENC string (`bytes` keeps raw bytes). */
  type?: SopsValueType;
}
/** A comment line (text after `#`/`;`, leading space included, as sops stores it). */
export interface Comment {
  readonly kind: "comment";
  text: string;
  /** YAML: the comment stood at the end of the previous item's line (`key: value # note`); emitted there again. */
  inline?: boolean;
}
/** One key/value of a mapping. */
export interface Entry {
  readonly kind: "entry";
  key: string;
  value: Node;
}
/** Ordered mapping; comments are items in place. */
export interface Mapping {
  readonly kind: "map";
  items: (Entry | Comment)[];
}
/** Sequence; comments are items in place. */
export interface Sequence {
  readonly kind: "seq";
  items: (Node | Comment)[];
}
/** Any value node. */
export type Node = Scalar | Mapping | Sequence;
/** One document (YAML may have several; other formats exactly one). */
export type Tree = Mapping[];

/** Scalar constructor. */
export function scalar(value: ScalarValue, type?: SopsValueType): Scalar {
  return type === undefined ? { kind: "scalar", value } : { kind: "scalar", value, type };
}
/** Comment constructor. */
export function comment(text: string): Comment {
  return { kind: "comment", text };
}
/** Empty mapping. */
export function mapping(items: (Entry | Comment)[] = []): Mapping {
  return { kind: "map", items };
}
/** Entry constructor. */
export function entry(key: string, value: Node): Entry {
  return { kind: "entry", key, value };
}

/** The entry with `key` in `m`, if any. */
export function getEntry(m: Mapping, key: string): Entry | undefined {
  for (const it of m.items) if (it.kind === "entry" && it.key === key) return it;
  return undefined;
}

/** Deep copy (scalars' values are immutable or copied). */
export function cloneNode<T extends Node | Comment>(n: T): T {
  if (n.kind === "comment") return { ...n };
  if (n.kind === "scalar") return { ...n, value: n.value instanceof Uint8Array ? new Uint8Array(n.value) : n.value };
  if (n.kind === "map")
    return {
      kind: "map",
      items: n.items.map((i) => (i.kind === "entry" ? entry(i.key, cloneNode(i.value)) : cloneNode(i))),
    } as T;
  return { kind: "seq", items: n.items.map((i) => cloneNode(i)) } as T;
}

/** Converts a plain JS value (JSON-like) to a node; objects keep insertion order. */
export function fromPlain(v: unknown): Node {
  if (Array.isArray(v)) return { kind: "seq", items: v.map(fromPlain) };
  if (v !== null && typeof v === "object" && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    return mapping(Object.entries(v as Record<string, unknown>).map(([k, x]) => entry(k, fromPlain(x))));
  }
  if (v === undefined) return scalar(null);
  if (typeof v === "number" && Number.isInteger(v) && !Object.is(v, -0)) return scalar(BigInt(v));
  return scalar(v as ScalarValue);
}

/** Converts a node to a plain JS value (ints become numbers when safe, else strings of digits). */
export function toPlain(n: Node): unknown {
  if (n.kind === "scalar") {
    const v = n.value;
    if (typeof v === "bigint")
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    return v;
  }
  if (n.kind === "seq") return n.items.filter((i) => i.kind !== "comment").map((i) => toPlain(i as Node));
  const o: Record<string, unknown> = {};
  for (const it of n.items) if (it.kind === "entry") o[it.key] = toPlain(it.value);
  return o;
}
