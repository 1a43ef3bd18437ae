/**
 * Every test file gets its own temporary directory as TMPDIR (os.tmpdir() reads it at call time, and
 * child processes inherit it), removed after the file's last hook. Temp dirs that tests make for
 * keys, sops files and sshd hosts therefore never outlive the run, whichever test made them.
 */
import { afterAll } from "vitest";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

const base = process.env["KEYFLEET_TEST_TMP_BASE"] ?? process.env["TMPDIR"] ?? "/tmp";
const dir = mkdtempSync(join(base, "kf-test-"));
// like /tmp: tests that run commands as another user (nobody) must reach their files here
chmodSync(dir, 0o1777);
process.env["KEYFLEET_TEST_TMP_BASE"] = base;
process.env["TMPDIR"] = dir;

// Registered first, so it runs after the file's own afterAll hooks (hooks run as a stack).
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
