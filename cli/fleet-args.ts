/**
 * Arguments of `keyfleet provision`: the `[NAME=]user@host[:port]` target and the
 * `--env PATH:secrets/FILE[:KEY,KEY…]` specs.
 */
import { basename } from "node:path";
import { UsageError } from "./args";

/** A parsed provision target. */
export interface Target {
  /** Host name in fleet.yaml: NAME, else the host. */
  readonly name: string;
  readonly user: string;
  readonly host: string;
  /** Undefined means 22. */
  readonly port?: number;
}

/** One `--env` spec. */
export interface EnvSpec {
  /** Absolute path of the env file on the host. */
  readonly path: string;
  /** The sops file in the repo. */
  readonly file: string;
  /** Keys to take; undefined means every top-level key. */
  readonly keys?: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Parses `[NAME=]user@host[:port]` (`[::1]:2222` for IPv6). @throws UsageError */
export function parseTarget(text: string): Target {
  const m = /^(?:([^=@\s]+)=)?([^@\s:]+)@(\[[^\]\s]+\]|[^@\s:]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m)
    throw new UsageError(
      "provision",
      "the target must look like [NAME=]user@host[:port], e.g. web-1=deploy@203.0.113.10:22",
    );
  const host = (m[3] as string).replace(/^\[|\]$/g, "");
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && (port < 1 || port > 65535))
    throw new UsageError("provision", "the port must be from 1 to 65535");
  const name = m[1] ?? host;
  if (!NAME.test(name))
    throw new UsageError(
      "provision",
      `host name ${JSON.stringify(name)} must match ${NAME.source}; give one with NAME=user@host`,
    );
  return { name, user: m[2] as string, host, ...(port !== undefined && port !== 22 ? { port } : {}) };
}

/** Parses `PATH:FILE[:KEY,KEY…]`. @throws UsageError */
export function parseEnvSpec(text: string): EnvSpec {
  const [path, file, keys, extra] = text.split(":");
  if (!path || !file || extra !== undefined)
    throw new UsageError("provision", "--env must look like /etc/app/app.env:secrets/app.yaml[:KEY,KEY…]");
  if (!path.startsWith("/") || path.endsWith("/"))
    throw new UsageError("provision", `--env: ${JSON.stringify(path)} must be an absolute file path on the host`);
  const list =
    keys === undefined
      ? undefined
      : keys
          .split(",")
          .map((k) => k.trim())
          .filter(Boolean);
  if (list !== undefined && list.length === 0)
    throw new UsageError(
      "provision",
      "--env: list at least one KEY after the second colon, or leave it off for every key",
    );
  return { path, file: file.replace(/^\.\//, ""), ...(list ? { keys: list } : {}) };
}

/** A files-entry name for a sops file path: `secrets/app.yaml` → `app`. */
export function fileNameFor(path: string, taken: ReadonlySet<string>): string {
  const stem =
    basename(path)
      .replace(/\.[^.]*$/, "")
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[^A-Za-z0-9]+/, "") || "secrets";
  let name = stem.slice(0, 60);
  for (let k = 2; taken.has(name); k++) name = `${stem.slice(0, 56)}-${k}`;
  return name;
}
