/**
 * CLI verbs keygen and ssh-to-age: in-process through `main` with captured IO, and once as a real
 * process (dist/cli/main.js, built by `npm test`'s pretest) for exit codes and the shebang.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../../cli/main";
import type { CliIo } from "../../../cli/args";
import { parseIdentities } from "../../../provider/age";

const V = join(__dirname, "../../../../shared/vectors");
const ROOT = join(__dirname, "../../..");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "kf-cli-"));
  dirs.push(d);
  return d;
}

async function run(
  argv: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    readStdin: async () => Buffer.from(opts.stdin ?? ""),
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    env: opts.env ?? {},
  };
  const code = await main(argv, io);
  return { code, out, err };
}

describe("keyfleet keygen", () => {
  it("-o - prints an age-keygen style entry and the public key on stderr", async () => {
    const r = await run(["keygen", "-o", "-"]);
    expect(r.code).toBe(0);
    const m =
      /^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n# public key: (age1[a-z0-9]+)\n(AGE-SECRET-KEY-1[A-Z0-9]+)\n$/.exec(
        r.out,
      );
    expect(m).not.toBeNull();
    expect(r.err).toBe(`Public key: ${m![1]}\n`);
    expect(parseIdentities(r.out, "out")[0]?.recipient().toString()).toBe(m![1]);
  });

  it("appends to $XDG_CONFIG_HOME/sops/age/keys.txt with mode 0600 and dirs 0700", async () => {
    const x = tmp();
    const env = { XDG_CONFIG_HOME: join(x, "cfg"), HOME: x };
    expect((await run(["keygen"], { env })).code).toBe(0);
    const r2 = await run(["keygen"], { env });
    expect(r2.code).toBe(0);
    const f = join(x, "cfg/sops/age/keys.txt");
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(join(x, "cfg/sops/age")).mode & 0o777).toBe(0o700);
    expect(parseIdentities(readFileSync(f, "utf8"), f)).toHaveLength(2);
  });

  it("defaults to ~/.config/sops/age/keys.txt and keeps existing content", async () => {
    const x = tmp();
    const r = await run(["keygen"], { env: { HOME: x } });
    expect(r.code).toBe(0);
    const f = join(x, ".config/sops/age/keys.txt");
    writeFileSync(f, readFileSync(f, "utf8").trimEnd()); // no final newline
    await run(["keygen", "-o", f]);
    expect(parseIdentities(readFileSync(f, "utf8"), f)).toHaveLength(2);
  });

  it("--help prints usage; bad flags exit 2", async () => {
    const h = await run(["keygen", "--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^usage: keyfleet keygen/);
    const b = await run(["keygen", "--nope"]);
    expect(b.code).toBe(2);
    expect(b.err).toBe("keyfleet: unknown flag --nope; see keyfleet keygen --help\n");
  });
});

describe("keyfleet ssh-to-age", () => {
  const conv = JSON.parse(readFileSync(join(V, "ssh-to-age/expected_conversions.json"), "utf8")) as Record<
    string,
    { ssh_to_age_public: string; ssh_to_age_private?: string }
  >;
  it("public keys from stdin (ssh-keyscan output), skipping rsa like ssh-to-age", async () => {
    const r = await run(["ssh-to-age"], { stdin: readFileSync(join(V, "ssh-to-age/keyscan.txt"), "utf8") });
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `${conv["ssh-to-age/keyscan.txt eve.thalheim.io"]!.ssh_to_age_public}\n${conv["ssh-to-age/keyscan.txt eva.thalheim.io"]!.ssh_to_age_public}\n`,
    );
    expect(r.err).toBe("skipped key: got ssh-rsa key type but: only ed25519 keys are supported\n".repeat(2));
  });
  it("--private-key -i FILE -o FILE writes the unclamped identity with mode 0600", async () => {
    const x = tmp();
    const o = join(x, "age.txt");
    const r = await run(["ssh-to-age", "--private-key", "-i", join(V, "ssh-to-age/id_ed25519"), "-o", o]);
    expect(r.code).toBe(0);
    expect(readFileSync(o, "utf8")).toBe(conv["ssh-to-age/id_ed25519"]!.ssh_to_age_private + "\n");
    expect(statSync(o).mode & 0o777).toBe(0o600);
  });
  it("Go-style -private-key works too; encrypted keys fail with exit 1 and no key material", async () => {
    const ok = await run(["ssh-to-age", "-private-key", "-i", join(V, "ssh-to-age/sopsnix-ssh-ed25519-key")]);
    expect(ok.out).toBe(conv["ssh-to-age/sopsnix-ssh-ed25519-key"]!.ssh_to_age_private + "\n");
    const bad = await run(["ssh-to-age", "--private-key", "-i", join(V, "ssh-to-age/id_ed25519_passphrase")]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^keyfleet: the openssh private key is passphrase-protected/);
    expect(bad.err).not.toMatch(/BEGIN|AAAA/);
  });
  it("malformed line: exit 1 naming the line", async () => {
    const r = await run(["ssh-to-age"], {
      stdin: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHz+U0YtjINc54dZiJNclfmEFifF7RXCFlNlTbuZBji\nssh-ed25519 AAAA\n",
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^keyfleet: line 2: /);
  });
});

describe("keyfleet as a process", () => {
  const bin = join(ROOT, "dist/cli/main.js");
  it("dist/cli/main.js exists (npm test builds it first)", () => expect(existsSync(bin)).toBe(true));
  it("prints help, exits 2 on an unknown verb and 0 on ssh-to-age from stdin", () => {
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node")).toBe(true);
    const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8", timeout: 20_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("ssh-to-age");
    const bad = spawnSync(process.execPath, [bin, "frobnicate"], { encoding: "utf8", timeout: 20_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('keyfleet: unknown verb "frobnicate"; see keyfleet --help\n');
    const conv = spawnSync(process.execPath, [bin, "ssh-to-age"], {
      input: readFileSync(join(V, "ssh-to-age/id_ed25519.pub")),
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(conv.status).toBe(0);
    expect(conv.stdout).toBe("age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452\n");
  });
});
