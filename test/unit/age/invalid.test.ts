/**
 * Table tests of invalid keys, as age's bech32/ParseRecipients tests: each row `{ input, error }`
 * gets a typed error and no message contains private key material.
 */
import { describe, expect, it } from "vitest";
import {
  EncryptedKeyError,
  KeyParseError,
  UnsupportedKeyError,
  generateX25519,
  parseIdentities,
  parseRecipient,
  parseSshPublicKey,
  sshToAgeIdentity,
  sshToAgeRecipient,
} from "../../../provider/age";
import { bech32Encode } from "../../../provider/age/bech32";
import { KeyfleetError } from "../../../provider/errors";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const V = join(__dirname, "../../../../shared/vectors");
const good = generateX25519();
const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === "q" ? "p" : "q") + s.slice(i + 1);
const edLine = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHz+U0YtjINc54dZiJNclfmEFifF7RXCFlNlTbuZBji joerg@turingmachine";
const rsaLine = readFileSync(join(V, "ssh-to-age/keyscan.txt"), "utf8")
  .split("\n")
  .find((l) => l.includes(" ssh-rsa ")) as string;
const blob = Buffer.from(edLine.split(" ")[1] as string, "base64");
// 0 is a low-order point on Curve25519 (order 1); so is 1 (order 4)
const lowOrder = bech32Encode("age", new Uint8Array(32));
const lowOrder1 = bech32Encode("age", Uint8Array.from([1, ...new Array(31).fill(0)]));

const recipientRows: { name: string; input: string; error: RegExp; type?: abstract new (...args: never[]) => Error }[] =
  [
    { name: "bad checksum", input: flip(good.recipient, good.recipient.length - 2), error: /checksum/ },
    {
      name: "wrong HRP (secret-key HRP, lowercase)",
      input: bech32Encode("age-secret-key-", new Uint8Array(32).fill(9)).replace("age-secret-key-", "agesecretkey"),
      error: /checksum|expected "age"/,
    },
    { name: "wrong HRP (age-like)", input: bech32Encode("age2", new Uint8Array(32).fill(9)), error: /expected "age"/ },
    {
      name: "mixed case",
      input: good.recipient.slice(0, 10) + good.recipient.slice(10).toUpperCase(),
      error: /mixed case/,
    },
    { name: "uppercase", input: good.recipient.toUpperCase(), error: /lowercase/ },
    { name: "wrong length (31 bytes)", input: bech32Encode("age", new Uint8Array(31).fill(7)), error: /32 bytes/ },
    { name: "wrong length (33 bytes)", input: bech32Encode("age", new Uint8Array(33).fill(7)), error: /32 bytes/ },
    { name: "low-order point 0", input: lowOrder, error: /low-order/ },
    { name: "low-order point 1", input: lowOrder1, error: /low-order/ },
    { name: "empty", input: "", error: /empty/ },
    { name: "whitespace only", input: "  \n ", error: /empty/ },
    { name: "oversized", input: "ssh-ed25519 " + "A".repeat(70_000), error: /longer than/ },
    {
      name: "truncated ssh blob",
      input: "ssh-ed25519 " + blob.subarray(0, 30).toString("base64"),
      error: /truncated|32 bytes/,
    },
    {
      name: "ssh blob with trailing bytes",
      input: "ssh-ed25519 " + Buffer.concat([blob, Buffer.from([0])]).toString("base64"),
      error: /32 bytes/,
    },
    { name: "ssh type mismatch", input: "ssh-rsa " + blob.toString("base64"), error: /does not match/ },
    { name: "bad ssh base64", input: "ssh-ed25519 AAAA*AAA", error: /base64/ },
    { name: "rsa where ed25519 is needed", input: rsaLine, error: /ssh-rsa/, type: UnsupportedKeyError },
    { name: "secret key given as recipient", input: good.identity, error: /identity \(secret key\)/ },
    { name: "post-quantum recipient", input: "age1pq1" + "q".repeat(50), error: /post-quantum/ },
    { name: "garbage", input: "hello world", error: /not an ssh public key/ },
  ];

describe("parseRecipient rejects invalid input with typed errors", () => {
  it.each(recipientRows)("$name", ({ input, error, type }) => {
    let caught: unknown;
    try {
      parseRecipient(input, "test input");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(type ?? KeyParseError);
    expect(caught).toBeInstanceOf(KeyfleetError);
    expect((caught as Error).message).toMatch(error);
    expect((caught as Error).message).toContain("test input");
    expect((caught as Error).message).not.toContain(good.identity);
    expect((caught as Error).message.length).toBeLessThan(400);
  });
});

const secretBody = good.identity.slice(16, 40);
const identityRows: { name: string; input: string; error: RegExp; line?: number }[] = [
  {
    name: "bad checksum",
    input: `# c\n${flip(good.identity.toLowerCase(), 30).toUpperCase()}\n`,
    error: /checksum/,
    line: 2,
  },
  {
    name: "mixed case",
    input: good.identity.slice(0, 20) + good.identity.slice(20).toLowerCase(),
    error: /mixed case/,
    line: 1,
  },
  {
    name: "wrong length",
    input: bech32Encode("age-secret-key-", new Uint8Array(16).fill(3)).toUpperCase(),
    error: /32 bytes/,
    line: 1,
  },
  { name: "empty", input: "", error: /no age identities/ },
  { name: "comments only", input: "# created: x\n# public key: age1xyz\n\n", error: /no age identities/ },
  {
    name: "recipient in key file",
    input: `\n\n${good.recipient}\n`,
    error: /expected an identity \(private key\) but got a public key/,
    line: 3,
  },
  { name: "oversized", input: "#".repeat((1 << 24) + 1), error: /larger than/ },
  { name: "post-quantum identity", input: "AGE-SECRET-KEY-PQ-1" + "Q".repeat(60), error: /post-quantum/, line: 1 },
  {
    name: "truncated openssh key",
    input: readFileSync(join(V, "ssh-to-age/id_ed25519"), "utf8").replace(/\n[^\n]*\n-----END/, "\n-----END"),
    error: /truncated|corrupt|base64|padding/,
  },
];

describe("parseIdentities rejects invalid input with typed errors and line numbers", () => {
  it.each(identityRows)("$name", ({ input, error, line }) => {
    let caught: unknown;
    try {
      parseIdentities(input, "keys.txt");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KeyParseError);
    const msg = (caught as Error).message;
    expect(msg).toMatch(error);
    if (line) expect(msg).toContain(`keys.txt line ${line}`);
    expect(msg).not.toContain(secretBody);
    expect(msg).not.toContain(secretBody.toLowerCase());
  });

  it("passphrase-protected openssh key: EncryptedKeyError that says so", () => {
    const pem = readFileSync(join(V, "ssh-to-age/id_ed25519_passphrase"), "utf8");
    expect(() => parseIdentities(pem, "id")).toThrow(EncryptedKeyError);
    expect(() => parseIdentities(pem, "id")).toThrow(/passphrase-protected/);
  });

  it("corrupted check-ints are detected", () => {
    const pem = readFileSync(join(V, "ssh-to-age/id_ed25519"), "utf8");
    const lines = pem.trim().split("\n");
    const raw = Buffer.from(lines.slice(1, -1).join(""), "base64");
    // magic(15) cipher(4+4) kdf(4+4) kdfopts(4) nkeys(4) = 39, then the public blob, then the private section
    const pubLen = raw.readUInt32BE(39);
    const privOff = 39 + 4 + pubLen + 4;
    raw[privOff] = (raw[privOff] as number) ^ 1;
    const bad = `-----BEGIN OPENSSH PRIVATE KEY-----\n${raw.toString("base64")}\n-----END OPENSSH PRIVATE KEY-----\n`;
    expect(() => parseIdentities(bad, "id")).toThrow(/check-ints/);
  });
});

describe("ssh helpers reject wrong types", () => {
  it("sshToAgeRecipient on rsa → UnsupportedKeyError", () =>
    expect(() => sshToAgeRecipient(rsaLine)).toThrow(UnsupportedKeyError));
  it("sshToAgeIdentity on a public key → KeyParseError", () =>
    expect(() => sshToAgeIdentity(edLine)).toThrow(KeyParseError));
  it("parseSshPublicKey on a non-string → KeyParseError", () =>
    expect(() => parseSshPublicKey(42 as unknown as string)).toThrow(KeyParseError));
  it("parseRecipient on a non-string → KeyParseError", () =>
    expect(() => parseRecipient(null as unknown as string)).toThrow(KeyParseError));
  it("authorized_keys line with options parses", () => {
    const k = parseSshPublicKey(`from="10.0.0.1,10.0.0.2",no-pty ${edLine}`);
    expect(k.options).toBe('from="10.0.0.1,10.0.0.2",no-pty');
    expect(k.comment).toBe("joerg@turingmachine");
  });
});
