/**
 * resealDecrypted (the re-encryption `keyfleet edit` and `set` share): a decrypted file whose
 * plaintext was replaced by an edited tree keeps the data key, recipients and every untouched ENC
 * string (values and comments, wherever the edit moved them); keys, order and comments follow the
 * edit; mac and lastmodified are new. Plus keyChanges, the added/changed/removed key lists.
 */
import { describe, expect, it } from "vitest";
import { generateX25519, parseIdentities, parseRecipient } from "../../../provider/age/index.js";
import { decrypt, encrypt, readMetadata, resealDecrypted, storeFor } from "../../../provider/sops/index.js";
import { keyChanges } from "../../../cli/edit";

const encs = (t: string): string[] =>
  (t.match(/ENC\[[^\]]+\]/g) ?? []).filter((e) => !t.split("\n").some((l) => l.includes("mac:") && l.includes(e)));

describe("resealDecrypted", () => {
  it("edited yaml: untouched values and comments keep their ENC strings, moved or not", async () => {
    const k = generateX25519();
    const ids = parseIdentities(k.identity, "test");
    const plain = "# about the db\ndb:\n    user: alice\n    password: one\nport: 5432\nlist:\n    - a\n    - b\n";
    const text = await encrypt(plain, { format: "yaml", recipients: [parseRecipient(k.recipient)] });
    const d = await decrypt(text, { format: "yaml", identities: ids });
    // reorder: port first; change password; drop list item b; add a key
    const edited = "port: 5432\n# about the db\ndb:\n    password: two\n    user: alice\nlist:\n    - a\nnew: x\n";
    const tree = storeFor("yaml").parsePlain(edited).tree;
    const ch = keyChanges(d.tree, tree);
    expect(ch).toEqual({ added: ["new"], changed: ["db.password"], removed: ["list.1"] });
    const out = resealDecrypted(d, "yaml", tree, { now: new Date("2030-01-01T00:00:00Z") });
    const before = new Set(encs(text));
    const after = encs(out);
    expect(after.filter((e) => !before.has(e))).toHaveLength(2); // db.password and new
    expect(out.indexOf("port:")).toBeLessThan(out.indexOf("db:"));
    expect(readMetadata(out, "yaml")).toMatchObject({
      lastmodified: "2030-01-01T00:00:00Z",
      recipients: [k.recipient],
    });
    expect(out.split("\n").find((l) => l.includes("    - recipient:"))).toBe(
      text.split("\n").find((l) => l.includes("    - recipient:")),
    );
    expect(out.match(/enc: \|\n([\s\S]*?-----END AGE ENCRYPTED FILE-----)/)?.[1]).toBe(
      text.match(/enc: \|\n([\s\S]*?-----END AGE ENCRYPTED FILE-----)/)?.[1],
    );
    const again = await decrypt(out, { format: "yaml", identities: ids });
    expect(Buffer.from(again.dataKey).equals(Buffer.from(d.dataKey))).toBe(true);
    expect(again.emit()).toBe(edited);
  });
});
