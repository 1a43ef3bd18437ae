// Real sops files from ../shared/vectors/sops (see its README for provenance) decrypt to expected.json.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptWithDataKey } from "../../../provider/sops/core.js";
import type { SopsFormat } from "../../../provider/sops/stores/index.js";
import { decryptBytes } from "../../../provider/sops/cipher.js";
import { loadEncrypted } from "../../../provider/sops/core.js";
import { MacMismatchError } from "../../../provider/sops/errors.js";

export const VEC = join(__dirname, "../../../../shared/vectors/sops");
interface Leaf {
  aad: string;
  type: string | null;
  encrypted: boolean;
  value: unknown;
  plaintext: string | null;
}
interface Expected {
  format: SopsFormat;
  data_key_hex: string;
  mac_plaintext: string;
  mac_aad: string;
  leaves: Leaf[];
  comments: { aad: string; value: string }[];
}
export const expected = JSON.parse(readFileSync(join(VEC, "expected.json"), "utf8")) as Record<string, Expected>;

describe("sops vectors decrypt with data_key_hex", () => {
  for (const [name, e] of Object.entries(expected)) {
    it(`${name} (${e.format})`, () => {
      const text = readFileSync(join(VEC, name), "utf8");
      const key = Buffer.from(e.data_key_hex, "hex");
      const d = decryptWithDataKey(text, e.format, key, { file: name });
      expect(d.leaves.length).toBe(e.leaves.length);
      d.leaves.forEach((l, i) => {
        const x = e.leaves[i] as Leaf;
        const v = l.value instanceof Uint8Array ? Buffer.from(l.value).toString("utf8") : l.value;
        if (x.type === "bool" || x.type === null || x.type === "str") expect(v).toEqual(x.value);
        else expect(Number(v)).toBe(Number(x.value));
        if (x.type) expect(l.type).toBe(x.type);
      });
      // comments decrypted in order with their AADs
      const { tree } = loadEncrypted(text, e.format, name);
      const found: { aad: string; value: string }[] = [];
      const walk = (n: unknown, path: string[]): void => {
        const node = n as { kind: string; items?: unknown[]; key?: string; value?: unknown; text?: string };
        if (node.kind === "map" || node.kind === "seq") {
          for (const it of node.items ?? []) {
            const i = it as { kind: string; key: string; value: unknown; text: string };
            if (i.kind === "comment")
              found.push({
                aad: path.join(":") + ":",
                value: Buffer.from(decryptBytes(i.text, key, path.join(":") + ":").bytes).toString("utf8"),
              });
            else if (i.kind === "entry") walk(i.value, [...path, i.key]);
            else walk(i, path);
          }
        }
      };
      tree.forEach((t) => walk(t, []));
      expect(found).toEqual(e.comments);
      const mutated = text.replace(/lastmodified(?:["'\s:=]+)["']?(\d{4})/, (m, y: string) =>
        m.replace(y, String(Number(y) + 1)),
      );
      expect(mutated).not.toBe(text);
      expect(() => decryptWithDataKey(mutated, e.format, key, { file: name })).toThrow();
    });
  }
  it("wrong data key is a typed error", () => {
    const text = readFileSync(join(VEC, "sops-pr1031/example.yaml"), "utf8");
    expect(() => decryptWithDataKey(text, "yaml", new Uint8Array(32))).toThrow(/authentication failed/);
    void MacMismatchError;
  });
});
