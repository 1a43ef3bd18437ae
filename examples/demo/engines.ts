/**
 * Which engine runs the fleet program in the demo. The program is the same either way
 * (dist/examples/fleet/index.js, reading the inventory named by config `keyfleet:inventory`):
 *
 * - the real `pulumi` CLI through the Automation API (LocalWorkspace, local file backend
 *   `file://<workDir>/backend`, PULUMI_CONFIG_PASSPHRASE), when `pulumi` is on PATH;
 * - otherwise the engine stand-in from test/harness/engine: a test and demo harness that runs the
 *   program on the real @pulumi/pulumi SDK runtime and drives the real dynamic-provider server. It
 *   stands in where the CLI is missing; it is not a replacement for `pulumi up`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Engine, EngineRunError, type RunSummary } from "../../test/harness/engine/engine";

/** One resource in a run, by its short name. */
export interface DemoChange {
  /** Resource name (the last URN segment), e.g. `fleet-app`. */
  name: string;
  /** create | update | replace | delete | same | … */
  op: string;
  /** Top-level input keys that differ. */
  diffKeys: string[];
}

/** What one preview / up / destroy did. */
export interface DemoRun {
  kind: "preview" | "up" | "destroy";
  changes: DemoChange[];
  /** Log lines of the program and the engine (info and above). */
  logs: string[];
  /** Stack outputs; secrets as "[secret]". */
  outputs: Record<string, unknown>;
}

/** What a demo engine needs. */
export interface EngineSetup {
  /** Project directory (program cwd): fleet.yaml, secrets/, .keyfleet/ live here. */
  workDir: string;
  /** Absolute path of the compiled program directory (dist/examples/fleet). */
  programDir: string;
  /** Stack name. */
  stack: string;
  /** Passphrase of the state's secrets. */
  passphrase: string;
  /** Environment for the program and the providers (HOME, SOPS_AGE_KEY_FILE, KEYFLEET_ROOT…). */
  env: Record<string, string | undefined>;
}

/** A demo engine. */
export interface DemoEngine {
  /** "pulumi CLI (Automation API, local file backend)" or "engine stand-in …". */
  readonly label: string;
  readonly kind: "pulumi-cli" | "stand-in";
  /** Runs with this config (secret keys listed in `secretKeys`). */
  preview(config: Record<string, string>, secretKeys?: string[]): Promise<DemoRun>;
  up(config: Record<string, string>, secretKeys?: string[]): Promise<DemoRun>;
  destroy(): Promise<DemoRun>;
  /** Files that hold the engine's state (searched for plaintext by the demo and the e2e test). */
  stateFiles(): string[];
}

/** True when the `pulumi` CLI is on PATH. */
export function pulumiOnPath(env: NodeJS.ProcessEnv = process.env): boolean {
  const r = spawnSync("pulumi", ["version"], { env, stdio: "ignore", timeout: 10_000 });
  return r.status === 0;
}

const shortName = (urn: string): string => urn.split("::").pop() ?? urn;

function fromSummary(s: RunSummary): DemoRun {
  return {
    kind: s.kind === "refresh" ? "up" : s.kind,
    changes: s.changes.map((c) => ({ name: shortName(c.urn), op: c.op, diffKeys: [...c.diffKeys] })),
    logs: s.logs.map((l) => `${l.severity}: ${l.message}`),
    outputs: s.outputs as Record<string, unknown>,
  };
}

/** The engine stand-in (test/harness/engine) as a demo engine. */
export function standInEngine(o: EngineSetup): DemoEngine {
  const stateFile = join(o.workDir, ".keyfleet", "engine-state", `${o.stack}.json`);
  const engine = (config: Record<string, string>, secretKeys: string[]): Engine =>
    new Engine({
      projectDir: o.workDir,
      program: join(o.programDir, "index.js"),
      stack: o.stack,
      stateFile,
      project: "keyfleet-demo",
      passphrase: o.passphrase,
      env: o.env,
      config,
      secretConfigKeys: secretKeys,
      onLog: () => undefined, // kept in the summary; the demo narrates what matters
      timeoutMs: 60_000,
    });
  const wrap = async (p: Promise<RunSummary>): Promise<DemoRun> => {
    try {
      return fromSummary(await p);
    } catch (e) {
      if (e instanceof EngineRunError) {
        const logs = e.summary.logs.filter((l) => l.severity === "error").map((l) => l.message);
        const tail = e.summary.programOutput.trim().split("\n").slice(-25).join("\n");
        throw new Error(
          `${e.message}${logs.length ? "\n" + logs.join("\n") : ""}${tail ? "\nprogram output:\n" + tail : ""}`,
          { cause: e },
        );
      }
      throw e;
    }
  };
  return {
    kind: "stand-in",
    label:
      "engine stand-in (pulumi CLI not found): the real @pulumi/pulumi SDK runtime and dynamic-provider server, driven by test/harness/engine; a stand-in, not a replacement for `pulumi up`",
    preview: (config, secretKeys = []) => wrap(engine(config, secretKeys).preview()),
    up: (config, secretKeys = []) => wrap(engine(config, secretKeys).up()),
    destroy: () => wrap(engine({}, []).destroy()),
    stateFiles: () => [stateFile],
  };
}

type Automation = typeof import("@pulumi/pulumi/automation");
type Stack = import("@pulumi/pulumi/automation").Stack;
type EngineEvent = import("@pulumi/pulumi/automation").EngineEvent;

/**
 * The real pulumi CLI through the Automation API with a local file backend in the work directory.
 * Written for machines where `pulumi` is installed (it cannot run where the CLI is absent).
 */
export function automationEngine(o: EngineSetup): DemoEngine {
  const backendDir = join(o.workDir, ".pulumi-backend");
  mkdirSync(backendDir, { recursive: true });
  writeProgramEntry(o);
  const envVars = Object.fromEntries(
    Object.entries({
      ...o.env,
      PULUMI_BACKEND_URL: `file://${backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: o.passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "true",
    }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  let stack: Promise<Stack> | undefined;
  const getStack = (): Promise<Stack> => (stack ??= openStack(o, backendDir, envVars));
  const configured = async (config: Record<string, string>, secretKeys: string[]): Promise<Stack> => {
    const s = await getStack();
    await setStackConfig(s, o, config, secretKeys, envVars);
    return s;
  };
  return {
    kind: "pulumi-cli",
    label: `pulumi CLI via the Automation API (local file backend file://${backendDir})`,
    async preview(config, secretKeys = []) {
      const s = await configured(config, secretKeys);
      const c = eventCollector();
      await s.preview({ diff: true, onEvent: c.onEvent, color: "never" });
      return { kind: "preview", changes: c.changes, logs: c.logs, outputs: {} };
    },
    async up(config, secretKeys = []) {
      const s = await configured(config, secretKeys);
      const c = eventCollector();
      const r = await s.up({ onEvent: c.onEvent, color: "never" });
      return { kind: "up", changes: c.changes, logs: c.logs, outputs: maskedOutputs(r.outputs) };
    },
    async destroy() {
      const s = await getStack();
      const c = eventCollector();
      await s.destroy({ onEvent: c.onEvent, color: "never" });
      return { kind: "destroy", changes: c.changes, logs: c.logs, outputs: {} };
    },
    stateFiles: () => (existsSync(backendDir) ? [backendDir] : []),
  };
}

/**
 * The CLI runs the program and the provider plugins in the directory of `main` (a directory main
 * becomes the working directory; a file main, its parent). A one-line entry file in the project
 * keeps that directory the project, so secrets/ and .keyfleet/ land there, as with the stand-in.
 */
function writeProgramEntry(o: EngineSetup): void {
  const entry = join(o.workDir, "keyfleet-demo-program.js");
  // the language host and the dynamic-provider plugin find @pulumi/pulumi from that directory
  if (!existsSync(join(o.workDir, "node_modules")))
    symlinkSync(join(o.programDir, "../../../node_modules"), join(o.workDir, "node_modules"), "dir");
  writeFileSync(
    entry,
    `// written by the keyfleet demo: run the fleet program with this project as the working directory\nrequire(${JSON.stringify(join(o.programDir, "index.js"))});\n`,
  );
}

/** Creates or selects the demo stack in the work directory. */
function openStack(o: EngineSetup, backendDir: string, envVars: Record<string, string>): Promise<Stack> {
  // loaded only here: the Automation API is needed only when the CLI is present
  const auto = require("@pulumi/pulumi/automation") as Automation;
  return auto.LocalWorkspace.createOrSelectStack(
    { stackName: o.stack, workDir: o.workDir },
    {
      projectSettings: {
        name: "keyfleet-demo",
        runtime: { name: "nodejs", options: { typescript: false } },
        main: "keyfleet-demo-program.js",
        backend: { url: `file://${backendDir}` },
      },
      envVars,
    },
  );
}

/** Makes the stack's config exactly `config`; secret keys go through {@link setSecretConfig}. */
async function setStackConfig(
  s: Stack,
  o: EngineSetup,
  config: Record<string, string>,
  secretKeys: string[],
  envVars: Record<string, string>,
): Promise<void> {
  const current = await s.getAllConfig();
  for (const k of Object.keys(current)) if (!(k in config)) await s.removeConfig(k);
  for (const [k, v] of Object.entries(config)) {
    // Stack.setConfig puts the value on the pulumi command line (`config set KEY --secret -- VALUE`),
    // where any process can read it; a secret goes on stdin instead, as `pulumi config set` allows
    if (secretKeys.includes(k)) setSecretConfig(o.workDir, o.stack, k, v, envVars);
    else await s.setConfig(k, { value: v, secret: false });
  }
}

/** Collects the resource changes and diagnostics of one engine run. */
function eventCollector(): { changes: DemoChange[]; logs: string[]; onEvent: (ev: EngineEvent) => void } {
  const changes: DemoChange[] = [];
  const logs: string[] = [];
  const onEvent = (ev: EngineEvent): void => {
    const pre = ev.resourcePreEvent?.metadata;
    if (pre && pre.type !== "pulumi:pulumi:Stack")
      changes.push({ name: shortName(pre.urn), op: pre.op, diffKeys: pre.diffs ?? [] });
    const d = ev.diagnosticEvent;
    if (d) logs.push(`${d.severity}: ${d.message.trim()}`);
  };
  return { changes, logs, onEvent };
}

/** Stack outputs with secret ones masked. */
function maskedOutputs(outs: Record<string, { value: unknown; secret: boolean }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
}

/**
 * `pulumi config set KEY --secret` in `workDir` with the value on stdin only (never in argv or the
 * environment).
 * @throws Error naming the key (not the value) when the CLI fails
 */
export function setSecretConfig(
  workDir: string,
  stack: string,
  key: string,
  value: string,
  env: Record<string, string>,
): void {
  const r = spawnSync("pulumi", ["config", "set", key, "--secret", "--stack", stack, "--non-interactive"], {
    cwd: workDir,
    env: { ...process.env, ...env },
    input: value,
    stdio: ["pipe", "ignore", "pipe"],
    timeout: 60_000,
  });
  if (r.status !== 0)
    throw new Error(
      `pulumi config set ${key} --secret failed (${r.status ?? r.signal}): ${r.stderr?.toString().trim().slice(-400) ?? ""}`,
    );
}

/** The CLI engine when `pulumi` is on PATH (unless `KEYFLEET_DEMO_ENGINE=stand-in`), else the stand-in. */
export function chooseEngine(o: EngineSetup, env: NodeJS.ProcessEnv = process.env): DemoEngine {
  const want = env["KEYFLEET_DEMO_ENGINE"];
  if (want !== "stand-in" && (want === "pulumi" || pulumiOnPath(env))) return automationEngine(o);
  return standInEngine(o);
}
