/**
 * The leak gate over a set of scanned files: the structure rule and the one-pass value (and, for
 * `--public`, inventory) search, reported as findings that name `path:line:column`, the sops file
 * and the key, never a value.
 */
import { scanBuffer } from "./content";
import type { Inventory, InventoryMatcher } from "./inventory";
import { isSopsText } from "./inventory";
import { coveringRule, notSopsReason, type StructureConfig } from "./structure";

/** One scanned file: its path relative to the scan root (`/`-separated) and content. */
export interface ScanTarget {
  readonly path: string;
  readonly data: Uint8Array;
  /** Where the content comes from when not the working tree, e.g. `commit 1a2b3c4` or `index`. */
  readonly origin?: string;
}

/** What a finding is about. */
export type FindingRule = "value" | "structure" | "public" | "pending" | "sops";

/** One reason the gate fails. Never carries a value. */
export interface Finding {
  readonly rule: FindingRule;
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  /** For value hits: the sops file and key whose value was found, and in which form. */
  readonly sopsFile?: string;
  readonly key?: string;
  readonly encoding?: string;
  readonly split?: boolean;
  readonly origin?: string;
  /** One line, without the path prefix. */
  readonly message: string;
}

/** The context shared by every file of a scan. */
export interface ScanContext {
  readonly inventory: Inventory;
  readonly matcher: InventoryMatcher;
  readonly structure: StructureConfig;
  readonly public: boolean;
}

/** 1-based line and column (in characters) of byte `offset`. */
export function lineColumn(data: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = data.indexOf(10); i >= 0 && i < offset; i = data.indexOf(10, i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const column = Buffer.from(data.subarray(lineStart, offset)).toString("utf8").length + 1;
  return { line, column };
}

/** Findings for one file: structure first, then every search hit in file order. */
export function scanTarget(t: ScanTarget, ctx: ScanContext): Finding[] {
  const out: Finding[] = [];
  const origin = t.origin ? { origin: t.origin } : {};
  const text = (): string => Buffer.from(t.data).toString("utf8");
  const rule = coveringRule(t.path, ctx.structure);
  if (rule) {
    const why = notSopsReason(text(), t.path);
    if (why)
      out.push({
        rule: "structure",
        path: t.path,
        ...origin,
        message: `${rule} covers this file but ${why}: encrypt it (keyfleet encrypt -i ${t.path}) or keep it out of the repository`,
      });
  }
  const sopsFile = ctx.public && isSopsText(text(), t.path);
  if (sopsFile) {
    out.push({
      rule: "public",
      path: t.path,
      ...origin,
      message: "a sops file in a public tree: its recipients and key names are readable",
    });
  }
  if (ctx.matcher.info.length === 0) return out;
  const info = ctx.matcher.info;
  const hits = scanBuffer(ctx.matcher.matcher, t.data, { wordBounded: (p) => info[p]?.kind === "key-name" });
  for (const h of hits) {
    const pi = info[h.pattern];
    if (!pi) continue;
    const { line, column } = lineColumn(t.data, h.start);
    const split = h.split ? ", split across a line break" : "";
    if (pi.kind === "value") {
      const v = ctx.inventory.values[pi.value];
      if (!v) continue;
      out.push({
        rule: "value",
        path: t.path,
        line,
        column,
        sopsFile: v.file,
        key: v.key,
        encoding: pi.encoding,
        split: h.split,
        ...origin,
        message: `the value of ${v.key} in ${v.file} (${pi.encoding}${split})`,
      });
    } else if (!sopsFile) {
      // (a sops file in a public tree is reported once, above)
      const what =
        pi.kind === "recipient"
          ? `recipient ${pi.label}`
          : pi.kind === "fingerprint"
            ? `key fingerprint ${pi.label}`
            : `key name ${pi.label} of the secret inventory`;
      out.push({ rule: "public", path: t.path, line, column, split: h.split, ...origin, message: `${what}${split}` });
    }
  }
  return out;
}

/** `path:line:column: message` (or `path: message`), with the origin when there is one. */
export function formatFinding(f: Finding): string {
  const where = f.line !== undefined ? `${f.path}:${f.line}:${f.column ?? 1}` : f.path;
  return `${where}${f.origin ? ` (${f.origin})` : ""}: ${f.message}`;
}
