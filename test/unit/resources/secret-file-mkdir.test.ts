/**
 * SecretFile create makes missing parent directories (mkdir -p, mode 0755 less the umask), leaves
 * existing ones alone, and fails with a typed error when a path component is a file.
 */
import { describe, expect, it } from "vitest";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateX25519, parseIdentities } from "../../../provider/age";
import { decrypt } from "../../../provider/sops";
import { KeyfleetError } from "../../../provider/errors";
import * as sf from "../../../provider/resources/secret-file";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const dir = tmpDirWithAgeKey("kf-sfmk-", alice.identity);
const ins = (path: string) => ({
  path,
  recipients: [{ name: "alice", recipient: alice.recipient }],
  values: { "db.password": "hunter2" },
  auditLog: join(dir, "audit.jsonl"),
});
const perm = (p: string) => statSync(p).mode & 0o777;

describe("SecretFile create: parent directories", () => {
  it("creates missing parents with mode 0755 less the umask, and the file decrypts", async () => {
    const umask = process.umask();
    const file = join(dir, "new", "deep", "er", "secrets.yaml");
    const res = await sf.create(ins(file));
    expect(res.id).toBe(file);
    expect(existsSync(file)).toBe(true);
    for (const d of ["new", "new/deep", "new/deep/er"]) expect(perm(join(dir, d))).toBe(0o755 & ~umask);
    const plain = await decrypt(readFileSync(file, "utf8"), {
      format: "yaml",
      identities: parseIdentities(alice.identity, "test"),
    });
    expect(plain.leaves.map((l) => [l.path.join("."), l.value])).toEqual([["db.password", "hunter2"]]);
  });

  it("leaves an existing parent's mode as it is", async () => {
    const existing = join(dir, "private");
    mkdirSync(existing);
    chmodSync(existing, 0o700);
    const file = join(existing, "sub", "s.env");
    await sf.create({ ...ins(file), values: { TOKEN: "x" } });
    expect(perm(existing)).toBe(0o700);
    expect(existsSync(file)).toBe(true);
  });

  it("a path through a regular file is a typed error naming the file, and nothing is written", async () => {
    const blocker = join(dir, "blocker");
    writeFileSync(blocker, "not a directory");
    const file = join(blocker, "x", "s.yaml");
    const err = await sf.create(ins(file)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyfleetError);
    expect((err as KeyfleetError).code).toBe("WRITE_FAILED");
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).not.toContain("hunter2");
    expect(readFileSync(blocker, "utf8")).toBe("not a directory");
  });
});
