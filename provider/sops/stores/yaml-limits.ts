/**
 * Limits on untrusted YAML, applied before and while the `yaml` package builds its documents.
 *
 * - Nesting: the CST from `yaml`'s Parser (which keeps its own stack and does not recurse) is walked
 *   iteratively and refused beyond {@link MAX_YAML_DEPTH} levels, before the Composer (which recurses
 *   once per level and, at a few thousand levels, overflows the stack or aborts the process while
 *   compiling a regex) ever sees it.
 * - Aliases: the `yaml` package bounds aliases only in `toJS()` (`maxAliasCount`); the sops stores
 *   convert the document's nodes themselves and resolve aliases by hand, so they count as go-yaml v3
 *   does (`decode.go`): every node decoded, and every node decoded inside an alias expansion; more
 *   than 100 of the latter, more than 1000 of the former and a ratio above {@link allowedAliasRatio}
 *   is "excessive aliasing".
 */
import type { Composer, CST, Document } from "yaml";
import { yamlLib } from "./yaml-lib.js";
import { SopsParseError } from "../errors.js";

/** Deepest nesting of collections accepted (sops files are a few levels deep; JSON uses the same cap). */
export const MAX_YAML_DEPTH = 200;

/** Bounds of the go-yaml alias ratio. */
const RATIO_LOW = 400_000;
const RATIO_HIGH = 4_000_000;

/**
 * The share of decoded nodes that may come from alias expansions after `decodeCount` nodes, as
 * go-yaml v3: 0.99 up to 400,000 nodes, falling linearly to 0.10 at 4,000,000 nodes.
 */
export function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= RATIO_LOW) return 0.99;
  if (decodeCount >= RATIO_HIGH) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - RATIO_LOW) / (RATIO_HIGH - RATIO_LOW));
}

/** Counts decoded nodes and alias expansions of one document, as go-yaml v3 does. */
export class AliasBudget {
  private decodeCount = 0;
  private aliasCount = 0;
  private aliasDepth = 0;
  constructor(private readonly file: string | undefined) {}

  /**
   * Records one decoded node.
   * @throws SopsParseError when the document contains excessive aliasing
   */
  node(): void {
    this.decodeCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (
      this.aliasCount > 100 &&
      this.decodeCount > 1000 &&
      this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)
    ) {
      throw new SopsParseError("invalid yaml: document contains excessive aliasing (a yaml alias bomb?)", {
        file: this.file,
        hint: "expand the aliases (*name) into plain values; keyfleet, like sops, refuses documents that are mostly alias expansions",
      });
    }
  }

  /** Runs `fn` (the conversion of an alias target) counting its nodes as alias expansions. */
  inAlias<T>(fn: () => T): T {
    this.aliasDepth++;
    try {
      return fn();
    } finally {
      this.aliasDepth--;
    }
  }
}

interface CstNode {
  type?: string;
  offset?: number;
  value?: unknown;
  key?: unknown;
  items?: { key?: unknown; value?: unknown }[];
}

/** Deepest collection nesting of one CST token and the offset where it occurs (iterative walk). */
export function cstDepth(token: unknown): { depth: number; offset: number } {
  let max = 0;
  let at = 0;
  const stack: [CstNode, number][] = [];
  if (token && typeof token === "object") stack.push([token as CstNode, 0]);
  while (stack.length) {
    const [t, d] = stack.pop() as [CstNode, number];
    const isColl = Array.isArray(t.items);
    const depth = isColl ? d + 1 : d;
    if (depth > max) {
      max = depth;
      at = typeof t.offset === "number" ? t.offset : at;
    }
    if (depth > MAX_YAML_DEPTH) break;
    if (t.value && typeof t.value === "object") stack.push([t.value as CstNode, depth]);
    if (isColl) {
      for (const it of t.items as { key?: unknown; value?: unknown }[]) {
        if (it.key && typeof it.key === "object") stack.push([it.key as CstNode, depth]);
        if (it.value && typeof it.value === "object") stack.push([it.value as CstNode, depth]);
      }
    }
  }
  return { depth: max, offset: at };
}

/** 1-based line of `offset` in `text`. */
export function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * The CST tokens of `text` (yaml's Parser does not recurse), refusing a document nested deeper than
 * {@link MAX_YAML_DEPTH} before anything composes it.
 * @throws SopsParseError naming the file and line of the deepest point
 */
export function checkedTokens(text: string, file: string | undefined, hint?: string): CST.Token[] {
  const tokens = Array.from(new (yamlLib().Parser)().parse(text));
  for (const t of tokens) {
    const { depth, offset } = cstDepth(t);
    if (depth > MAX_YAML_DEPTH) {
      throw new SopsParseError(`invalid yaml: nested more than ${MAX_YAML_DEPTH} levels deep`, {
        file,
        line: lineOf(text, offset),
        hint: hint ?? "flatten the document; sops files are a few levels deep",
      });
    }
  }
  return tokens;
}

/**
 * `yaml`'s parseAllDocuments over {@link checkedTokens}: the same documents, nesting bounded.
 * @throws SopsParseError when the text is nested too deep
 */
export function parseYamlLimited(
  text: string,
  options: ConstructorParameters<typeof Composer>[0],
  file: string | undefined,
): Document.Parsed[] {
  const { Composer: Composer_ } = yamlLib();
  return Array.from(new Composer_(options).compose(checkedTokens(text, file))) as Document.Parsed[];
}
