/**
 * What the serialisation and protocol tests load from dist/ (tsc's CommonJS), through node's own
 * require: a provider closure loaded through vitest's transform cannot be serialised, so the
 * provider-server client, the serialiser, the sshd harness and the SDK providers come from there.
 */
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

/** The project root (its `dist/` is what these tests load). */
export const root = resolve(__dirname, "..");

/** node's require, resolving from the project root: `distRequire("./dist/sdk/host-env.js")`. */
export const distRequire = createRequire(join(root, "package.json"));

/** The provider-server client from dist/. */
export const { ProviderClient } = distRequire(
  "./dist/test/harness/engine/provider-client.js",
) as typeof import("./harness/engine/provider-client");

/** The provider serialiser from dist/. */
export const { serializeProvider } = distRequire(
  "./dist/test/harness/engine/serialize.js",
) as typeof import("./harness/engine/serialize");

/** The sshd harness from dist/ (the one the dist/ provider's tests share). */
export function distSshd(): typeof import("./harness/sshd") {
  return distRequire("./dist/test/harness/sshd.js") as typeof import("./harness/sshd");
}
