/**
 * The remote write script run by a login user who is not root, as on most VPSs. The sshd harness logs
 * in as the current user (root here), so this runs the real script with the real /bin/sh as
 * `nobody` (through runuser when the tests run as root), with the same argv and stdin a session sends.
 * Also the check after the rename that the name is still the inode written, with an `mv` on PATH
 * that swaps in a copy right after renaming.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { EXIT, WRITE_SCRIPT } from "../../provider/ssh/remote";

const asRoot = userInfo().uid === 0;
const NOBODY = 65534;

function runWrite(
  path: string,
  content: Buffer,
  mode: string,
): { status: number | null; stdout: string; stderr: string } {
  const sha = createHash("sha256").update(content).digest("hex");
  const stdin = Buffer.concat([Buffer.from(`KFv1 ${content.length} ${sha}\n`), content]);
  const argv = ["sh", "-c", WRITE_SCRIPT, "keyfleet", path, mode, "", ""];
  const r = asRoot
    ? spawnSync("runuser", ["-u", "nobody", "--", ...argv], { input: stdin })
    : spawnSync(argv[0]!, argv.slice(1), { input: stdin });
  return { status: r.status, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

describe("write script as a login user who is not root", () => {
  it("writes read-only modes (0400, 0440) as well as 0600, with the mode set and no temp left", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-write-"));
    try {
      if (asRoot) chownSync(dir, NOBODY, NOBODY);
      for (const mode of ["400", "440", "600"]) {
        const path = join(dir, `app-${mode}.env`);
        const content = Buffer.from(`A='value for ${mode}'\n`);
        const r = runWrite(path, content, mode);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        // the digest read back, then the written file's mode, owner and group (one lstat, no later stat)
        const [sum, attrs = ""] = r.stdout.trim().split(" ");
        expect(sum).toBe(createHash("sha256").update(content).digest("hex"));
        expect(attrs.split(":")[0]).toBe(mode);
        if (asRoot) expect(attrs).toBe(`${mode}:nobody:${attrs.split(":")[2]}`);
        expect(readFileSync(path)).toEqual(content);
        expect((statSync(path).mode & 0o7777).toString(8)).toBe(mode);
        if (asRoot) expect(statSync(path).uid).toBe(NOBODY);
        // a second push over the read-only file replaces it (rename needs only the directory)
        const next = Buffer.from(`A='next for ${mode}'\n`);
        expect(runWrite(path, next, mode).status).toBe(0);
        expect(readFileSync(path)).toEqual(next);
      }
      expect(readdirSync(dir).filter((f) => f.includes(".kftmp."))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a target replaced right after the rename (another inode at the name) is reported, with exit 70", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-write-"));
    try {
      // an `mv` first on PATH that renames, then puts a copy (a new inode) at the name, as another
      // writer running as the login user would between the rename and the check
      const bin = join(dir, "bin");
      const work = join(dir, "work");
      for (const d of [bin, work]) spawnSync("mkdir", ["-m", "755", d]);
      writeFileSync(
        join(bin, "mv"),
        '#!/bin/sh\nfor last; do :; done\n/bin/mv "$@" || exit\ncp -p -- "$last" "$last.copy" && /bin/mv -f -- "$last.copy" "$last"\n',
      );
      chmodSync(join(bin, "mv"), 0o755);
      const content = Buffer.from("A=1\n");
      const sha = createHash("sha256").update(content).digest("hex");
      const path = join(work, "app.env");
      const r = spawnSync("sh", ["-c", WRITE_SCRIPT, "keyfleet", path, "600", "", ""], {
        input: Buffer.concat([Buffer.from(`KFv1 ${content.length} ${sha}\n`), content]),
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` },
      });
      expect(r.stderr.toString()).toContain("target was replaced during the write");
      expect(r.status).toBe(EXIT.replaced);
      expect(r.stdout.toString()).toBe("");
      // without the stand-in the same write succeeds and prints the digest
      const ok = spawnSync("sh", ["-c", WRITE_SCRIPT, "keyfleet", path, "600", "", ""], {
        input: Buffer.concat([Buffer.from(`KFv1 ${content.length} ${sha}\n`), content]),
      });
      expect(ok.stderr.toString()).toBe("");
      expect(ok.status).toBe(0);
      expect(ok.stdout.toString().startsWith(`${sha} 600:`)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
