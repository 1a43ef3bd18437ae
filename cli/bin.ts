#!/usr/bin/env node
/**
 * The `keyfleet` executable (package.json `bin`). It runs the one-file CLI bundle
 * (`dist/cli/main.bundle.js`, built by tools/bundle.ts) through a V8 code cache, so a start-up
 * neither resolves ~150 modules nor compiles the bundle again: issue 13 §4. Without the bundle
 * (a tsc-only build) it runs `./main` unbundled.
 *
 * The cache holds V8 bytecode of keyfleet's own code (never data: it is created from the compiled
 * script, not from the heap) in `$XDG_CACHE_HOME/keyfleet` or `~/.cache/keyfleet`, one file per
 * keyfleet bundle (size and mtime) and Node version, written once, 0600, by rename (removing the
 * caches of other builds). V8 rejects a
 * cache that does not match the source, the V8 version or its flags, and the bundle is then compiled
 * as usual. Any cache error is ignored; `KEYFLEET_NO_CODE_CACHE=1` turns the cache off.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import Module from "node:module";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";
import type * as Main from "./main";

/** The cache file for `bundle`, or undefined when the cache is off or has no home. */
function cachePath(bundle: string): string | undefined {
  if (process.env["KEYFLEET_NO_CODE_CACHE"] === "1") return undefined;
  const base = process.env["XDG_CACHE_HOME"] || (homedir() ? join(homedir(), ".cache") : "");
  if (!base) return undefined;
  const st = statSync(bundle);
  return join(
    base,
    "keyfleet",
    `cli-${st.size}-${Math.trunc(st.mtimeMs)}-node${process.version}-${process.arch}.v8cache`,
  );
}

/** Loads the bundle as a CommonJS module of its own, compiled with the code cache when there is one. */
function loadBundle(bundle: string): typeof Main {
  const cache = cachePath(bundle);
  let cached: Buffer | undefined;
  try {
    if (cache) cached = readFileSync(cache);
  } catch {
    cached = undefined;
  }
  const source = readFileSync(bundle, "utf8").replace(/^#!.*/, "");
  const script = new Script(Module.wrap(source), { filename: bundle, ...(cached ? { cachedData: cached } : {}) });
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = module.paths;
  (script.runInThisContext() as (...a: unknown[]) => void).call(
    mod.exports,
    mod.exports,
    Module.createRequire(bundle),
    mod,
    bundle,
    dirname(bundle),
  );
  if (cache && (!cached || script.cachedDataRejected)) {
    // after the run, so the functions this verb compiled are in the cache too
    process.once("exit", () => {
      try {
        mkdirSync(dirname(cache), { recursive: true, mode: 0o700 });
        const tmp = `${cache}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, cache);
        // the caches of earlier keyfleet builds are dead weight
        for (const f of readdirSync(dirname(cache)))
          if (/^cli-.*\.v8cache$/.test(f) && f !== basename(cache)) rmSync(join(dirname(cache), f), { force: true });
      } catch {
        // a read-only or missing cache directory only costs speed
      }
    });
  }
  return mod.exports as typeof Main;
}

const bundle = join(__dirname, "main.bundle.js");
const cli: typeof Main = existsSync(bundle) ? loadBundle(bundle) : (require("./main") as typeof Main);
void cli.main(process.argv.slice(2), cli.processIo()).then((code) => {
  process.exitCode = code;
});
