// Our output read by independent implementations: the npm peer reader `sops-age` (yaml/json/dotenv)
// and the real age CLI (/usr/bin/age) for the `enc` entries.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptSops } from "sops-age";
import { generateX25519, parseIdentities, parseRecipient } from "../../provider/age/index.js";
import { decrypt, encrypt, readMetadata, loadEncrypted } from "../../provider/sops/index.js";

const k = generateX25519();
const r = parseRecipient(k.recipient);

describe("sops-age reads what we write", () => {
  it("yaml", async () => {
    const enc = await encrypt(
      "db:\n    user: alice\n    port: 5432\nratio: 0.5\nflag: true\nlist:\n    - x\n    - y\n",
      { format: "yaml", recipients: [r] },
    );
    expect(await decryptSops(enc, { secretKey: k.identity, fileType: "yaml" })).toEqual({
      db: { user: "alice", port: 5432 },
      ratio: 0.5,
      flag: true,
      list: ["x", "y"],
    });
  });
  it("json", async () => {
    const enc = await encrypt('{"a": {"b": "c", "n": 7}, "l": [1, "two"]}', { format: "json", recipients: [r] });
    expect(await decryptSops(enc, { secretKey: k.identity, fileType: "json" })).toEqual({
      a: { b: "c", n: 7 },
      l: [1, "two"],
    });
  });
  it("dotenv", async () => {
    const enc = await encrypt("A=1\nB=hello world\n", { format: "dotenv", recipients: [r] });
    expect(await decryptSops(enc, { secretKey: k.identity, fileType: "env" })).toMatchObject({
      A: "1",
      B: "hello world",
    });
  });
});

describe("the age CLI unwraps our enc entries", () => {
  it("age -d -i keyfile gives the data key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-age-"));
    try {
      const enc = await encrypt("a: b\n", { format: "yaml", recipients: [r] });
      const { meta } = loadEncrypted(enc, "yaml");
      writeFileSync(join(dir, "key.txt"), k.identity + "\n", { mode: 0o600 });
      writeFileSync(join(dir, "enc.age"), meta.age[0]?.enc ?? "");
      const out = execFileSync("/usr/bin/age", ["-d", "-i", join(dir, "key.txt"), join(dir, "enc.age")]);
      const d = await decrypt(enc, { format: "yaml", identities: parseIdentities(k.identity, "k") });
      expect(Buffer.from(out).equals(Buffer.from(d.dataKey))).toBe(true);
      expect(readMetadata(enc, "yaml").recipients).toEqual([k.recipient]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
