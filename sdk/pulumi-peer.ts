/**
 * The sdk's first import: `@pulumi/pulumi` is an optional peer dependency of keyfleet (a Pulumi
 * program brings its own copy, and the CLI needs none), so loading the sdk without it installed
 * fails here, once, with how to install it, instead of deep inside the first module that uses it.
 */
import { KeyfleetError } from "../provider/errors";

/** Thrown when the sdk is loaded and `@pulumi/pulumi` cannot be resolved from keyfleet's location. */
export class PulumiPeerMissingError extends KeyfleetError {
  constructor() {
    super("PEER_MISSING", "keyfleet's sdk needs @pulumi/pulumi, which is not installed where keyfleet is", {
      hint: "install it next to keyfleet in your Pulumi program (npm install @pulumi/pulumi), or use the keyfleet command, which needs no Pulumi",
    });
  }
}

try {
  require.resolve("@pulumi/pulumi");
} catch {
  // no cause: "cannot find module" and its require stack say less than the message
  throw new PulumiPeerMissingError();
}
