/**
 * Shared setup of the `keyfleet` CLI interop tests (test/interop/cli-sops-*.test.ts): every test
 * spawns the built CLI (`node dist/cli/main.js`, built by `npm test`'s pretest or
 * `npx tsc -p tsconfig.json`) in a temp project with a temp HOME and keys made by
 * `keyfleet keygen` / ssh-keygen.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

export const ROOT = join(__dirname, "../..");
export const CLI = join(ROOT, "dist/cli/main.js");
export const VEC = join(ROOT, "../shared/vectors/sops");
export const VERBS = ["decrypt", "encrypt", "set", "updatekeys", "rotate", "exec-env", "audit"];

const dirs: string[] = [];

/** Removes every directory made by {@link tmp}; call it in `afterAll`. */
export function cleanupTmp(): void {
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
}

/** A fresh temp directory, removed by {@link cleanupTmp}. */
export function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "kf-cli-sops-"));
  dirs.push(d);
  return d;
}

/** What a CLI run gave. */
export interface Run {
  code: number | null;
  out: Buffer;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a clean environment (HOME = `home`, PATH kept) plus `env`. */
export function kf(
  args: string[],
  o: { cwd: string; home: string; env?: Record<string, string>; input?: string | Buffer },
): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: o.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: o.home, ...(o.env ?? {}) },
    input: o.input ?? "",
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

/** A keypair made by `keyfleet keygen -o FILE`. */
export function keygen(dir: string, name: string, home: string): { file: string; recipient: string; secret: string } {
  const file = join(dir, `${name}.txt`);
  const r = kf(["keygen", "-o", file], { cwd: dir, home });
  expect(r.code).toBe(0);
  const recipient = /Public key: (age1\w+)/.exec(r.stderr)?.[1] as string;
  const secret = /AGE-SECRET-KEY-1\w+/.exec(readFileSync(file, "utf8"))?.[0] as string;
  return { file, recipient, secret };
}

/** Lines of b not in a and of a not in b (multiset line diff). */
export function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const count = new Map<string, number>();
  for (const l of a.split("\n")) count.set(l, (count.get(l) ?? 0) + 1);
  const added: string[] = [];
  for (const l of b.split("\n")) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else added.push(l);
  }
  const removed = [...count.entries()].flatMap(([l, n]) => Array<string>(n).fill(l));
  return { removed, added };
}

/** Leaf values of a plain JSON value, in document order. */
export function leafValues(v: unknown): unknown[] {
  if (Array.isArray(v)) return v.flatMap(leafValues);
  if (v !== null && typeof v === "object") return Object.values(v as Record<string, unknown>).flatMap(leafValues);
  return [v];
}

/** Plaintext inputs per format, shared by the encrypt and write-verb tests. */
export const PLAIN: Record<string, string | Buffer> = {
  "a.yaml":
    "# top\ndb:\n    user: alice\n    password: s3cr3t\nport: 5432\nratio: 0.25\nflag: true\nlist:\n    - a\n    - b\npublic_unencrypted: hello\n",
  "a.json":
    '{\n\t"db": {\n\t\t"user": "alice",\n\t\t"password": "s3cr3t"\n\t},\n\t"port": 5432,\n\t"list": [\n\t\t"a",\n\t\t1\n\t]\n}\n',
  "a.env": "# comment\nDB_USER=alice\nDB_PASSWORD=s3cr3t\nEMPTY=\n",
  "a.ini": "[db]\nuser     = alice\npassword = s3cr3t\n\n[other]\nx = 1\n",
  "a.bin": Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 65, 66]),
};

/** The keys every CLI test file makes in its `beforeAll`. */
export interface Keys {
  /** Temp HOME (no keys in it). */
  home: string;
  /** Temp directory holding the key files. */
  work: string;
  alice: ReturnType<typeof keygen>;
  bob: ReturnType<typeof keygen>;
  /** Path of an unencrypted OpenSSH ed25519 private key (comment web-1); `.pub` next to it. */
  hostKey: string;
  /** Its public line. */
  hostPub: string;
}

/** Makes alice and bob with `keyfleet keygen` and a host key with ssh-keygen; needs the built CLI. */
export function setupKeys(): Keys {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: build first with npx tsc -p tsconfig.json`);
  const home = tmp();
  const work = tmp();
  const alice = keygen(work, "alice", home);
  const bob = keygen(work, "bob", home);
  const hostKey = join(work, "host_ed25519");
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "web-1", "-f", hostKey]);
  expect(r.status).toBe(0);
  const hostPub = readFileSync(hostKey + ".pub", "utf8").trim();
  return { home, work, alice, bob, hostKey, hostPub };
}

/** An encrypted project: .sops.yaml naming alice and bob, secrets/app.yaml for alice. */
export function project(k: Pick<Keys, "home" | "alice" | "bob">): string {
  const { home, alice, bob } = k;
  const d = tmp();
  mkdirSync(join(d, "secrets"));
  mkdirSync(join(d, ".git"));
  writeFileSync(
    join(d, ".sops.yaml"),
    `keys:\n  - &alice ${alice.recipient}\n  - &bob ${bob.recipient}\ncreation_rules:\n  - path_regex: ^secrets/\n    age: *alice\n`,
  );
  writeFileSync(join(d, "secrets/app.yaml"), PLAIN["a.yaml"] as string);
  expect(kf(["encrypt", "-i", "secrets/app.yaml"], { cwd: d, home }).code).toBe(0);
  return d;
}
