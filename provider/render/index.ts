/**
 * provider/render: env files for services. `renderEnv` writes entries in a format so that the
 * format's readers get back exactly the same strings, or throws RenderError; `parseEnv` reads them
 * back by the format's rules (for tests, drift checks and read-back).
 */
import { RenderError } from "./errors";
import { parseDotenv, renderDotenv } from "./dotenv";
import { parseJson, renderJson } from "./json";
import { parseSystemd, renderSystemd } from "./systemd";

/** Output format of a HostEnv file. */
export type EnvFormat = "dotenv" | "systemd" | "json";

/** Every supported format. */
export const ENV_FORMATS: readonly EnvFormat[] = ["dotenv", "systemd", "json"];

/**
 * Render `[key, value]` entries, in order.
 * - `dotenv`: read identically by docker compose `env_file` and bash `set -a; source`.
 * - `systemd`: systemd `EnvironmentFile=`.
 * - `json`: a JSON object.
 * @throws RenderError naming the key (never the value) when a key is invalid or duplicated, or a
 * value cannot be written so that it reads back identically
 */
export function renderEnv(entries: [string, string][], format: EnvFormat): string {
  switch (format) {
    case "dotenv":
      return renderDotenv(entries);
    case "systemd":
      return renderSystemd(entries);
    case "json":
      return renderJson(entries);
    default:
      throw new RenderError(`unknown env format ${JSON.stringify(String(format))}`, {
        hint: `use one of ${ENV_FORMATS.join(", ")}`,
      });
  }
}

/**
 * Parse an env file by the rules of `format` (docker compose env_file rules for `dotenv`).
 * @throws EnvParseError with a line number
 */
export function parseEnv(text: string, format: EnvFormat): [string, string][] {
  switch (format) {
    case "dotenv":
      return parseDotenv(text);
    case "systemd":
      return parseSystemd(text);
    case "json":
      return parseJson(text);
    default:
      throw new RenderError(`unknown env format ${JSON.stringify(String(format))}`, {
        hint: `use one of ${ENV_FORMATS.join(", ")}`,
      });
  }
}

export { RenderError, EnvParseError } from "./errors";
export { KEY_RE, BASH_SPECIAL } from "./keys";
export { quoteDotenv } from "./dotenv";
export { quoteSystemd } from "./systemd";
