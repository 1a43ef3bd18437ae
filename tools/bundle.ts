/**
 * The post-tsc step of `npm run build`: two esbuild bundles in dist/.
 *
 * - `dist/vendor/ssh2.js`: ssh2's pure-JavaScript client and its small dependencies, so the package
 *   need not depend on ssh2, whose install script builds optional native code (provider/ssh/ssh2.ts).
 *   The native parts stay out: ssh2 loads each of them inside a try and falls back to JavaScript.
 * - `dist/cli/main.bundle.js`: cli/main.ts and everything it imports as one file, which the
 *   `keyfleet` executable (cli/bin.ts) runs, so start-up reads one module, not ~150. Verbs are
 *   imported on demand (cli/main.ts), and esbuild keeps each one behind a lazy initialiser, so a run
 *   executes only its verb's modules. `@pulumi/*` is external and never imported by the CLI.
 *
 * Each bundle ends with the license texts of the packages it carries.
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

/** The license texts of every npm package in a bundle's inputs, as one trailing comment. */
function licenses(meta: Metafile): string {
  const pkgs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input.split(sep).join("/"));
    if (m?.[1]) pkgs.add(m[1]);
  }
  const parts = [...pkgs].sort().map((name) => {
    const dir = join(root, "node_modules", name);
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
    const text = file ? readFileSync(join(dir, file), "utf8").trim() : "(no license file in the package)";
    return `${name}@${version}\n\n${text}`;
  });
  return parts.length
    ? `\n/*! bundled packages and their licenses\n\n${parts.join("\n\n-----\n\n").replace(/\*\//g, "* /")}\n*/\n`
    : "";
}

async function bundle(entry: string, outfile: string, plugins: Plugin[]): Promise<void> {
  const r = await build({
    entryPoints: [entry],
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
}

async function run(): Promise<void> {
  const dist = join(root, "dist");
  if (!existsSync(join(dist, "cli", "main.d.ts")))
    throw new Error("tools/bundle: run tsc first (dist/cli/main.d.ts is missing)");
  await bundle(require.resolve("ssh2", { paths: [root] }), join(dist, "vendor", "ssh2.js"), []);
  await bundle(join(root, "cli", "main.ts"), join(dist, "cli", "main.bundle.js"), [ssh2Inline]);
  writeFileSync(join(dist, "cli", "main.bundle.d.ts"), 'export * from "./main";\n');
}

run().catch((e: unknown) => {
  process.stderr.write(`tools/bundle: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
