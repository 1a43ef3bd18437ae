/** Store dispatch and format detection. */
import { SopsArgumentError } from "../errors.js";
import { binaryStore } from "./binary.js";
import { dotenvStore } from "./dotenv.js";
import { iniStore } from "./ini.js";
import { jsonStore } from "./json.js";
import type { SopsFormat, Store } from "./store.js";
import { yamlStore } from "./yaml.js";

export type { SopsFormat, Store, Parsed, StoreOptions } from "./store.js";

const STORES: Record<SopsFormat, Store> = {
  yaml: yamlStore,
  json: jsonStore,
  dotenv: dotenvStore,
  ini: iniStore,
  binary: binaryStore,
};

/** The store for a format. @throws SopsArgumentError on an unknown format. */
export function storeFor(format: SopsFormat): Store {
  const s = (STORES as Record<string, Store | undefined>)[format];
  if (!s)
    throw new SopsArgumentError(
      `unknown sops format ${JSON.stringify(format)}`,
      "use one of yaml, json, dotenv, ini, binary",
    );
  return s;
}

/** Format from a file name as sops picks it: .yaml/.yml, .json, .env, .ini, anything else binary. */
export function formatFromPath(path: string): SopsFormat {
  const p = path.toLowerCase();
  if (p.endsWith(".yaml") || p.endsWith(".yml")) return "yaml";
  if (p.endsWith(".json")) return "json";
  if (p.endsWith(".env")) return "dotenv";
  if (p.endsWith(".ini")) return "ini";
  return "binary";
}
