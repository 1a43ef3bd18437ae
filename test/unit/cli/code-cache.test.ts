// The CLI's code cache (cli/code-cache.ts, dist/): one file per bundle build and verb, written after
// the first run, accepted by the next (not rewritten), none for a word that is no verb, and the
// caches of an older build of the same bundle removed.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const loader = join(__dirname, "..", "..", "..", "dist", "cli", "code-cache.js");

/** Runs `bundle` through loadBundle with cache key `key`; `keep` answers the verb check. */
function run(dir: string, bundle: string, key: string, keep = true): string {
  const script = [
    `const { loadBundle } = require(${JSON.stringify(loader)});`,
    `const m = loadBundle(${JSON.stringify(bundle)}, ${JSON.stringify(key)}, () => ${keep});`,
    "process.stdout.write(String(m.answer()));",
  ].join("\n");
  const r = spawnSync(process.execPath, ["-e", script], {
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), KEYFLEET_NO_CODE_CACHE: "" },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function caches(dir: string): string[] {
  try {
    return readdirSync(join(dir, "cache", "keyfleet")).sort();
  } catch {
    return [];
  }
}

describe("code cache", () => {
  it("writes one cache per verb after the first run, reuses it, and skips words that are no verb", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-codecache-"));
    const bundle = join(dir, "demo.bundle.js");
    writeFileSync(bundle, "exports.answer = () => [1, 2, 3].map((x) => x * 14).reduce((a, b) => a + b);\n");
    expect(run(dir, bundle, "decrypt")).toBe("84");
    const [first] = caches(dir);
    expect(first).toMatch(/^demo\.bundle-\d+-\d+-node.*-decrypt\.v8cache$/);
    const written = statSync(join(dir, "cache", "keyfleet", first as string)).mtimeMs;
    expect(run(dir, bundle, "decrypt")).toBe("84");
    expect(statSync(join(dir, "cache", "keyfleet", first as string)).mtimeMs).toBe(written);
    expect(run(dir, bundle, "set")).toBe("84");
    expect(run(dir, bundle, "nosuchverb", false)).toBe("84");
    expect(run(dir, bundle, "../x")).toBe("84");
    const names = caches(dir);
    expect(names.map((f) => f.replace(/^.*-/, ""))).toEqual(["_.v8cache", "decrypt.v8cache", "set.v8cache"]);
  });

  it("removes the caches of an older build of the same bundle (and of the single-file cache before it)", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-codecache-"));
    const bundle = join(dir, "demo.bundle.js");
    writeFileSync(bundle, "exports.answer = () => 1;\n");
    mkdirSync(join(dir, "cache", "keyfleet"), { recursive: true });
    writeFileSync(join(dir, "cache", "keyfleet", "demo.bundle-1-2-nodev0-x64-decrypt.v8cache"), "old");
    writeFileSync(join(dir, "cache", "keyfleet", "cli-1-2-nodev0-x64.v8cache"), "old");
    writeFileSync(join(dir, "cache", "keyfleet", "other.bundle-1-2-nodev0-x64-push.v8cache"), "other");
    expect(run(dir, bundle, "decrypt")).toBe("1");
    const names = caches(dir);
    expect(names).toHaveLength(2);
    expect(names).toContain("other.bundle-1-2-nodev0-x64-push.v8cache");
    expect(names.some((f) => /^demo\.bundle-\d+-\d+-node.*-decrypt\.v8cache$/.test(f) && !f.includes("nodev0"))).toBe(
      true,
    );
  });

  it("uses only a cache nobody else could have written: a writable file is replaced, a shared directory is not used", () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-codecache-"));
    const bundle = join(dir, "demo.bundle.js");
    writeFileSync(bundle, "exports.answer = () => 7;\n");
    expect(run(dir, bundle, "decrypt")).toBe("7");
    const cacheDir = join(dir, "cache", "keyfleet");
    const [name] = caches(dir);
    const file = join(cacheDir, name as string);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // a cache others may write is not trusted: compiled afresh and replaced by a private one
    chmodSync(file, 0o666);
    const before = statSync(file).ino;
    expect(run(dir, bundle, "decrypt")).toBe("7");
    expect(statSync(file).ino).not.toBe(before);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // a cache reached through a link is not read either
    const real = join(dir, "elsewhere.v8cache");
    writeFileSync(real, "not a cache", { mode: 0o600 });
    const setFile = join(cacheDir, (name as string).replace(/decrypt\.v8cache$/, "set.v8cache"));
    symlinkSync(real, setFile);
    expect(run(dir, bundle, "set")).toBe("7");
    expect(statSync(real).size).toBe("not a cache".length);
    // a directory others may write: nothing read from it, nothing written into it
    chmodSync(cacheDir, 0o777);
    const inode = statSync(file).ino;
    chmodSync(file, 0o666);
    expect(run(dir, bundle, "decrypt")).toBe("7");
    expect(statSync(file).ino).toBe(inode);
    expect(caches(dir).some((f) => f.endsWith("-exec-env.v8cache"))).toBe(false);
    expect(run(dir, bundle, "exec-env")).toBe("7");
    expect(caches(dir).some((f) => f.endsWith("-exec-env.v8cache"))).toBe(false);
  });
});
