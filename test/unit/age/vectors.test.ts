/**
 * Real vectors from shared/vectors (provenance in shared/vectors/README.md): getsops/sops
 * age/keysource_test.go constants, files made by the Go age 1.1.1 CLI, FiloSottile/age testdata,
 * per-step intermediate values, and Mic92/ssh-to-age conversions.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  SshEd25519Recipient,
  X25519Recipient,
  decryptAgeSync,
  decryptDataKey,
  parseHeader,
  parseIdentities,
  parseRecipient,
  parseSshPublicKey,
  sshTag,
  sshToAgeIdentity,
  sshToAgeRecipient,
  dearmor,
} from "../../../provider/age";
import { edToMontgomery, sshTweak } from "../../../provider/age/agessh";

const V = join(__dirname, "../../../../shared/vectors");
const read = (p: string): string => readFileSync(join(V, p), "utf8");
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("sops keysource vectors (getsops/sops age/keysource_test.go)", () => {
  it("x25519 identity matches its recipient and decrypts mockEncryptedKey", async () => {
    const ids = parseIdentities(read("age/sops-keysource/x25519_identity.txt"), "x25519_identity.txt");
    expect(ids[0]?.recipient().toString()).toBe(read("age/sops-keysource/x25519_recipient.txt").trim());
    const out = await decryptDataKey(read("age/sops-keysource/x25519_encrypted_key.age.armored"), ids);
    expect(Buffer.from(out as Uint8Array).toString()).toBe("data");
  });
  it("ssh-ed25519 identity decrypts mockEncryptedSshKey (tag 2cwDxw)", async () => {
    const ids = parseIdentities(read("age/sops-keysource/ssh_ed25519_identity"), "ssh_ed25519_identity");
    expect(ids[0]?.kind).toBe("ssh-ed25519");
    expect(ids[0]?.recipient().toString()).toBe(
      read("age/sops-keysource/ssh_ed25519_identity.pub").trim().split(" ").slice(0, 2).join(" "),
    );
    const out = await decryptDataKey(read("age/sops-keysource/ssh_ed25519_encrypted_key.age.armored"), ids);
    expect(Buffer.from(out as Uint8Array).toString()).toBe("data");
  });
  it("another identity gets null (no match), not an error", async () => {
    const other = parseIdentities(read("age/sops-keysource/other_x25519_identity.txt"), "other");
    expect(await decryptDataKey(read("age/sops-keysource/x25519_encrypted_key.age.armored"), other)).toBeNull();
    expect(await decryptDataKey(read("age/sops-keysource/ssh_ed25519_encrypted_key.age.armored"), other)).toBeNull();
  });
  it("hybrid (post-quantum) identity is refused with a typed error", () => {
    expect(() => parseIdentities(read("age/sops-keysource/hybrid_identity.txt"), "hybrid")).toThrow(/post-quantum/);
  });
});

describe("age CLI-made files (generated-age-cli, age-cmd)", () => {
  const agecmd = parseIdentities(read("age/age-cmd/key.pem"), "age-cmd/key.pem");
  it.each(["ssh_ed25519_agecmdkey.age.armored", "ssh_ed25519_agecmdkey.age"])(
    "%s decrypts with age-cmd/key.pem",
    (f) => {
      const raw = readFileSync(join(V, "age/generated-age-cli", f));
      const file = f.endsWith(".armored") ? dearmor(raw.toString()) : raw;
      expect(Buffer.from(decryptAgeSync(file, agecmd) as Uint8Array).toString()).toBe("test\n");
    },
  );
  it("ssh-to-age id_ed25519 key decrypts its file", async () => {
    const ids = parseIdentities(read("ssh-to-age/id_ed25519"), "id_ed25519");
    const out = await decryptDataKey(read("age/generated-age-cli/ssh_ed25519_sshtoage_key.age.armored"), ids);
    expect(Buffer.from(out as Uint8Array).toString()).toBe("test\n");
  });
  it("two-stanza data key: the ssh key and the x25519 key open it, the converted x25519 identity does not", async () => {
    const f = read("age/generated-age-cli/datakey_ssh_sopsnix_plus_x25519.age.armored");
    const want = hex(readFileSync(join(V, "age/generated-age-cli/datakey_00to1f.bin")));
    const ssh = parseIdentities(read("ssh-to-age/sopsnix-ssh-ed25519-key"), "sopsnix");
    expect(hex((await decryptDataKey(f, ssh)) as Uint8Array)).toBe(want);
    const x = parseIdentities(read("sops/sops-pr1031/age_keys.txt"), "age_keys.txt");
    expect(hex((await decryptDataKey(f, x)) as Uint8Array)).toBe(want);
    const converted = parseIdentities(sshToAgeIdentity(read("ssh-to-age/sopsnix-ssh-ed25519-key")), "converted");
    expect(await decryptDataKey(f, converted)).toBeNull();
  });
  it("age-cmd example.age decrypts with example_keys.txt (comment lines skipped)", () => {
    const ids = parseIdentities(read("age/age-cmd/example_keys.txt"), "example_keys.txt");
    expect(
      Buffer.from(decryptAgeSync(readFileSync(join(V, "age/age-cmd/example.age")), ids) as Uint8Array).toString(),
    ).toBe("Black lives matter.");
  });
});

interface Intermediate {
  type: string;
  ssh_wire_pubkey?: string;
  tag?: string;
  tweak?: string;
  recipient_x25519_pub: string;
  file_key: string;
  stanza_args: string[];
  stanza_body: string;
}

describe("intermediate values (shared/vectors/age/intermediate_values.json)", () => {
  const iv = JSON.parse(read("age/intermediate_values.json")) as Record<string, Intermediate>;
  for (const [name, v] of Object.entries(iv)) {
    it(`${name}: header stanza, tag, tweak, Montgomery key`, () => {
      const path = name.replace(/ \(.*\)$/, "");
      const raw = readFileSync(join(V, path));
      const file = path.endsWith(".armored") ? dearmor(raw.toString()) : raw;
      const h = parseHeader(file);
      const st = h.stanzas.find((s) => s.args.join(" ") === v.stanza_args.join(" "));
      expect(st).toBeDefined();
      expect(hex(st!.body)).toBe(v.stanza_body);
      if (v.type === "ssh-ed25519") {
        const wire = Buffer.from(v.ssh_wire_pubkey as string, "hex");
        expect(sshTag(wire)).toBe(v.tag);
        expect(hex(sshTweak(wire))).toBe(v.tweak);
        expect(hex(edToMontgomery(wire.subarray(wire.length - 32)))).toBe(v.recipient_x25519_pub);
        expect(new SshEd25519Recipient(wire.subarray(wire.length - 32)).tag).toBe(v.tag);
      } else {
        expect(new X25519Recipient(Buffer.from(v.recipient_x25519_pub, "hex")).toString()).toMatch(/^age1/);
      }
    });
  }
});

interface Conversion {
  ssh_public?: string;
  ssh_to_age_private?: string;
  ssh_to_age_public: string;
  ed25519_seed?: string;
}

describe("ssh-to-age conversions (Mic92/ssh-to-age test assets)", () => {
  const conv = JSON.parse(read("ssh-to-age/expected_conversions.json")) as Record<string, Conversion>;
  const pem: Record<string, string> = {
    "ssh-to-age/id_ed25519": "ssh-to-age/id_ed25519",
    "ssh-to-age/sopsnix-ssh-ed25519-key": "ssh-to-age/sopsnix-ssh-ed25519-key",
    "age/sops-keysource/ssh_ed25519_identity": "age/sops-keysource/ssh_ed25519_identity",
    "age/age-cmd/key.pem": "age/age-cmd/key.pem",
  };
  for (const [name, c] of Object.entries(conv)) {
    if (c.ssh_public) {
      it(`${name}: public → ${c.ssh_to_age_public}`, () => {
        expect(sshToAgeRecipient(c.ssh_public as string)).toBe(c.ssh_to_age_public);
        expect(parseRecipient(c.ssh_public as string).kind).toBe("ssh-ed25519");
      });
    }
    const file = pem[name];
    if (file && c.ssh_to_age_private) {
      it(`${name}: private → AGE-SECRET-KEY (unclamped) and its public form agree`, () => {
        const s = sshToAgeIdentity(read(file));
        expect(s).toBe(c.ssh_to_age_private);
        expect(parseIdentities(s, "converted")[0]?.recipient().toString()).toBe(c.ssh_to_age_public);
      });
    }
  }
  it("the passphrase-protected key gets a typed error saying so", () => {
    expect(() => sshToAgeIdentity(read("ssh-to-age/id_ed25519_passphrase"))).toThrow(
      expect.objectContaining({ code: "KEY_ENCRYPTED" }),
    );
  });
  it("known_hosts lines from ssh-keyscan parse with their host", () => {
    const line = read("ssh-to-age/keyscan.txt")
      .split("\n")
      .find((l) => l.includes("ssh-ed25519")) as string;
    expect(parseSshPublicKey(line).hosts).toEqual(["eve.thalheim.io"]);
  });
  it("seed hash matches sha512 derivation", () => {
    const c = conv["ssh-to-age/id_ed25519"] as Conversion & { x25519_scalar_unclamped: string };
    expect(
      createHash("sha512")
        .update(Buffer.from(c.ed25519_seed as string, "hex"))
        .digest("hex")
        .slice(0, 64),
    ).toBe(c.x25519_scalar_unclamped);
  });
});
