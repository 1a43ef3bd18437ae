// Full path through the age layer: vectors (sops-pr1031, key from that commit's age/keys.txt), round
// trips for every format, set/updatekeys/rotate line diffs, tamper, config and atomic writes.
import { mkdtempSync, readFileSync, writeFileSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateX25519, parseIdentities, parseRecipient } from "../../../provider/age/index.js";
import {
  decrypt,
  encrypt,
  setValues,
  updateRecipients,
  rotate,
  readMetadata,
  listKeys,
  keyedDigest,
  NoIdentityError,
  MacMismatchError,
  UnsupportedError,
  formatFromPath,
  parseSopsConfig,
  matchRule,
  upsertCreationRule,
  loadConfigFor,
  type SopsFormat,
} from "../../../provider/sops/index.js";
import { isKeyfleetError } from "../../../provider/errors.js";
import { writeFileAtomic } from "../../../provider/fs/index.js";

const VEC = join(__dirname, "../../../../shared/vectors/sops");
const ids = parseIdentities(readFileSync(join(VEC, "sops-pr1031/age_keys.txt"), "utf8"), "age_keys.txt");
const expected = JSON.parse(readFileSync(join(VEC, "expected.json"), "utf8")) as Record<
  string,
  { format: SopsFormat; leaves: { value: unknown }[] }
>;

function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const al = a.split("\n"),
    bl = b.split("\n");
  const ca = new Map<string, number>();
  for (const l of al) ca.set(l, (ca.get(l) ?? 0) + 1);
  const added: string[] = [];
  for (const l of bl) {
    const n = ca.get(l) ?? 0;
    if (n > 0) ca.set(l, n - 1);
    else added.push(l);
  }
  const removed = [...ca.entries()].flatMap(([l, n]) => Array(n).fill(l) as string[]);
  return { removed, added };
}

const PLAIN: Record<SopsFormat, string> = {
  yaml: '# top comment\ndb:\n    user: alice\n    password: s3cr3t\n    # inner\n    port: 5432\nratio: 0.25\nflag: true\nempty: ""\nnothing: null\nlist:\n    - a\n    - 1\npublic_unencrypted: hello\n',
  json: '{\n\t"db": {\n\t\t"user": "alice",\n\t\t"password": "s3cr3t",\n\t\t"port": 5432\n\t},\n\t"ratio": 0.25,\n\t"flag": true,\n\t"list": [\n\t\t"a",\n\t\t1\n\t],\n\t"big": 9223372036854775807\n}\n',
  dotenv: "# comment\nDB_USER=alice\nDB_PASSWORD=s3cr3t\nMULTI=line1\\nline2\nEMPTY=\n",
  ini: "; section comment\n[db]\nuser     = alice\npassword = s3cr3t\n\n[other]\nx = 1\n",
  binary: "\u0000\u0001binary\nbytes\u00ff",
};

describe("sops with age identities", () => {
  for (const name of ["example.yaml", "example.json", "example.ini", "example.txt"]) {
    it(`decrypts sops-pr1031/${name} through its age entry`, async () => {
      const fmt = formatFromPath(name);
      const d = await decrypt(readFileSync(join(VEC, "sops-pr1031", name), "utf8"), {
        format: fmt,
        identities: ids,
        file: name,
      });
      expect(d.leaves.length).toBe(expected[`sops-pr1031/${name}`]?.leaves.length);
    });
  }
  it("no matching identity names the file and recipients, never identities", async () => {
    const other = parseIdentities(generateX25519().identity, "test key");
    const text = readFileSync(join(VEC, "sops-pr1031/example.yaml"), "utf8");
    const err = await decrypt(text, { format: "yaml", identities: other, file: "example.yaml" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NoIdentityError);
    expect(String((err as Error).message)).toContain("example.yaml");
    expect(String((err as Error).message)).toContain("age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw");
    expect(String((err as Error).message)).not.toContain("AGE-SECRET-KEY");
  });
  it("reads metadata and lists keys without a key", () => {
    const text = readFileSync(join(VEC, "sops-pr1031/example.yaml"), "utf8");
    const m = readMetadata(text, "yaml");
    expect(m.recipients).toHaveLength(2);
    expect(m.version).toBe("3.7.1");
    expect(m.rules.unencryptedSuffix).toBe("_unencrypted");
    const keys = listKeys(text, "yaml");
    expect(keys.find((k) => k.path.join(".") === "app2.db.user")?.encrypted).toBe(true);
    expect(keys.find((k) => k.path.join(".") === "nested_unencrypted.this.is.all")?.encrypted).toBe(false);
  });
  it("rejects several key groups with UnsupportedError", async () => {
    const k = generateX25519();
    const text = await encrypt('{"a": "b"}', { format: "json", recipients: [parseRecipient(k.recipient)] });
    const j = JSON.parse(text) as { sops: Record<string, unknown> };
    j.sops.key_groups = [{ age: j.sops.age }, { age: j.sops.age }];
    j.sops.shamir_threshold = 2;
    delete j.sops.age;
    const shamir = JSON.stringify(j);
    expect(readMetadata(shamir, "json").keyGroups).toBe(2);
    await expect(
      decrypt(shamir, { format: "json", identities: parseIdentities(k.identity, "k") }),
    ).rejects.toBeInstanceOf(UnsupportedError);
  });
});

describe("round trip and edits, every format", () => {
  const a = generateX25519(),
    b = generateX25519();
  const ra = parseRecipient(a.recipient),
    rb = parseRecipient(b.recipient);
  const ia = parseIdentities(a.identity, "a"),
    ib = parseIdentities(b.identity, "b");
  for (const fmt of Object.keys(PLAIN) as SopsFormat[]) {
    it(`${fmt}: encrypt → decrypt → emit`, async () => {
      const enc = await encrypt(PLAIN[fmt], { format: fmt, recipients: [ra] });
      expect(enc).not.toContain("s3cr3t");
      const d = await decrypt(enc, { format: fmt, identities: ia });
      const out = d.emit();
      if (fmt === "binary") expect(Buffer.from(out as Uint8Array).toString("utf8")).toBe(PLAIN.binary);
      else if (fmt === "yaml") expect(out).toBe(PLAIN.yaml.replace('empty: ""', 'empty: ""'));
      else expect(out).toBe(PLAIN[fmt]);
      // re-encrypting our own output keeps working (stable emit)
      const again = await decrypt(enc, { format: fmt, identities: ia });
      expect(again.emit()).toEqual(out);
    });
    if (fmt === "binary") continue;
    it(`${fmt}: setValues changes only the value, lastmodified and mac lines`, async () => {
      const enc = await encrypt(PLAIN[fmt], { format: fmt, recipients: [ra] });
      const path = fmt === "ini" ? ["db", "password"] : fmt === "dotenv" ? ["DB_PASSWORD"] : ["db", "password"];
      await new Promise((r) => setTimeout(r, 1100));
      const out = await setValues(enc, { format: fmt, identities: ia, changes: [{ path, value: "n3w" }] });
      const diff = lineDiff(enc, out);
      expect(diff.added).toHaveLength(3);
      expect(diff.removed).toHaveLength(3);
      expect(diff.added.join("\n")).toMatch(/password|PASSWORD/);
      const d = await decrypt(out, { format: fmt, identities: ia });
      expect(d.leaves.find((l) => l.path.join(".") === path.join("."))?.value).toBe("n3w");
      // add and delete
      const addPath = fmt === "ini" ? ["db", "newkey"] : fmt === "dotenv" ? ["NEWKEY"] : ["db", "deep", "newkey"];
      const out2 = await setValues(out, {
        format: fmt,
        identities: ia,
        changes: [
          { path: addPath, value: "v" },
          { path, value: null },
        ],
      });
      const d2 = await decrypt(out2, { format: fmt, identities: ia });
      expect(d2.leaves.find((l) => l.path.join(".") === addPath.join("."))?.value).toBe("v");
      expect(d2.leaves.find((l) => l.path.join(".") === path.join("."))).toBeUndefined();
    });
    it(`${fmt}: updateRecipients adds entries only (line diff), removal rotates`, async () => {
      const enc = await encrypt(PLAIN[fmt], { format: fmt, recipients: [ra] });
      const up = await updateRecipients(enc, { format: fmt, identities: ia, recipients: [ra, rb] });
      expect(up).toMatchObject({ added: [rb.toString()], removed: [], rotated: false });
      const diff = lineDiff(enc, up.text);
      expect(diff.removed.filter((l) => l !== "")).toEqual([]);
      expect(diff.added.join("\n")).toContain(rb.toString());
      const d = await decrypt(up.text, { format: fmt, identities: ib });
      const d0 = await decrypt(enc, { format: fmt, identities: ia });
      expect(Buffer.from(d.dataKey).equals(Buffer.from(d0.dataKey))).toBe(true);
      const rm = await updateRecipients(up.text, { format: fmt, identities: ib, recipients: [rb] });
      expect(rm.rotated).toBe(true);
      await expect(decrypt(rm.text, { format: fmt, identities: ia })).rejects.toBeInstanceOf(NoIdentityError);
      const d3 = await decrypt(rm.text, { format: fmt, identities: ib });
      expect(Buffer.from(d3.dataKey).equals(Buffer.from(d0.dataKey))).toBe(false);
      expect(d3.emit()).toEqual(d0.emit());
    });
  }
  it("rotate keeps recipients and plaintext, changes key and every value", async () => {
    const enc = await encrypt(PLAIN.yaml, { format: "yaml", recipients: [ra, rb] });
    const out = await rotate(enc, { format: "yaml", identities: ib });
    expect(readMetadata(out, "yaml").recipients).toEqual([ra.toString(), rb.toString()]);
    const before = await decrypt(enc, { format: "yaml", identities: ia });
    const after = await decrypt(out, { format: "yaml", identities: ia });
    expect(after.emit()).toBe(before.emit());
    const encLines = (t: string) => t.split("\n").filter((l) => l.includes("ENC[") && !l.includes("mac:"));
    const old = new Set(encLines(enc));
    expect(encLines(out).some((l) => old.has(l))).toBe(false);
  });
  it("keyedDigest is keyed, labelled and stable", () => {
    const k1 = new Uint8Array(32).fill(1),
      k2 = new Uint8Array(32).fill(2);
    expect(keyedDigest(k1, "a", "v")).toMatch(/^[0-9a-f]{64}$/);
    expect(keyedDigest(k1, "a", "v")).toBe(keyedDigest(k1, "a", new TextEncoder().encode("v")));
    expect(keyedDigest(k1, "a", "v")).not.toBe(keyedDigest(k2, "a", "v"));
    expect(keyedDigest(k1, "a", "v")).not.toBe(keyedDigest(k1, "b", "v"));
    expect(() => keyedDigest(new Uint8Array(3), "a", "v")).toThrow(/32-byte/);
  });
});

describe("tamper", () => {
  it("flipping any byte of a value, iv, tag, mac or enc never yields wrong plaintext", async () => {
    const k = generateX25519();
    const idk = parseIdentities(k.identity, "k");
    const enc = await encrypt("a: secretvalue\nb: other\n", {
      format: "yaml",
      recipients: [parseRecipient(k.recipient)],
    });
    const good = (await decrypt(enc, { format: "yaml", identities: idk })).emit();
    const aLine = enc.split("\n")[0] as string;
    const macLine = enc.split("\n").find((l) => l.includes("mac: ENC")) as string;
    const encBlock = /enc: \|\n([\s\S]*?-----END AGE ENCRYPTED FILE-----)/.exec(enc)?.[1] as string;
    let errors = 0,
      same = 0;
    for (const region of [aLine, macLine, encBlock]) {
      const start = enc.indexOf(region);
      for (let i = 0; i < region.length; i++) {
        const pos = start + i;
        const ch = enc[pos] as string;
        if (ch === "\n" || ch === " ") continue;
        const alt = ch === "A" ? "B" : "A";
        const t = enc.slice(0, pos) + alt + enc.slice(pos + 1);
        try {
          const d = await decrypt(t, { format: "yaml", identities: idk });
          // only acceptable success: the original plaintext (e.g. a flip in non-semantic armor padding is impossible, so count)
          expect(d.emit()).toBe(good);
          same++;
        } catch (e) {
          expect(isKeyfleetError(e)).toBe(true);
          errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(300);
    expect(same).toBe(0);
  }, 60_000);
  it("MacMismatchError when a clear value changes", async () => {
    const k = generateX25519();
    const enc = await encrypt("a: x\nb_unencrypted: clear\n", {
      format: "yaml",
      recipients: [parseRecipient(k.recipient)],
    });
    const t = enc.replace("b_unencrypted: clear", "b_unencrypted: changed");
    await expect(decrypt(t, { format: "yaml", identities: parseIdentities(k.identity, "k") })).rejects.toBeInstanceOf(
      MacMismatchError,
    );
    const d = await decrypt(t, { format: "yaml", identities: parseIdentities(k.identity, "k"), ignoreMac: true });
    expect(d.leaves.find((l) => l.path[0] === "b_unencrypted")?.value).toBe("changed");
  });
});

describe(".sops.yaml", () => {
  it("parses string, comma list and list age, first match wins relative to the config dir", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-cfg-"));
    const cfg =
      "# keep me\ncreation_rules:\n  - path_regex: ^secrets/prod/.*\\.yaml$\n    age: >-\n      age1a,\n      age1b\n  - path_regex: \\.yaml$\n    age: [age1c, age1d]\n    encrypted_regex: ^(data|stringData)$\n  - age: age1e\n";
    writeFileSync(join(dir, ".sops.yaml"), cfg);
    const rules = parseSopsConfig(cfg);
    expect(rules[0]?.age).toEqual(["age1a", "age1b"]);
    const c = loadConfigFor(join(dir, "secrets/prod/x.yaml"));
    expect(c && matchRule(c, join(dir, "secrets/prod/x.yaml"))?.index).toBe(0);
    expect(c && matchRule(c, join(dir, "other/y.yaml"))?.rules.encryptedRegex).toBe("^(data|stringData)$");
    expect(c && matchRule(c, join(dir, "z.json"))?.age).toEqual(["age1e"]);
    const updated = upsertCreationRule(cfg, "secrets/app.yaml", ["age1x", "age1y"]);
    expect(updated).toContain("# keep me");
    const r2 = parseSopsConfig(updated);
    expect(r2[0]).toMatchObject({ pathRegex: "^secrets/app\\.yaml$", age: ["age1x", "age1y"] });
    expect(r2).toHaveLength(4);
    expect(parseSopsConfig(upsertCreationRule(updated, "secrets/app.yaml", ["age1z"]))[0]?.age).toEqual(["age1z"]);
  });
  it("rejects RE2 constructs JS cannot evaluate the same way", () => {
    expect(() => parseSopsConfig("creation_rules:\n  - path_regex: (?=x)y\n")).toThrow(/lookaround/);
  });
});

describe("writeFileAtomic", () => {
  it("writes with mode, and a crash mid-write leaves the old file and no temp", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-atomic-"));
    const p = join(dir, "f.yaml");
    writeFileAtomic(p, "old\n", { mode: 0o640 });
    expect(statSync(p).mode & 0o777).toBe(0o640);
    expect(() =>
      writeFileAtomic(p, "new content\n".repeat(1000), {
        hooks: {
          afterWrite: (tmp) => {
            expect(statSync(tmp).mode & 0o777).toBe(0o640);
            throw new Error("injected crash");
          },
        },
      }),
    ).toThrow(/cannot write/);
    expect(readFileSync(p, "utf8")).toBe("old\n");
    expect(readdirSync(dir)).toEqual(["f.yaml"]);
    writeFileAtomic(p, "new\n");
    expect(readFileSync(p, "utf8")).toBe("new\n");
    expect(statSync(p).mode & 0o777).toBe(0o640);
  });

  it("keeps the exact mode whatever the umask (a 0660 file stays 0660 under umask 077)", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-atomic-"));
    const p = join(dir, "f.yaml");
    const old = process.umask(0o077);
    try {
      writeFileAtomic(p, "old\n", { mode: 0o660 });
      expect(statSync(p).mode & 0o777).toBe(0o660);
      writeFileAtomic(p, "new\n");
      expect(statSync(p).mode & 0o777).toBe(0o660);
    } finally {
      process.umask(old);
    }
  });
});
