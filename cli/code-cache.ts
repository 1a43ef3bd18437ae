/**
 * Runs one of the CLI's esbuild bundles (tools/bundle.ts) as a CommonJS module of its own, compiled
 * through a V8 code cache, so a start-up neither resolves ~150 modules nor compiles the bundle again
 * (issue 13 §4).
 *
 * The cache holds V8 bytecode of keyfleet's own code (never data: it is created from the compiled
 * script, not from the heap) in `$XDG_CACHE_HOME/keyfleet` or `~/.cache/keyfleet`: one file per
 * bundle build (name, size and mtime), Node version and verb, written 0600 by rename at the exit of
 * the first run of that verb, after the run, so it holds the functions that verb compiled and no
 * others (a smaller cache is a faster one to read). Writing one removes the caches of other builds
 * of that bundle. V8 rejects a cache that does not match the source, the V8 version or its flags; the
 * bundle is then compiled as usual and the cache written again. Any cache error is ignored;
 * `KEYFLEET_NO_CODE_CACHE=1` turns the cache off.
 *
 * A cache is code V8 runs, so only one nobody else could have written is used: the directory must be
 * ours and writable by no one else (else no cache is read or written), and the file ours, a regular
 * file opened without following a link, and writable by no one else (else it is compiled afresh and
 * replaced). Temps are created exclusively, never through a planted name.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import Module from "node:module";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";

/** A cache key: a verb name, or `_` for any other first word. */
const KEY_RE = /^[a-z][a-z0-9-]{0,31}$/;

/** Old single-file caches (before per-verb caches), removed when a new cache is written. */
const LEGACY_RE = /^cli-.*\.v8cache$/;

/** The bundles loaded so far in this process, by path. */
const loaded = new Map<string, unknown>();

/** The cache key of the first bundle loaded (the verb's): the default of bundles loaded after it. */
let firstKey: string | undefined;

/** The cache directory, or undefined when the cache is off or there is no home. */
function cacheDir(): string | undefined {
  if (process.env["KEYFLEET_NO_CODE_CACHE"] === "1") return undefined;
  const xdg = process.env["XDG_CACHE_HOME"];
  if (xdg) return join(xdg, "keyfleet");
  const home = homedir();
  return home ? join(home, ".cache", "keyfleet") : undefined;
}

/** True when `st` is ours and neither group nor others may write it (no getuid: never). */
function ownPrivate(st: Stats): boolean {
  return typeof process.getuid === "function" && st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/** True when `dir` is a directory (not a link) of ours that nobody else can write. */
function privateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && ownPrivate(st);
  } catch {
    return false;
  }
}

/** The cache file's bytes when it is a regular file of ours that nobody else can write; else undefined. */
function readTrusted(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    return st.isFile() && ownPrivate(st) ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The file-name prefix of `bundle`'s caches for this build of it and this Node. */
function buildPrefix(bundle: string): string {
  const st = statSync(bundle);
  return `${basename(bundle, ".js")}-${st.size}-${Math.trunc(st.mtimeMs)}-node${process.version}-${process.arch}-`;
}

/** Writes the cache file atomically (0600) and removes stale caches of the same bundle; errors ignored. */
function writeCache(dir: string, file: string, data: Buffer, stalePrefix: string, currentPrefix: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!privateDir(dir)) return;
    const tmp = join(dir, `${file}.${process.pid}.tmp`);
    rmSync(tmp, { force: true }); // a temp left by a killed run of this pid number
    writeFileSync(tmp, data, { mode: 0o600, flag: "wx" });
    renameSync(tmp, join(dir, file));
    for (const f of readdirSync(dir))
      if (f.endsWith(".v8cache") && ((f.startsWith(stalePrefix) && !f.startsWith(currentPrefix)) || LEGACY_RE.test(f)))
        rmSync(join(dir, f), { force: true });
  } catch {
    // a read-only or missing cache directory only costs speed
  }
}

/**
 * Loads `bundle` (an absolute path) once per process and returns its exports. `key` names the
 * cache (a verb; anything not a plain lowercase word shares the key `_`; default: the key of the
 * first bundle this process loaded, so a library bundle a verb loads is cached per verb too);
 * `keep` is asked at exit, when the cache is to be written, whether this key deserves a file (a
 * real verb, not a typo).
 */
export function loadBundle(bundle: string, key?: string, keep: () => boolean = () => true): unknown {
  const done = loaded.get(bundle);
  if (done !== undefined) return done;
  const dir = cacheDir();
  let prefix = "";
  let cached: Buffer | undefined;
  const cacheKey = key === undefined ? (firstKey ?? "_") : KEY_RE.test(key) ? key : "_";
  firstKey ??= cacheKey;
  if (dir) {
    try {
      prefix = buildPrefix(bundle);
      if (privateDir(dir)) cached = readTrusted(join(dir, `${prefix}${cacheKey}.v8cache`));
    } catch {
      cached = undefined;
    }
  }
  const source = readFileSync(bundle, "utf8").replace(/^#!.*/, "");
  const script = new Script(Module.wrap(source), { filename: bundle, ...(cached ? { cachedData: cached } : {}) });
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = module.paths;
  loaded.set(bundle, mod.exports);
  (script.runInThisContext() as (...a: unknown[]) => void).call(
    mod.exports,
    mod.exports,
    Module.createRequire(bundle),
    mod,
    bundle,
    dirname(bundle),
  );
  loaded.set(bundle, mod.exports);
  if (dir && prefix && (!cached || script.cachedDataRejected)) {
    // after the run, so the functions this verb compiled are in the cache too
    process.once("exit", () => {
      if (cacheKey !== "_" && !keep()) return;
      let data: Buffer;
      try {
        data = script.createCachedData();
      } catch {
        return;
      }
      writeCache(dir, `${prefix}${cacheKey}.v8cache`, data, `${basename(bundle, ".js")}-`, prefix);
    });
  }
  return mod.exports;
}
