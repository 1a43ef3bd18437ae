/**
 * The reading verbs of the `keyfleet` CLI end to end (--help of every sops verb, decrypt), spawning
 * the built CLI (see ./cli-helpers.ts). Vectors: the real sops files of getsops/sops PR 1031 in
 * ../shared/vectors/sops/sops-pr1031 (key: age_keys.txt), with the plaintext in expected.json.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VEC, VERBS, cleanupTmp, kf, leafValues, setupKeys, tmp, type Keys } from "./cli-helpers";

let home: Keys["home"], work: Keys["work"], alice: Keys["alice"];
beforeAll(() => {
  ({ home, work, alice } = setupKeys());
});
afterAll(cleanupTmp);

describe("--help", () => {
  for (const verb of VERBS) {
    it(`keyfleet ${verb} --help prints usage, flags and exits 0`, () => {
      const r = kf([verb, "--help"], { cwd: work, home });
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`usage: keyfleet ${verb} `)).toBe(true);
      expect(r.stdout).toContain("-h, --help");
    });
  }
  it("keyfleet --help lists every sops verb", () => {
    const r = kf(["--help"], { cwd: work, home });
    for (const verb of VERBS) expect(r.stdout).toMatch(new RegExp(`^  ${verb} `, "m"));
  });
});

describe("decrypt: real sops files (getsops/sops PR 1031)", () => {
  const expected = JSON.parse(readFileSync(join(VEC, "expected.json"), "utf8")) as Record<
    string,
    { leaves: { value: unknown }[]; comments: { value: string }[] }
  >;
  const env = (): Record<string, string> => ({ SOPS_AGE_KEY_FILE: join(VEC, "sops-pr1031/age_keys.txt") });

  for (const name of ["example.yaml", "example.json", "example.ini"]) {
    it(`${name}: every leaf matches expected.json, comments included`, () => {
      const file = join(VEC, "sops-pr1031", name);
      const asJson = kf(["decrypt", "--output-type", "json", file], { cwd: work, home, env: env() });
      expect(asJson.stderr).toBe("");
      expect(asJson.code).toBe(0);
      const want = expected[`sops-pr1031/${name}`] as { leaves: { value: unknown }[]; comments: { value: string }[] };
      expect(leafValues(JSON.parse(asJson.stdout))).toEqual(want.leaves.map((l) => l.value));
      const native = kf(["decrypt", file], { cwd: work, home, env: env() });
      expect(native.code).toBe(0);
      for (const c of want.comments) expect(native.stdout).toContain(c.value.trim());
      if (name === "example.yaml")
        expect(leafValues(parseYaml(native.stdout))).toEqual(want.leaves.map((l) => l.value));
    });
  }

  it("example.txt (binary store) prints the raw data", () => {
    const r = kf(["decrypt", join(VEC, "sops-pr1031/example.txt")], { cwd: work, home, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected["sops-pr1031/example.txt"]?.leaves[0]?.value);
  });

  it("--extract prints a string raw, a subtree in the output format; bad paths exit 91", () => {
    const file = join(VEC, "sops-pr1031/example.yaml");
    expect(
      kf(["decrypt", "--extract", '["app2"]["db"]["password"]', file], { cwd: work, home, env: env() }).stdout,
    ).toBe("c4r1b0u");
    expect(kf(["decrypt", "--extract", "app2.db.user", file], { cwd: work, home, env: env() }).stdout).toBe("eve");
    expect(kf(["decrypt", "--extract", '["an_array"][1]', file], { cwd: work, home, env: env() }).stdout).toBe(
      "secretuser2",
    );
    const sub = kf(["decrypt", "--extract", '["app2"]["db"]', "--output-type", "json", file], {
      cwd: work,
      home,
      env: env(),
    });
    expect(JSON.parse(sub.stdout)).toEqual({ user: "eve", password: "c4r1b0u" });
    expect(kf(["decrypt", "--extract", '["app2"', file], { cwd: work, home, env: env() }).code).toBe(91);
    const missing = kf(["decrypt", "--extract", '["nope"]', file], { cwd: work, home, env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('key ["nope"] not found');
  });

  it("wrong identity: exit 128, names the recipients and sources tried, never a key", () => {
    const r = kf(["decrypt", join(VEC, "sops-pr1031/example.yaml")], {
      cwd: work,
      home,
      env: { SOPS_AGE_KEY_FILE: alice.file },
    });
    expect(r.code).toBe(128);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("none of your identities can decrypt");
    expect(r.stderr).toContain("age1yt3t…");
    expect(r.stderr).toContain(`SOPS_AGE_KEY_FILE=${alice.file}: 1 identity`);
    expect(r.stderr).toContain("set SOPS_AGE_KEY_FILE");
    expect(r.stderr).not.toContain("AGE-SECRET-KEY");
    expect(r.stderr).not.toContain(alice.secret);
  });

  it("missing file exits 2, a configured but missing key file exits 128", () => {
    const r = kf(["decrypt", join(work, "nope.yaml")], { cwd: work, home, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("file not found");
    const k = kf(["decrypt", join(VEC, "sops-pr1031/example.yaml")], {
      cwd: work,
      home,
      env: { SOPS_AGE_KEY_FILE: join(work, "missing.txt") },
    });
    expect(k.code).toBe(128);
  });

  it("a tampered value exits 25 and prints no plaintext", () => {
    const d = tmp();
    const text = readFileSync(join(VEC, "sops-pr1031/example.yaml"), "utf8");
    const bad = text.replace(
      /^(myapp1: ENC\[AES256_GCM,data:)(.)/m,
      (_m, a: string, c: string) => a + (c === "A" ? "B" : "A"),
    );
    expect(bad).not.toBe(text);
    writeFileSync(join(d, "bad.yaml"), bad);
    const r = kf(["decrypt", "bad.yaml"], { cwd: d, home, env: env() });
    expect(r.code).toBe(25);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toContain("c4r1b0u");
  });

  it("a removed value is a mac mismatch (exit 51); --ignore-mac decrypts the rest", () => {
    const d = tmp();
    const text = readFileSync(join(VEC, "sops-pr1031/example.yaml"), "utf8");
    const cut = text.replace(/^myapp1: .*\n/m, "");
    expect(cut).not.toBe(text);
    writeFileSync(join(d, "cut.yaml"), cut);
    const r = kf(["decrypt", "cut.yaml"], { cwd: d, home, env: env() });
    expect(r.code).toBe(51);
    expect(r.stderr).toContain("mac mismatch");
    const ok = kf(["decrypt", "--ignore-mac", "--extract", "app2.db.user", "cut.yaml"], { cwd: d, home, env: env() });
    expect(ok.stdout).toBe("eve");
  });
});
