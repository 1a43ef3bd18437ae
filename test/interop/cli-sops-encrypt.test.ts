/**
 * `keyfleet encrypt` end to end (round trips in every format, --in-place, rules, .sops.yaml),
 * spawning the built CLI (see ./cli-helpers.ts). The real `age` CLI decrypts the `enc` entries the
 * CLI wrote.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAIN, cleanupTmp, kf, setupKeys, tmp, type Keys } from "./cli-helpers";

let home: Keys["home"], alice: Keys["alice"], bob: Keys["bob"], hostKey: Keys["hostKey"], hostPub: Keys["hostPub"];
beforeAll(() => {
  ({ home, alice, bob, hostKey, hostPub } = setupKeys());
});
afterAll(cleanupTmp);

describe("encrypt → decrypt round trip", () => {
  for (const [name, plain] of Object.entries(PLAIN)) {
    it(`${name}: our encrypt, our decrypt, byte for byte`, () => {
      const d = tmp();
      writeFileSync(join(d, name), plain);
      const enc = kf(["encrypt", "--age", `${alice.recipient},${hostPub}`, name], { cwd: d, home });
      expect(enc.stderr).toBe("");
      expect(enc.code).toBe(0);
      expect(readFileSync(join(d, name))).toEqual(Buffer.isBuffer(plain) ? plain : Buffer.from(plain));
      expect(enc.stdout).not.toContain("s3cr3t");
      writeFileSync(join(d, "enc-" + name), enc.stdout);
      const args = name === "a.bin" ? ["--input-type", "binary"] : [];
      for (const env of [{ SOPS_AGE_KEY_FILE: alice.file }, { SOPS_AGE_SSH_PRIVATE_KEY_FILE: hostKey }] as Record<
        string,
        string
      >[]) {
        const dec = kf(["decrypt", ...args, "enc-" + name], { cwd: d, home, env });
        expect(dec.stderr).toBe("");
        expect(dec.out).toEqual(Buffer.isBuffer(plain) ? plain : Buffer.from(plain));
      }
    });
  }

  it("--in-place, then a second encrypt is refused with exit 203", () => {
    const d = tmp();
    writeFileSync(join(d, "s.yaml"), PLAIN["a.yaml"] as string);
    expect(kf(["encrypt", "-i", "--age", alice.recipient, "s.yaml"], { cwd: d, home }).code).toBe(0);
    const once = readFileSync(join(d, "s.yaml"), "utf8");
    expect(once).toMatch(/password: ENC\[AES256_GCM,/);
    expect(once).toContain("public_unencrypted: hello");
    const again = kf(["encrypt", "-i", "--age", alice.recipient, "s.yaml"], { cwd: d, home });
    expect(again.code).toBe(203);
    expect(again.stderr).toContain("already encrypted");
    expect(readFileSync(join(d, "s.yaml"), "utf8")).toBe(once);
  });

  it("--encrypted-regex leaves other keys in clear; no recipients exits 111", () => {
    const d = tmp();
    writeFileSync(join(d, "s.yaml"), PLAIN["a.yaml"] as string);
    const r = kf(["encrypt", "--age", alice.recipient, "--encrypted-regex", "^password$", "s.yaml"], { cwd: d, home });
    expect(r.stdout).toContain("user: alice");
    expect(r.stdout).toMatch(/password: ENC\[/);
    expect(r.stdout).toContain("encrypted_regex: ^password$");
    expect(kf(["encrypt", "s.yaml"], { cwd: d, home }).code).toBe(111);
  });

  it("recipients and rules from the .sops.yaml creation rule", () => {
    const d = tmp();
    mkdirSync(join(d, "secrets"));
    writeFileSync(
      join(d, ".sops.yaml"),
      `creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    encrypted_regex: ^password$\n    age: ${alice.recipient},${bob.recipient}\n`,
    );
    writeFileSync(join(d, "secrets/s.yaml"), PLAIN["a.yaml"] as string);
    const r = kf(["encrypt", "secrets/s.yaml"], { cwd: d, home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`recipient: ${bob.recipient}`);
    expect(r.stdout).toContain("user: alice");
  });

  it("the real age CLI decrypts the enc entries we wrote (x25519 and ssh-ed25519)", () => {
    const d = tmp();
    writeFileSync(join(d, "s.json"), PLAIN["a.json"] as string);
    const r = kf(["encrypt", "--age", `${alice.recipient},${hostPub}`, "s.json"], { cwd: d, home });
    const age = (JSON.parse(r.stdout) as { sops: { age: { recipient: string; enc: string }[] } }).sops.age;
    // as sops: the recipient string as given (trimmed), the ssh key's comment included
    expect(age.map((a) => a.recipient)).toEqual([alice.recipient, hostPub]);
    expect(hostPub).toMatch(/ web-1$/);
    const keys = age.map((a, i) => {
      writeFileSync(join(d, `enc${i}`), a.enc);
      const out = spawnSync("age", ["-d", "-i", i === 0 ? alice.file : hostKey, join(d, `enc${i}`)]);
      expect(out.stderr.toString()).toBe("");
      expect(out.status).toBe(0);
      return out.stdout;
    });
    expect(keys[0]).toHaveLength(32);
    expect(keys[1]).toEqual(keys[0]);
    // the ssh entry is the native ssh-ed25519 stanza
    const header = (i: number) =>
      Buffer.from(age[i]!.enc.split("\n").slice(1, -2).join(""), "base64").toString("latin1");
    expect(header(0)).toContain("\n-> X25519 ");
    expect(header(1)).toContain("\n-> ssh-ed25519 ");
  });
});
