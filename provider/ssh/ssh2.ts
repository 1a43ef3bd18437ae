/**
 * ssh2's client class, for the modules of provider/ssh.
 *
 * The published package does not depend on ssh2: its install script builds optional native code
 * (cpu-features, an sshcrypto binding) that keyfleet does not need, and npm warns about it on every
 * install. `npm run build` bundles ssh2's pure-JavaScript part into `dist/vendor/ssh2.js`
 * (tools/bundle.ts), and this module loads that file when it is there. In the source tree (tests run
 * from TypeScript) it is not, and the ssh2 devDependency is loaded instead: the same code.
 */
import type * as Ssh2 from "ssh2";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The bundled copy next to dist/provider/ssh (dist/vendor/ssh2.js), as built by tools/bundle.ts. */
const vendored = join(__dirname, "..", "..", "vendor", "ssh2.js");

const ssh2 = require(existsSync(vendored) ? vendored : "ssh2") as typeof Ssh2;

/** ssh2's `Client` (an SSH connection). */
export const Client = ssh2.Client;
/** ssh2's `Client` (an SSH connection). */
export type Client = Ssh2.Client;
/** ssh2's key parser (OpenSSH/PEM text to the key object its connections take). */
export const parseKey = ssh2.utils.parseKey;
