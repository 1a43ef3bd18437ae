/**
 * The yaml package, loaded on first use: a `keyfleet decrypt` of a file the fast paths read
 * (yaml-fast.ts, yaml-data-fast.ts) never needs it, and loading it is a good part of a start-up
 * (issue 13 §4). Modules import its types with `import type` and call `yamlLib()` for values.
 */
import type * as YamlLib from "yaml";

let lib: typeof YamlLib | undefined;

/** The `yaml` module. */
export function yamlLib(): typeof YamlLib {
  return (lib ??= require("yaml") as typeof YamlLib);
}
