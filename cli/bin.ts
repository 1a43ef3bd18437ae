#!/usr/bin/env node
/**
 * The `keyfleet` executable (package.json `bin`). It runs the CLI bundle
 * (`dist/cli/main.bundle.js`, built by tools/bundle.ts: the dispatcher and the sops verbs; the fleet
 * verbs are in `fleet.bundle.js`, loaded only by them) through a V8 code cache (./code-cache), one
 * cache per verb, so a start-up neither resolves ~150 modules nor compiles the bundle again and reads
 * only the compiled code of its own verb: issue 13 §4. Without the bundle (a tsc-only build) it runs
 * `./main` unbundled.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadBundle } from "./code-cache";
import type * as Main from "./main";

const argv = process.argv.slice(2);
const bundle = join(__dirname, "main.bundle.js");
const cli: typeof Main = existsSync(bundle)
  ? (loadBundle(bundle, argv[0] ?? "_", () => Object.hasOwn(cli.VERBS, argv[0] ?? "")) as typeof Main)
  : (require("./main") as typeof Main);
void cli.main(argv, cli.processIo()).then(cli.exitWhenDone);
