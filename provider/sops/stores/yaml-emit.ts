/**
 * The YAML emitter of sops's YAML store: a port of go-yaml v3's block emitter (emitterc.go) for the
 * node shapes sops builds (stores/yaml/store.go `appendTreeBranch`, `appendSequence`,
 * `treeValueToNode`): block mappings and sequences, empty ones as `{}` / `[]`, scalars styled as
 * `Node.Encode` does (yaml-scalar.ts), comments as head, line and foot comments.
 *
 * Indentation follows `yaml_emitter_increase_indent`: a collection nested in a mapping starts at
 * `best_indent * ((indent + best_indent) / best_indent)` (rounded to a multiple of the indent), one
 * nested in a sequence item at `indent + 2` (just after `- `); a block scalar's lines likewise.
 */
import type { Comment, Entry, Mapping, Node, Sequence } from "../tree.js";
import { doubleQuoted, literalBlock, nonStringText, singleQuoted, stringStyle } from "./yaml-scalar.js";

/** Emitter options (sops `stores.yaml.indent`, default 4). */
export interface YamlEmitOptions {
  indent?: number;
}

type Item = Entry | Comment | Node;

class Emitter {
  readonly out: string[] = [];
  constructor(readonly best: number) {}

  /** `yaml_emitter_increase_indent` for a node inside a mapping value (not a sequence item). */
  round(indent: number): number {
    return this.best * Math.floor((indent + this.best) / this.best);
  }

  comments(list: Comment[], col: number): void {
    const pad = " ".repeat(col);
    for (const c of list) this.out.push(`${pad}#${c.text}`);
  }

  /** Text of a scalar on the current line, plus the lines of a literal block (content at `blockIndent`). */
  scalar(n: Node & { kind: "scalar" }, blockIndent: number, key = false): { text: string; lines: string[] } {
    const v = n.value;
    if (typeof v === "string" || v instanceof Uint8Array) {
      const s = typeof v === "string" ? v : Buffer.from(v).toString("utf8");
      const style = stringStyle(s, key);
      if (style === "plain") return { text: s, lines: [] };
      if (style === "single") return { text: singleQuoted(s), lines: [] };
      if (style === "double") return { text: doubleQuoted(s), lines: [] };
      const b = literalBlock(s, blockIndent, this.best);
      return { text: b.header, lines: b.lines };
    }
    return { text: nonStringText(v), lines: [] };
  }

  keyText(key: string): { text: string; simple: boolean } {
    const style = stringStyle(key, true);
    const text = style === "plain" ? key : style === "single" ? singleQuoted(key) : doubleQuoted(key);
    // emitterc.go yaml_emitter_check_simple_key: at most 128 bytes and no line break
    const simple = Buffer.byteLength(key, "utf8") <= 128 && !/[\n\r\u0085\u2028\u2029]/.test(key);
    return { text, simple };
  }

  /**
   * Writes `value` after `prefix` (the text already on this line, e.g. `key:` or `- `). `indent` is
   * the emitter indent of the containing collection; `inSeq` when the value is a sequence item.
   */
  value(prefix: string, value: Node, indent: number, inSeq: boolean, lineComment: string | undefined): void {
    const sep = inSeq ? "" : " ";
    const lc = lineComment === undefined ? "" : ` #${lineComment}`;
    if (value.kind === "scalar") {
      const s = this.scalar(value, inSeq ? indent + 2 : this.round(indent));
      this.out.push(`${prefix}${sep}${s.text}${lc}`);
      for (const l of s.lines) this.out.push(l);
      return;
    }
    const real = value.items.filter((i) => i.kind !== "comment");
    if (real.length === 0) {
      // yaml_emitter_check_empty_mapping/sequence: flow style; comments inside go before the line
      const cs = value.items as Comment[];
      if (cs.length && !inSeq) this.comments(cs, this.round(indent));
      this.out.push(`${prefix}${sep}${value.kind === "map" ? "{}" : "[]"}${lc}`);
      return;
    }
    const inner = inSeq ? indent + 2 : this.round(indent);
    if (inSeq) this.collection(value, inner, prefix);
    else {
      this.out.push(`${prefix}${lc}`);
      this.collection(value, inner, undefined);
    }
  }

  /**
   * Emits a non-empty collection whose items sit at column `col`. `lead`: text already written on
   * the current line (a sequence item's `- `), which the first item continues.
   */
  collection(n: Mapping | Sequence, col: number, lead: string | undefined): void {
    const items = n.items as Item[];
    let head: Comment[] = [];
    let first = true;
    let last: number = -1;
    const pad = " ".repeat(col);
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as Item;
      if (it.kind === "comment") {
        head.push(it);
        continue;
      }
      let lc: string | undefined;
      const next = items[i + 1];
      if (next && next.kind === "comment" && next.inline) {
        lc = next.text;
        i++;
      }
      let prefix = pad;
      if (first && lead !== undefined) {
        // the first item's head comments go above the enclosing `- ` line (the item node's head)
        this.headAboveLead(head, lead);
        prefix = lead;
      } else this.comments(head, col);
      head = [];
      first = false;
      if (n.kind === "map") {
        const e = it as Entry;
        const k = this.keyText(e.key);
        if (k.simple) this.value(`${prefix}${k.text}:`, e.value, col, false, lc);
        else {
          // emitterc.go: a complex key (`? key` then `: value`); the value continues the `:` line
          const ks = this.scalar({ kind: "scalar", value: e.key }, this.round(col));
          this.out.push(`${prefix}? ${ks.text}`);
          for (const l of ks.lines) this.out.push(l);
          const colon = `${pad}:`;
          const v = e.value;
          if (v.kind !== "scalar" && v.items.some((x) => x.kind !== "comment")) {
            const inner = this.round(col);
            this.collection(v, inner, colon.padEnd(inner));
          } else this.value(colon, v, col, false, lc);
        }
      } else this.value(`${prefix}- `, it as Node, col, true, lc);
      last = this.out.length;
    }
    if (head.length) {
      if (last < 0 && lead !== undefined) this.headAboveLead(head, lead);
      else this.comments(head, col);
    }
  }

  /** Head comments of a collection that starts on a `- ` line: written above that line, at the dash. */
  private headAboveLead(head: Comment[], lead: string): void {
    if (!head.length) return;
    this.comments(head, Math.max(0, lead.length - 2));
  }
}

/**
 * The indent go-yaml uses for `SetIndent(n)`: sops passes `stores.yaml.indent` (4 when unset or 0);
 * emitterc.go `yaml_emitter_emit_stream_start` turns values outside 2..9 into 2.
 */
export function yamlIndent(n: number | undefined): number {
  if (n === undefined || n === 0) return 4;
  return Number.isInteger(n) && n >= 2 && n <= 9 ? n : 2;
}

/**
 * Emits one document's root mapping as sops's YAML store does (`EmitPlainFile`, the data part of
 * `EmitEncryptedFile`). An empty root is `{}`; comments of an otherwise empty root come before it.
 */
export function emitYamlDocument(root: Mapping, o: YamlEmitOptions = {}): string {
  const best = yamlIndent(o.indent);
  const e = new Emitter(best);
  const real = root.items.filter((i) => i.kind !== "comment");
  if (real.length === 0) {
    e.comments(root.items as Comment[], 0);
    e.out.push("{}");
  } else e.collection(root, 0, undefined);
  return e.out.join("\n") + "\n";
}
