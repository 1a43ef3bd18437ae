/**
 * The demo's fleet: two files, up to three hosts, and the fleet.yaml the demo rewrites between steps.
 *
 * - `app` (secrets/app.yaml): DB_PASSWORD, API_TOKEN
 * - `metrics` (secrets/metrics.env): TOKEN
 * - web-1: app.env with DB_PASSWORD + API_TOKEN (dotenv)
 * - web-2: app.env with DB_PASSWORD only, plus the metrics TOKEN as METRICS_TOKEN (dotenv)
 * - web-3 (added in step 2): app.env with DB_PASSWORD + API_TOKEN (systemd EnvironmentFile)
 * Each env file's onChange appends a line to `restarts.log` next to it, so restarts can be counted.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { EnvFormat } from "../../provider/render";
import type { DemoHost } from "./hosts";

/** Host names of the demo, in order. */
export const HOSTS = ["web-1", "web-2", "web-3"] as const;
/** A demo host name. */
export type HostName = (typeof HOSTS)[number];

/** The env format each host's app.env uses. */
export const ENV_FORMAT: Record<HostName, EnvFormat> = { "web-1": "dotenv", "web-2": "dotenv", "web-3": "systemd" };

/** The env names each host's app.env holds. */
export const ENV_KEYS: Record<HostName, string[]> = {
  "web-1": ["DB_PASSWORD", "API_TOKEN"],
  "web-2": ["DB_PASSWORD", "METRICS_TOKEN"],
  "web-3": ["DB_PASSWORD", "API_TOKEN"],
};

/** Paths of the demo files relative to the project directory. */
export const FILE_PATHS = { app: "secrets/app.yaml", metrics: "secrets/metrics.env" } as const;

/** Where a host's env file and restart marker are. */
export function hostPaths(h: DemoHost): { env: string; restarts: string } {
  return { env: join(h.dataDir, "app.env"), restarts: join(h.dataDir, "restarts.log") };
}

function envFiles(name: HostName, h: DemoHost): unknown[] {
  const p = hostPaths(h);
  const onChange = `echo restarted >> '${p.restarts}'`;
  const app = (keys: string[]) => ({ file: "app", keys });
  const sources =
    name === "web-2"
      ? [app(["DB_PASSWORD"]), { file: "metrics", keys: ["TOKEN"], prefix: "METRICS_" }]
      : [app(["DB_PASSWORD", "API_TOKEN"])];
  // `name`: the HostEnv is fleet-<host>-app.env rather than a slug of the temporary path
  return [{ path: p.env, name: "app.env", format: ENV_FORMAT[name], mode: "0600", sources, onChange }];
}

/**
 * Writes fleet.yaml for the hosts in `members` (public keys, addresses, key file paths only).
 * Values are seeded from secret config (`keyfleet:dbPassword`, …) when it is set.
 */
export function writeInventory(
  file: string,
  o: { operator: string; ci: string; hosts: Record<HostName, DemoHost>; members: readonly HostName[]; keyDir: string },
): void {
  const hosts: Record<string, unknown> = {};
  for (const n of o.members) {
    const h = o.hosts[n];
    hosts[n] = {
      address: h.host,
      port: h.port,
      user: h.user,
      privateKeyFile: join(o.keyDir, n),
      hostKey: h.hostKeyLine,
      envFiles: envFiles(n, h),
    };
  }
  const doc = {
    operators: { alice: o.operator },
    ci: { "ci-runner": o.ci },
    files: {
      app: {
        path: FILE_PATHS.app,
        values: { DB_PASSWORD: { config: "dbPassword" }, API_TOKEN: { config: "apiToken" } },
      },
      metrics: { path: FILE_PATHS.metrics, values: { TOKEN: { config: "metricsToken" } } },
    },
    hosts,
  };
  writeFileSync(file, "# written by the keyfleet demo: public keys and names only, never a value\n" + stringify(doc));
}
