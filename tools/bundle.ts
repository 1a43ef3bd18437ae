/**
 * The post-tsc step of `npm run build`: three esbuild bundles in dist/.
 *
 * - `dist/vendor/ssh2.js`: ssh2's pure-JavaScript client and its small dependencies, so the package
 *   need not depend on ssh2, whose install script builds optional native code (provider/ssh/ssh2.ts).
 *   The native parts stay out: ssh2 loads each of them inside a try and falls back to JavaScript.
 * - `dist/cli/main.bundle.js`: cli/main.ts and everything it imports as one file, except the fleet
 *   verbs, which the `keyfleet` executable (cli/bin.ts) runs, so start-up reads one module, not ~150.
 *   Verbs are imported on demand (cli/main.ts), and esbuild keeps each one behind a lazy initialiser,
 *   so a run executes only its verb's modules. `@pulumi/*` is external and never imported by the CLI.
 * - `dist/cli/fleet.bundle.js`: the fleet verbs ({@link FLEET}: SSH, zod-validated fleet files), the
 *   bulk of the code, which main.bundle.js loads (through the code cache, cli/code-cache.ts) only
 *   when one of them runs, so a `decrypt` or `set` never reads it (issue 13 §4).
 * - `dist/cli/yaml.bundle.js` and `dist/cli/noble.bundle.js`: the libraries main.bundle.js requires
 *   only on first use ({@link LAZY_LIBS}: the full YAML parser, the Ed25519 curve), loaded the same
 *   way, so a start-up that does not use them neither reads nor deserialises their code.
 *
 * Each bundle ends with the license texts of the packages it carries (in ASCII: one non-ASCII
 * character would make V8 hold the whole source as two-byte text).
 */
import { build, type Metafile, type Plugin } from "esbuild";
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, sep } from "node:path";

const root = join(__dirname, "..", "..");
/** ssh2's optional native parts: loaded in a try by ssh2, absent from the bundles. */
const NATIVE = ["cpu-features", "*.node"];

/** The bundled CLI takes ssh2 from the bundle itself, not from dist/vendor (provider/ssh/ssh2.ts). */
const ssh2Inline: Plugin = {
  name: "ssh2-inline",
  setup(build) {
    build.onLoad({ filter: /[\\/]provider[\\/]ssh[\\/]ssh2\.ts$/ }, () => ({
      contents: 'import { Client, utils } from "ssh2"; export { Client }; export const parseKey = utils.parseKey;',
      loader: "ts",
    }));
  },
};

/**
 * The verbs in fleet.bundle.js, by the file main.ts imports (`./<name>.js`), with the name of the
 * verb it exports. Everything else main.ts imports is in main.bundle.js.
 */
const FLEET: Record<string, string> = {
  init: "initVerb",
  provision: "provisionVerb",
  deprovision: "deprovisionVerb",
  push: "pushVerb",
};

/**
 * Libraries the sops verbs `require` on first use only (provider/sops/stores/yaml-lib.ts,
 * provider/age/agessh.ts), by specifier: the name of the bundle of their own each one is in, that
 * bundle's entry (all of yaml; of the curves, the one agessh.ts uses) and its declarations.
 */
const LAZY_LIBS: Record<string, { bundle: string; entry: string; types: string }> = {
  yaml: { bundle: "yaml", entry: 'module.exports = require("yaml");\n', types: 'export * from "yaml";\n' },
  "@noble/curves/ed25519.js": {
    bundle: "noble",
    entry: 'export { ed25519 } from "@noble/curves/ed25519.js";\n',
    types: 'export { ed25519 } from "@noble/curves/ed25519.js";\n',
  },
};

/** Packages that must stay out of main.bundle.js (the start-up of every sops verb reads all of it). */
const NOT_IN_MAIN = ["zod", "ssh2", "yaml", "@noble/curves", "@noble/hashes"];

/**
 * In main.bundle.js, main.ts's `import("./push.js")` (and the other fleet verbs) becomes a module
 * that loads fleet.bundle.js next to it, through the code cache, and exports that verb's promise;
 * main.ts awaits it like any verb module.
 */
const fleetVerbs: Plugin = {
  name: "fleet-verbs",
  setup(build) {
    build.onResolve({ filter: /^\.\/[a-z-]+\.js$/ }, (args) => {
      const name = args.path.slice(2, -3);
      if (!Object.hasOwn(FLEET, name) || !/[\\/]cli[\\/]main\.ts$/.test(args.importer)) return undefined;
      return { path: name, namespace: "fleet-verb" };
    });
    build.onLoad({ filter: /.*/, namespace: "fleet-verb" }, (args) => ({
      contents: [
        'import { join } from "node:path";',
        `import { loadBundle } from ${JSON.stringify(join(root, "cli", "code-cache.ts"))};`,
        `const fleet = loadBundle(join(__dirname, "fleet.bundle.js"), ${JSON.stringify(args.path)}) as {`,
        "  verbs: Record<string, () => Promise<unknown>>;",
        "};",
        `export const ${FLEET[args.path] as string} = fleet.verbs[${JSON.stringify(args.path)}]?.();`,
      ].join("\n"),
      loader: "ts",
      resolveDir: join(root, "cli"),
    }));
  },
};

/**
 * In main.bundle.js, each of {@link LAZY_LIBS} becomes a module that loads that library's bundle
 * next to it, through the code cache, when it is first required (or when a module importing it is
 * initialised: esbuild keeps each module behind a lazy initialiser).
 */
const lazyLibs: Plugin = {
  name: "lazy-libs",
  setup(build) {
    build.onResolve({ filter: /^(yaml|@noble\/curves\/ed25519\.js)$/ }, (args) =>
      Object.hasOwn(LAZY_LIBS, args.path) ? { path: LAZY_LIBS[args.path]?.bundle, namespace: "lazy-lib" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "lazy-lib" }, (args) => ({
      // dist/cli/code-cache.js itself, not a copy: the instance bin.js loaded main.bundle.js with,
      // which knows the verb's cache key
      contents: [
        'const { join } = require("node:path");',
        'const { loadBundle } = require(join(__dirname, "code-cache.js"));',
        `module.exports = loadBundle(join(__dirname, ${JSON.stringify(`${args.path}.bundle.js`)}));`,
      ].join("\n"),
      loader: "js",
      resolveDir: join(root, "cli"),
    }));
  },
};

/** The entry of fleet.bundle.js: a loader per fleet verb, each behind esbuild's lazy initialiser. */
function fleetEntry(): string {
  const rows = Object.entries(FLEET).map(
    ([file, name]) => `  ${JSON.stringify(file)}: async () => (await import("./${file}.js")).${name},`,
  );
  return `export const verbs = {\n${rows.join("\n")}\n};\n`;
}

/** The license texts of every npm package in a bundle's inputs, as one trailing comment. */
function licenses(meta: Metafile): string {
  const parts = packagesIn(meta)
    .sort()
    .map((name) => {
      const dir = join(root, "node_modules", name);
      const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
      const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
      const text = file ? readFileSync(join(dir, file), "utf8").trim() : "(no license file in the package)";
      return `${name}@${version}\n\n${text}`;
    });
  const text = parts
    .join("\n\n-----\n\n")
    .replace(/\*\//g, "* /")
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return parts.length ? `\n/*! bundled packages and their licenses\n\n${text}\n*/\n` : "";
}

/** One bundle: from a file, or from generated source (`entry.contents`, resolved in `entry.dir`). */
async function bundle(
  entry: string | { contents: string; dir: string; name?: string },
  outfile: string,
  plugins: Plugin[],
): Promise<Metafile> {
  const r = await build({
    ...(typeof entry === "string"
      ? { entryPoints: [entry] }
      : {
          stdin: {
            contents: entry.contents,
            resolveDir: entry.dir,
            sourcefile: entry.name ?? "fleet-verbs.ts",
            loader: "ts",
          },
        }),
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["@pulumi/*", ...NATIVE],
    plugins,
    metafile: true,
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    logLevel: "warning",
    allowOverwrite: true,
  });
  appendFileSync(outfile, licenses(r.metafile));
  return r.metafile;
}

/** The npm packages among a bundle's inputs. */
function packagesIn(meta: Metafile): string[] {
  const pkgs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input.split(sep).join("/"));
    if (m?.[1]) pkgs.add(m[1]);
  }
  return [...pkgs];
}

async function run(): Promise<void> {
  const dist = join(root, "dist");
  if (!existsSync(join(dist, "cli", "main.d.ts")))
    throw new Error("tools/bundle: run tsc first (dist/cli/main.d.ts is missing)");
  await bundle(require.resolve("ssh2", { paths: [root] }), join(dist, "vendor", "ssh2.js"), []);
  const main = await bundle(join(root, "cli", "main.ts"), join(dist, "cli", "main.bundle.js"), [fleetVerbs, lazyLibs]);
  const heavy = packagesIn(main).filter((p) => NOT_IN_MAIN.includes(p));
  if (heavy.length)
    throw new Error(
      `main.bundle.js carries ${heavy.join(", ")}: a sops verb imports it statically; require it on first use (LAZY_LIBS) or add the verb to FLEET`,
    );
  writeFileSync(join(dist, "cli", "main.bundle.d.ts"), 'export * from "./main";\n');
  for (const lib of Object.values(LAZY_LIBS)) {
    const file = join(dist, "cli", `${lib.bundle}.bundle.js`);
    await bundle({ contents: lib.entry, dir: root, name: `${lib.bundle}.ts` }, file, []);
    writeFileSync(file.replace(/\.js$/, ".d.ts"), lib.types);
  }
  await bundle({ contents: fleetEntry(), dir: join(root, "cli") }, join(dist, "cli", "fleet.bundle.js"), [ssh2Inline]);
  writeFileSync(
    join(dist, "cli", "fleet.bundle.d.ts"),
    [
      'import type { Verb } from "./args";',
      "/** The fleet verbs' loaders, by verb name (tools/bundle.ts). */",
      "export declare const verbs: Record<string, () => Promise<Verb>>;",
      "",
    ].join("\n"),
  );
}

run().catch((e: unknown) => {
  process.stderr.write(`tools/bundle: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
