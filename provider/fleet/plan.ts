/**
 * The Fleet's pure plan, re-exported for sdk users: it lives in provider/fleet/plan.ts, the
 * Pulumi-free core that `keyfleet push` and the Fleet component both call.
 */
import { KeyfleetError } from "../errors";

/** One env-file source as the plan sees it: only the file name matters for access. */
export interface PlanSource {
  /** Name of a file in `files`. */
  readonly file: string;
}

/** One env file on a host, as the plan sees it. */
export interface PlanEnvFile {
  /** Absolute path on the host. */
  readonly path: string;
  /** Resource-name fragment; default derived from `path` (see {@link envFileSlug}). */
  readonly name?: string;
  /** Where its values come from. */
  readonly sources: readonly PlanSource[];
}

/** The inventory shape the plan needs: names only. */
export interface PlanInput {
  /** Operator (person) names, in declaration order. */
  readonly operators: readonly string[];
  /** CI recipient names, in declaration order. */
  readonly ci: readonly string[];
  /** Host name → its env files. */
  readonly hosts: Readonly<Record<string, { readonly envFiles?: readonly PlanEnvFile[] }>>;
  /** File names, in declaration order. */
  readonly files: readonly string[];
  /** The Fleet's name, which prefixes every child resource name (`<fleet>-<child>`); used in messages. Default: "<fleet>". */
  readonly fleetName?: string;
}

/** The derived access plan. */
export interface FleetPlan {
  /**
   * File name → recipient names: every operator, every CI recipient, then exactly the hosts whose
   * env files source that file (in host declaration order). This is the minimal recipient set.
   */
  readonly fileRecipients: Record<string, string[]>;
  /** File name → the hosts that use it. */
  readonly fileHosts: Record<string, string[]>;
  /** Host name → the files it uses (declaration order of `files`). */
  readonly hostFiles: Record<string, string[]>;
  /** Files no host uses (still encrypted to operators and CI). */
  readonly unusedFiles: string[];
  /** Host name → env file path → its resource-name fragment (the HostEnv is `<fleet>-<host>-<fragment>`). */
  readonly envFileNames: Record<string, Record<string, string>>;
}

/** A Pulumi-safe resource-name fragment: letters, digits, `.`, `_` and `-`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** An inventory that cannot be planned; `problems` lists every reason. */
export class FleetPlanError extends KeyfleetError {
  /** Each problem, one line each. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super("FLEET_PLAN", `fleet inventory: ${problems.join("; ")}`);
    this.name = "FleetPlanError";
    this.problems = problems;
  }
}

/**
 * Derives each file's minimal recipient set.
 * @throws FleetPlanError when a name is invalid or used twice across operators, CI, hosts and files, an env
 *   file sources an unknown file, two env files of a host share a path or a resource-name fragment, an
 *   env file `name` is not a valid fragment, or there is no operator or CI recipient at all (nobody
 *   could edit the files).
 */
export function planFleet(input: PlanInput): FleetPlan {
  const problems: string[] = [];
  const fileSet = checkNames(input, problems);
  const hostNames = Object.keys(input.hosts);
  const hostFiles: Record<string, string[]> = {};
  const envFileNames: Record<string, Record<string, string>> = {};
  const fileHosts: Record<string, string[]> = Object.fromEntries(input.files.map((f) => [f, [] as string[]]));
  for (const h of hostNames) {
    const { used, slugs } = checkHostEnvFiles(h, input.hosts[h]?.envFiles ?? [], fileSet, problems);
    envFileNames[h] = slugs;
    hostFiles[h] = input.files.filter((f) => used.has(f));
    for (const f of hostFiles[h]) fileHosts[f]?.push(h);
  }
  problems.push(...nameCollisions(input, envFileNames));
  if (problems.length > 0) throw new FleetPlanError(problems);
  const fileRecipients: Record<string, string[]> = {};
  for (const f of input.files) fileRecipients[f] = [...input.operators, ...input.ci, ...(fileHosts[f] ?? [])];
  return {
    fileRecipients,
    fileHosts,
    hostFiles,
    unusedFiles: input.files.filter((f) => (fileHosts[f] ?? []).length === 0),
    envFileNames,
  };
}

/**
 * Checks the names of operators, CI, hosts and files (valid, unique across all four, at least one
 * operator or CI recipient), pushing what is wrong onto `problems`.
 * @returns the set of declared file names
 */
function checkNames(input: PlanInput, problems: string[]): Set<string> {
  const seen = new Map<string, string>();
  const claim = (kind: string, name: string): void => {
    if (!NAME.test(name)) problems.push(`${kind} name ${JSON.stringify(name)} must match ${NAME.source}`);
    const prev = seen.get(name);
    if (prev !== undefined)
      problems.push(
        `${kind} name ${JSON.stringify(name)} is already used by ${prev}; names must be unique across operators, ci and hosts`,
      );
    else seen.set(name, `${kind} ${JSON.stringify(name)}`);
  };
  input.operators.forEach((n) => claim("operator", n));
  input.ci.forEach((n) => claim("ci", n));
  Object.keys(input.hosts).forEach((n) => claim("host", n));
  if (input.operators.length + input.ci.length === 0)
    problems.push("list at least one operator or ci recipient, else nobody can edit the files");
  const fileSet = new Set<string>();
  for (const f of input.files) {
    if (!NAME.test(f)) problems.push(`file name ${JSON.stringify(f)} must match ${NAME.source}`);
    if (fileSet.has(f)) problems.push(`file name ${JSON.stringify(f)} is listed twice`);
    // children are named <fleet>-<name>: a file named like a recipient would collide with it
    const owner = seen.get(f);
    if (owner !== undefined)
      problems.push(`file name ${JSON.stringify(f)} is already used by ${owner}; rename the file`);
    fileSet.add(f);
  }
  return fileSet;
}

/**
 * Checks one host's env files (paths and resource-name fragments unique, valid names, known sources),
 * pushing what is wrong onto `problems`.
 * @returns the files the host's env files source, and each env file's resource-name fragment by path
 */
function checkHostEnvFiles(
  h: string,
  envFiles: readonly PlanEnvFile[],
  fileSet: ReadonlySet<string>,
  problems: string[],
): { used: Set<string>; slugs: Record<string, string> } {
  const used = new Set<string>();
  const paths = new Set<string>();
  const names = new Map<string, string>();
  const slugs: Record<string, string> = {};
  for (const env of envFiles) {
    if (paths.has(env.path))
      problems.push(`host ${JSON.stringify(h)} lists env file ${JSON.stringify(env.path)} twice`);
    paths.add(env.path);
    const slug = envFileSlug(env);
    if (env.name !== undefined && !NAME.test(env.name))
      problems.push(
        `host ${JSON.stringify(h)} env file ${JSON.stringify(env.path)}: name ${JSON.stringify(env.name)} must match ${NAME.source}`,
      );
    const other = names.get(slug);
    if (other !== undefined && other !== env.path) {
      problems.push(
        `host ${JSON.stringify(h)} env files ${JSON.stringify(other)} and ${JSON.stringify(env.path)} both get the resource name ${JSON.stringify(slug)}; give one a different name`,
      );
    }
    names.set(slug, env.path);
    slugs[env.path] = slug;
    if (env.sources.length === 0)
      problems.push(`host ${JSON.stringify(h)} env file ${JSON.stringify(env.path)} has no sources`);
    for (const s of env.sources) {
      if (!fileSet.has(s.file)) {
        problems.push(
          `host ${JSON.stringify(h)} env file ${JSON.stringify(env.path)} sources unknown file ${JSON.stringify(s.file)}; declare it under files`,
        );
      } else used.add(s.file);
    }
  }
  return { used, slugs };
}

/**
 * Child resource names that collide: each child is `<fleet>-<name>` (recipients, hosts, files) or
 * `<fleet>-<host>-<fragment>` (env files), so a file `web-app` and an env file `app` of host `web`
 * would share one name. Names among recipients, hosts and files are checked by {@link planFleet}
 * itself; this adds the env files.
 */
function nameCollisions(input: PlanInput, envFileNames: Record<string, Record<string, string>>): string[] {
  const fleet = input.fleetName ?? "<fleet>";
  const owner = new Map<string, string>();
  const envHost = new Map<string, string>(); // name → host, for env files (a clash within one host is reported by planFleet)
  for (const n of [...input.operators, ...input.ci]) owner.set(n, `recipient ${JSON.stringify(n)}`);
  for (const n of Object.keys(input.hosts)) owner.set(n, `host ${JSON.stringify(n)}`);
  for (const n of input.files) if (!owner.has(n)) owner.set(n, `file ${JSON.stringify(n)}`);
  const problems: string[] = [];
  for (const [h, envs] of Object.entries(envFileNames)) {
    for (const [path, fragment] of Object.entries(envs)) {
      const name = `${h}-${fragment}`;
      const what = `env file ${JSON.stringify(path)} of host ${JSON.stringify(h)}`;
      const other = owner.get(name);
      if (other !== undefined && envHost.get(name) === h) continue;
      if (other !== undefined)
        problems.push(
          `${what} and ${other} would both be named ${JSON.stringify(`${fleet}-${name}`)}; give the env file a different name`,
        );
      else {
        owner.set(name, what);
        envHost.set(name, h);
      }
    }
  }
  return problems;
}

/** A resource-name fragment for an env file path: `/srv/app/.env` → `srv-app-.env`. */
export function pathSlug(path: string): string {
  const s = path.replace(/^\/+/, "").replace(/[^A-Za-z0-9._-]+/g, "-");
  return s === "" ? "root" : s;
}

/**
 * The resource-name fragment of an env file: its `name` when given, else {@link pathSlug} of its
 * path (`/etc/myapp/app.env` → `etc-myapp-app.env`). Keep it stable: a new fragment is a new
 * resource, so Pulumi would replace the env file.
 */
export function envFileSlug(env: { readonly path: string; readonly name?: string }): string {
  return env.name ?? pathSlug(env.path);
}

/**
 * The access matrix as text rows: one line per file, `file  path  name, name, …`.
 * Used by the demo and by humans reading outputs.
 */
export function formatAccessMatrix(
  matrix: Readonly<Record<string, readonly string[]>>,
  paths: Readonly<Record<string, string>> = {},
): string[] {
  const files = Object.keys(matrix);
  const w = Math.max(4, ...files.map((f) => f.length));
  const pw = Math.max(0, ...files.map((f) => (paths[f] ?? "").length));
  return files.map(
    (f) => `${f.padEnd(w)}  ${pw > 0 ? (paths[f] ?? "").padEnd(pw) + "  " : ""}${(matrix[f] ?? []).join(", ")}`,
  );
}
