/**
 * Shared setup of the SecretFile unit tests: a fresh temp directory for the files, and the
 * deployer's identity in `SOPS_AGE_KEY` while the file's tests run. Both are undone after them.
 */
import { afterAll, beforeAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Creates a temp directory named `<prefix>…` now and returns it; registers hooks that set
 * `SOPS_AGE_KEY` to `identity` before the file's tests and, after them, restore the variable and
 * remove the directory. Call it at the top level of a test file.
 */
export function tmpDirWithAgeKey(prefix: string, identity: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const saved = process.env["SOPS_AGE_KEY"];
  beforeAll(() => {
    process.env["SOPS_AGE_KEY"] = identity;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env["SOPS_AGE_KEY"];
    else process.env["SOPS_AGE_KEY"] = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
