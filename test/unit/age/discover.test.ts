/**
 * discoverIdentities: every sops source, the report (no key material), XDG handling, the
 * SOPS_AGE_KEY_CMD argv split (no shell), and NoIdentityError.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  KeyParseError,
  NoIdentityError,
  discoverIdentities,
  generateX25519,
  splitCommandLine,
} from "../../../provider/age";

const V = join(__dirname, "../../../../shared/vectors");
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "kf-disc-"));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const a = generateX25519();
const b = generateX25519();
const c = generateX25519();

function noSecrets(report: string[]): void {
  const all = report.join("\n");
  for (const k of [a, b, c]) expect(all).not.toContain(k.identity.slice(16, 40));
  expect(all).not.toMatch(/AGE-SECRET-KEY-1|PRIVATE KEY/);
}

describe("discoverIdentities", () => {
  it("finds nothing in an empty home and reports every source", async () => {
    const home = tmp();
    const r = await discoverIdentities({ env: {}, home });
    expect(r.identities).toEqual([]);
    expect(r.report).toEqual([
      `${join(home, ".ssh/id_ed25519")}: not found`,
      "SOPS_AGE_KEY: not set",
      `${join(home, ".config/sops/age/keys.txt")}: not found`,
      "SOPS_AGE_KEY_CMD: not set",
    ]);
  });

  it("reads SOPS_AGE_KEY (whitespace separated), SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD and the ssh key", async () => {
    const home = tmp();
    const kf = join(home, "k.txt");
    writeFileSync(kf, `# created: x\n# public key: ${b.recipient}\n${b.identity}\n`);
    const cmdOut = join(home, "out.txt");
    writeFileSync(cmdOut, c.identity + "\n");
    const env = {
      SOPS_AGE_KEY: ` ${a.identity}\t `,
      SOPS_AGE_KEY_FILE: kf,
      SOPS_AGE_KEY_CMD: `cat '${cmdOut}'`,
      SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(V, "ssh-to-age/id_ed25519"),
      PATH: process.env.PATH,
    };
    const r = await discoverIdentities({ env, home });
    expect(r.identities.map((i) => i.recipient().toString())).toEqual([
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHz+U0YtjINc54dZiJNclfmEFifF7RXCFlNlTbuZBji",
      a.recipient,
      b.recipient,
      c.recipient,
    ]);
    expect(r.identities[2]?.source).toBe(`SOPS_AGE_KEY_FILE=${kf} line 3`);
    expect(r.report).toContain("SOPS_AGE_KEY: 1 identity");
    noSecrets(r.report);
    for (const id of r.identities) {
      expect(String(id)).not.toMatch(/AGE-SECRET/);
      expect(JSON.stringify(id)).not.toMatch(/AGE-SECRET/);
    }
  });

  it("uses $XDG_CONFIG_HOME/sops/age/keys.txt, else ~/.config, and ~/.ssh/id_ed25519", async () => {
    const home = tmp();
    const xdg = join(home, "xdg");
    mkdirSync(join(xdg, "sops/age"), { recursive: true });
    writeFileSync(join(xdg, "sops/age/keys.txt"), a.identity + "\n");
    mkdirSync(join(home, ".config/sops/age"), { recursive: true });
    writeFileSync(join(home, ".config/sops/age/keys.txt"), b.identity + "\n");
    mkdirSync(join(home, ".ssh"));
    writeFileSync(join(home, ".ssh/id_ed25519"), readFileSync(join(V, "ssh-to-age/id_ed25519")));
    const withXdg = await discoverIdentities({ env: { XDG_CONFIG_HOME: xdg }, home });
    expect(withXdg.identities.map((i) => i.kind)).toEqual(["ssh-ed25519", "x25519"]);
    expect(withXdg.identities[1]?.recipient().toString()).toBe(a.recipient);
    const plain = await discoverIdentities({ env: {}, home });
    expect(plain.identities[1]?.recipient().toString()).toBe(b.recipient);
  });

  it("reads the default keys.txt and ~/.ssh/id_ed25519 as well as the env-named files, as sops does", async () => {
    const home = tmp();
    mkdirSync(join(home, ".config/sops/age"), { recursive: true });
    writeFileSync(join(home, ".config/sops/age/keys.txt"), a.identity + "\n");
    const kf = join(home, "ci.txt");
    writeFileSync(kf, b.identity + "\n");
    mkdirSync(join(home, ".ssh"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(home, ".ssh/id_ed25519")]);
    const sshPub = readFileSync(join(home, ".ssh/id_ed25519.pub"), "utf8").trim();
    const env = { SOPS_AGE_KEY_FILE: kf, SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(V, "ssh-to-age/id_ed25519") };
    const r = await discoverIdentities({ env, home });
    expect(r.identities.map((i) => i.recipient().toString())).toEqual([
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHz+U0YtjINc54dZiJNclfmEFifF7RXCFlNlTbuZBji",
      sshPub,
      b.recipient,
      a.recipient,
    ]);
    expect(r.report).toContain(`${join(home, ".config/sops/age/keys.txt")}: 1 identity`);
    // the same file named twice is read once
    const same = await discoverIdentities({
      env: { SOPS_AGE_KEY_FILE: join(home, ".config/sops/age/keys.txt") },
      home,
    });
    expect(same.identities.filter((i) => i.kind === "x25519").map((i) => i.recipient().toString())).toEqual([
      a.recipient,
    ]);
  });

  it("says a public key or a pem key is the wrong kind of file, without quoting it", async () => {
    const home = tmp();
    const pub = join(home, "id.pub");
    writeFileSync(pub, readFileSync(join(V, "ssh-to-age/id_ed25519.pub")));
    await expect(discoverIdentities({ env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: pub }, home })).rejects.toThrow(
      /line 1: expected an identity \(private key\) but got a public key/,
    );
    await expect(discoverIdentities({ env: { SOPS_AGE_KEY: a.recipient }, home })).rejects.toThrow(/got a public key/);
    const pem = join(home, "rsa");
    execFileSync("ssh-keygen", ["-q", "-t", "rsa", "-b", "1024", "-m", "PEM", "-N", "", "-f", pem]);
    const err = await discoverIdentities({ env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: pem }, home }).catch(
      (e: unknown) => e as Error,
    );
    expect(String((err as Error).message)).toMatch(/another pem private key format; use an ssh-ed25519 key/);
    expect(String((err as Error).message)).not.toContain(readFileSync(pem, "utf8").split("\n")[1]?.slice(0, 20));
  });

  it("skips a passphrase-protected default ~/.ssh/id_ed25519 with a note", async () => {
    const home = tmp();
    mkdirSync(join(home, ".ssh"));
    writeFileSync(join(home, ".ssh/id_ed25519"), readFileSync(join(V, "ssh-to-age/id_ed25519_passphrase")));
    const r = await discoverIdentities({ env: {}, home });
    expect(r.report[0]).toMatch(/skipped \(passphrase-protected\)/);
  });

  it("fails loudly for an explicitly set but missing or bad source", async () => {
    const home = tmp();
    await expect(discoverIdentities({ env: { SOPS_AGE_KEY_FILE: join(home, "nope") }, home })).rejects.toThrow(
      /SOPS_AGE_KEY_FILE=.*file not found/,
    );
    await expect(discoverIdentities({ env: { SOPS_AGE_KEY: "AGE-SECRET-KEY-1XYZ" }, home })).rejects.toThrow(
      KeyParseError,
    );
    await expect(
      discoverIdentities({ env: { SOPS_AGE_KEY_CMD: "/nonexistent/cmd", PATH: process.env.PATH }, home }),
    ).rejects.toThrow(/SOPS_AGE_KEY_CMD: command not found/);
    await expect(
      discoverIdentities({ env: { SOPS_AGE_KEY_CMD: "false", PATH: process.env.PATH }, home }),
    ).rejects.toThrow(/SOPS_AGE_KEY_CMD: command failed/);
    await expect(
      discoverIdentities({ env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(V, "ssh-to-age/id_ed25519_passphrase") }, home }),
    ).rejects.toThrow(/passphrase-protected/);
  });

  it("a failing SOPS_AGE_KEY_CMD error carries neither its stdout nor a key on stderr, in the message or the cause chain", async () => {
    const home = tmp();
    const keyFile = join(home, "k.txt");
    writeFileSync(keyFile, `${a.identity}\n`);
    // prints the identity on stdout and stderr, then fails
    const env = { SOPS_AGE_KEY_CMD: `sh -c 'cat "$0"; cat "$0" >&2; exit 3' ${keyFile}`, PATH: process.env.PATH };
    const e = await discoverIdentities({ env, home }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(KeyParseError);
    expect((e as Error).message).toMatch(
      /SOPS_AGE_KEY_CMD: command failed \(exit status 3\): \(last stderr line withheld/,
    );
    const chain: string[] = [];
    for (let x: unknown = e; x !== undefined && chain.length < 10; x = (x as { cause?: unknown }).cause)
      chain.push(String(x), JSON.stringify(x), (x as Error).message);
    expect(chain.join("\n")).not.toContain(a.identity.slice(16, 40));
    // a stderr line that is not key material is shown, to say why it failed
    const env2 = { SOPS_AGE_KEY_CMD: `sh -c 'echo "vault: permission denied" >&2; exit 1'`, PATH: process.env.PATH };
    await expect(discoverIdentities({ env: env2, home })).rejects.toThrow(
      /command failed \(exit status 1\): vault: permission denied/,
    );
  });

  it("runs SOPS_AGE_KEY_CMD without a shell", async () => {
    const home = tmp();
    const ok = await discoverIdentities({
      env: { SOPS_AGE_KEY_CMD: `echo ${a.identity}`, PATH: process.env.PATH },
      home,
    });
    expect(ok.identities.map((i) => i.recipient().toString())).toEqual([a.recipient]);
    // a shell would expand $KF_KEY into the identity; argv splitting passes "$KF_KEY" to echo literally
    const env = { SOPS_AGE_KEY_CMD: "echo $KF_KEY", KF_KEY: a.identity, PATH: process.env.PATH };
    await expect(discoverIdentities({ env, home })).rejects.toThrow(
      /SOPS_AGE_KEY_CMD \(echo\) line 1: expected an AGE-SECRET-KEY/,
    );
  });
});

describe("splitCommandLine", () => {
  it.each([
    ["a b  c", ["a", "b", "c"]],
    [`op read 'op://vault/age key'`, ["op", "read", "op://vault/age key"]],
    [`cmd "a \\"q\\" b" x\\ y`, ["cmd", 'a "q" b', "x y"]],
    [`a''b ""`, ["ab", ""]],
  ])("%s", (input, want) => expect(splitCommandLine(input)).toEqual(want));
  it("rejects an unterminated quote", () => expect(() => splitCommandLine("a 'b")).toThrow(KeyParseError));
});

describe("NoIdentityError", () => {
  it("names the file, its recipients and the sources tried, and how to fix it", () => {
    const e = new NoIdentityError("secrets/prod.yaml", [a.recipient], ["SOPS_AGE_KEY: not set"]);
    expect(e.code).toBe("NO_IDENTITY");
    expect(e.message).toContain(
      `none of your identities can decrypt secrets/prod.yaml; its recipients are ${a.recipient}`,
    );
    expect(e.message).toContain("SOPS_AGE_KEY: not set");
    expect(e.message).toContain("SOPS_AGE_KEY_FILE");
  });
});
