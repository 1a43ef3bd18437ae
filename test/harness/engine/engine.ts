/**
 * # The engine stand-in
 *
 * A TEST AND DEMO HARNESS, not a Pulumi engine and NOT a replacement for `pulumi up`. The Pulumi
 * CLI cannot be installed where keyfleet is developed and tested, so this stand-in runs a Pulumi
 * program on the REAL `@pulumi/pulumi` SDK runtime (`cmd/run`, the Node.js language host's runner)
 * and drives the REAL dynamic-provider server (`cmd/dynamic-provider`) over gRPC, as the engine
 * would. Use the real CLI (Automation API, local file backend) wherever it is installed.
 *
 * What it does:
 * - serves `pulumirpc.ResourceMonitor` + `pulumirpc.Engine` (see `monitor.ts`) to the program;
 * - for each dynamic resource (`pulumi-nodejs:dynamic…`): Check (olds = prior inputs) → Diff
 *   (olds = prior outputs) → Create / Update / Replace (create-before-delete unless
 *   `deleteBeforeReplace`), with one provider server per run (see `steps.ts`); preview runs Check +
 *   Diff only (any other call is refused) and returns unknowns for outputs that would change;
 * - holds the provider to the Go engine's rules: secrets stripped before every call and outputs
 *   re-marked secret after it; a second registration of one URN is refused before any step runs;
 *   a step that throws keeps the old state entry; the first failing step ends the run within
 *   seconds (the program is stopped by pid), with the provider's own message first;
 * - components (and the stack) get a URN and echo their inputs;
 * - `up` then deletes resources no longer registered, dependents first; `destroy` deletes all;
 *   `refresh` calls Read on each dynamic resource;
 * - keeps a JSON state file whose secrets are encrypted (see `state.ts`); never plaintext.
 *
 * What it does not do (use the real CLI): non-dynamic providers (e.g. `@pulumi/command`), invokes,
 * `pulumi.get`/ReadResource, aliases, imports, protect, transforms, policy, parallel delete,
 * detailed diffs beyond top-level input keys, checkpoint compatibility with `pulumi stack export`.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import resproto = require("@pulumi/pulumi/proto/resource_pb");
import {
  UNKNOWN,
  containsSecret,
  fromStruct,
  isSecret,
  makeUrn,
  parseUrn,
  stripSecrets,
  toStruct,
  type PropertyMap,
} from "./marshal";
import { trackChild } from "./children";
import { MonitorServer, type LogEntry } from "./monitor";
import { PULUMI_SDK_DIR, ProviderCallError, ProviderClient } from "./provider-client";
import { StateFile, dependencyOrder, type ResourceState } from "./state";
import {
  CheckFailedError,
  deleteResource,
  refreshResource,
  stepDynamic,
  type ResourceChange,
  type StepOp,
} from "./steps";

export type { LogEntry } from "./monitor";
export type { ResourceChange, StepOp } from "./steps";

/** The SDK's language-host runner. */
export const SDK_RUNNER = join(PULUMI_SDK_DIR, "cmd", "run", "index.js");

/** Options of an {@link Engine}. */
export interface EngineOptions {
  /** Project directory: the program's working directory and the provider server's cwd. */
  projectDir: string;
  /** Compiled JS program (file or directory), absolute or relative to `projectDir`. */
  program: string;
  /** Stack name. Default: `dev`. */
  stack?: string;
  /** State file path. Default: `<projectDir>/.keyfleet/engine-state/<stack>.json`. */
  stateFile?: string;
  /** Extra environment for the program and the provider server. Default: none. */
  env?: Record<string, string | undefined>;
  /** Project name. Default: `name:` in `<projectDir>/Pulumi.yaml`, else `keyfleet-harness`. */
  project?: string;
  /** Passphrase for secrets in the state file. Default: `$PULUMI_CONFIG_PASSPHRASE`, else "" (like Pulumi, an empty passphrase only obscures). */
  passphrase?: string;
  /** Stack config as the language host passes it, keys `project:key`. Default: {}. */
  config?: Record<string, string>;
  /** Config keys whose values are secret. Default: []. */
  secretConfigKeys?: string[];
  /**
   * Keep the SDK's debug-severity log lines. Default: false, because the SDK's debug lines echo whole
   * RegisterResource responses, secret values included, in plaintext (the CLI hides them unless -v).
   */
  debugLogs?: boolean;
  /** Receives each kept log line; default prints it to stderr as `[engine] <severity>: <message>`. */
  onLog?: (e: LogEntry) => void;
  /** Bound on one program run. Default: 120,000 ms. */
  timeoutMs?: number;
}

/** What a run did (or, for preview, would do). */
export interface RunSummary {
  /** preview | up | destroy | refresh */
  kind: "preview" | "up" | "destroy" | "refresh";
  /** One entry per resource touched or examined, in step order. */
  changes: ResourceChange[];
  /** Number of resources per operation. */
  counts: Partial<Record<StepOp, number>>;
  /** Engine.Log lines (from `pulumi.log` and the SDK). */
  logs: LogEntry[];
  /** Stack outputs; secret values shown as `[secret]`, unknown ones (preview) as `[unknown]`. */
  outputs: PropertyMap;
  /** What the program process printed on stdout and stderr. */
  programOutput: string;
  /** Every provider call, in order (`Check <urn>`, `Diff <urn>`, …), for tests of the engine's rules. */
  providerCalls: string[];
}

/** The run failed; `summary` has what happened up to the failure (state keeps completed steps). */
export class EngineRunError extends Error {
  constructor(
    message: string,
    readonly summary: RunSummary,
  ) {
    super(message);
    this.name = "EngineRunError";
  }
}

const STACK_TYPE = "pulumi:pulumi:Stack";

function maskSecrets(v: unknown): unknown {
  if (isSecret(v)) return "[secret]";
  if (v === UNKNOWN) return "[unknown]";
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecrets(x)]));
  return v;
}

/** The engine stand-in: preview / up / destroy / refresh of one program and stack. */
export class Engine {
  private readonly o: Required<Omit<EngineOptions, "onLog" | "env" | "debugLogs">> &
    Pick<EngineOptions, "onLog" | "env" | "debugLogs">;

  constructor(o: EngineOptions) {
    const stack = o.stack ?? "dev";
    this.o = {
      ...o,
      stack,
      stateFile: o.stateFile ?? join(o.projectDir, ".keyfleet", "engine-state", `${stack}.json`),
      project: o.project ?? projectName(o.projectDir),
      passphrase: o.passphrase ?? process.env["PULUMI_CONFIG_PASSPHRASE"] ?? "",
      config: o.config ?? {},
      secretConfigKeys: o.secretConfigKeys ?? [],
      timeoutMs: o.timeoutMs ?? 120_000,
    };
  }

  /** Runs the program in dry-run mode: Check + Diff only, no side effects, state untouched. */
  preview(): Promise<RunSummary> {
    return this.run("preview");
  }

  /** Runs the program and applies the changes; deletes resources no longer registered. */
  async up(o: { refresh?: boolean } = {}): Promise<RunSummary> {
    if (o.refresh) await this.refresh();
    return this.run("up");
  }

  /** Deletes every resource in state, dependents first. */
  destroy(): Promise<RunSummary> {
    return this.run("destroy");
  }

  /** Reads every dynamic resource back through its provider and updates state. */
  refresh(): Promise<RunSummary> {
    return this.run("refresh");
  }

  private async run(kind: RunSummary["kind"]): Promise<RunSummary> {
    const summary: RunSummary = {
      kind,
      changes: [],
      counts: {},
      logs: [],
      outputs: {},
      programOutput: "",
      providerCalls: [],
    };
    if ((kind === "preview" || kind === "up") && !existsSync(this.programPath())) {
      throw new EngineRunError(
        `program ${this.programPath()} does not exist; build it first (npx tsc -p tsconfig.json)`,
        summary,
      );
    }
    const state = StateFile.load(this.o.stateFile, this.o.passphrase);
    const record = (c: ResourceChange): void => {
      summary.changes.push(c);
      summary.counts[c.op] = (summary.counts[c.op] ?? 0) + 1;
    };
    let provider: Promise<ProviderClient> | undefined;
    let monitor: MonitorServer | undefined;
    const getProvider = (): Promise<ProviderClient> => {
      provider ??= ProviderClient.start({
        cwd: this.o.projectDir,
        env: this.o.env,
        engineAddress: monitor?.address,
        previewOnly: kind === "preview",
      }).then(async (p) => {
        summary.providerCalls = p.calls;
        await p.configure();
        return p;
      });
      return provider;
    };
    // the first failing step: it ends the run (the program is stopped) and leads the error message
    let stepFailure: { message: string } | undefined;
    const stop = new AbortController();
    try {
      if (kind === "destroy") {
        for (const r of dependencyOrder([...state.resources.values()]).reverse()) {
          await deleteResource(r.custom ? await getProvider() : undefined, r);
          state.resources.delete(r.urn);
          state.save();
          record({ urn: r.urn, type: r.type, op: "delete", diffKeys: [], replaceKeys: [] });
        }
        return summary;
      }
      if (kind === "refresh") {
        for (const r of [...state.resources.values()].filter((x) => x.custom)) {
          const { state: next, change } = await refreshResource(await getProvider(), r);
          if (next) state.resources.set(r.urn, next);
          else state.resources.delete(r.urn);
          record(change);
        }
        state.save();
        return summary;
      }
      const dryRun = kind === "preview";
      const registered = new Set<string>();
      const onLog = this.o.onLog ?? ((e: LogEntry) => process.stderr.write(`[engine] ${e.severity}: ${e.message}\n`));
      monitor = await MonitorServer.start({
        log: (e) => {
          if (e.severity === "debug" && !this.o.debugLogs) return;
          summary.logs.push(e);
          onLog(e);
        },
        registerResourceOutputs: (urn, outputs) => {
          if (urn === monitor?.root) summary.outputs = maskSecrets(outputs) as PropertyMap;
          const cur = state.resources.get(urn);
          if (cur && !dryRun && !cur.custom) cur.outputs = outputs;
        },
        registerResource: async (req) => {
          const urn = this.urnOf(req);
          // the engine refuses a second registration of one URN before any step runs
          if (registered.has(urn))
            return this.failStep(
              (stepFailure ??= { message: `duplicate resource URN ${urn}; give each resource a unique name` }),
              stop,
            );
          registered.add(urn);
          let stepped: Awaited<ReturnType<Engine["register"]>>;
          try {
            stepped = await this.register(req, urn, state, dryRun, getProvider);
          } catch (e) {
            // the old state entry stays as it was (the engine keeps it when a step throws)
            return this.failStep((stepFailure ??= { message: stepMessage(e, urn) }), stop);
          }
          const { resp, change, next } = stepped;
          record(change);
          if (next) {
            state.resources.delete(urn); // re-insert: registration order keeps dependencies first
            state.resources.set(urn, next);
            state.save();
          }
          return resp;
        },
      });
      const { code, output } = await this.runProgram(monitor.address, dryRun, stop.signal);
      summary.programOutput = output;
      if (stepFailure) throw new EngineRunError(`${stepFailure.message} (${kind} stopped)`, summary);
      const errors = summary.logs.filter((l) => l.severity === "error");
      if (code !== 0 || errors.length > 0) {
        throw new EngineRunError(
          `program ${this.o.program} failed (exit ${code}): ${errors.map((e) => e.message).join("; ") || output.trim().split("\n").slice(-5).join("\n")}`,
          summary,
        );
      }
      const gone = dependencyOrder([...state.resources.values()])
        .filter((r) => !registered.has(r.urn))
        .reverse();
      for (const r of gone) {
        if (!dryRun) {
          await deleteResource(r.custom ? await getProvider() : undefined, r);
          state.resources.delete(r.urn);
          state.save();
        }
        record({ urn: r.urn, type: r.type, op: "delete", diffKeys: [], replaceKeys: [] });
      }
      if (!dryRun) state.save();
      return summary;
    } catch (e) {
      if (e instanceof EngineRunError) throw e;
      throw new EngineRunError(`${kind} failed: ${e instanceof Error ? e.message : String(e)}`, summary);
    } finally {
      await monitor?.stop();
      if (provider) await (await provider.catch(() => undefined))?.stop();
    }
  }

  /** The URN the engine gives a registration (parent type qualified, the stack left out). */
  private urnOf(req: resproto.RegisterResourceRequest): string {
    const parent = req.getParent();
    const parentQualified = parent ? parseUrn(parent).qualifiedType : "";
    const parentType = parentQualified && parentQualified !== STACK_TYPE ? parentQualified : undefined;
    return makeUrn({
      stack: this.o.stack,
      project: this.o.project,
      type: req.getType(),
      name: req.getName(),
      parentType,
    });
  }

  /** Records the first failure, stops the program (see {@link runProgram}) and fails the RPC with the message. */
  private failStep(f: { message: string }, stop: AbortController): never {
    stop.abort();
    throw new Error(f.message);
  }

  /** Handles one RegisterResource: runs the steps for `urn`, builds the response. */
  private async register(
    req: resproto.RegisterResourceRequest,
    urn: string,
    state: StateFile,
    dryRun: boolean,
    getProvider: () => Promise<ProviderClient>,
  ): Promise<{ resp: resproto.RegisterResourceResponse; change: ResourceChange; next: ResourceState | undefined }> {
    const type = req.getType();
    const parent = req.getParent();
    const inputs = fromStruct(req.getObject());
    const deps = new Set(req.getDependenciesList());
    for (const [, d] of req.getPropertydependenciesMap().entries()) for (const u of d.getUrnsList()) deps.add(u);
    const old = state.resources.get(urn);
    const resp = new resproto.RegisterResourceResponse();
    resp.setUrn(urn);
    if (!req.getCustom()) {
      const next: ResourceState = {
        urn,
        type,
        custom: false,
        inputs,
        outputs: old?.outputs ?? {},
        parent: parent || undefined,
        dependencies: [...deps],
      };
      resp.setObject(toStruct(inputs));
      return {
        resp,
        change: { urn, type, op: old ? "same" : "create", diffKeys: [], replaceKeys: [] },
        next: dryRun ? undefined : next,
      };
    }
    if (!type.startsWith("pulumi-nodejs:dynamic")) {
      throw new Error(
        `the engine stand-in runs only dynamic providers, not ${type} (${req.getName()}); run this program with the pulumi CLI`,
      );
    }
    if (old && old.type !== type)
      throw new Error(`${urn} changed type from ${old.type}; the engine stand-in cannot migrate it`);
    const r = await stepDynamic(
      await getProvider(),
      {
        urn,
        type,
        inputs,
        parent,
        dependencies: [...deps],
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        retainOnDelete: req.getRetainondelete() === true,
      },
      old,
      dryRun,
    );
    resp.setId(r.id);
    resp.setObject(toStruct(r.outputs));
    return { resp, change: r.change, next: r.state };
  }

  private programPath(): string {
    return isAbsolute(this.o.program) ? this.o.program : join(this.o.projectDir, this.o.program);
  }

  /**
   * Runs the program; when `stop` fires (a step failed) the program gets a short grace to exit by
   * itself, then is killed by pid, so a failed run ends in seconds.
   */
  private runProgram(address: string, dryRun: boolean, stop: AbortSignal): Promise<{ code: number; output: string }> {
    const program = this.programPath();
    const secretConfig = this.o.secretConfigKeys;
    const args = [
      SDK_RUNNER,
      `--monitor=${address}`,
      `--engine=${address}`,
      `--project=${this.o.project}`,
      `--stack=${this.o.stack}`,
      "--organization=organization",
      `--root-directory=${this.o.projectDir}`,
      `--pwd=${this.o.projectDir}`,
      "--parallel=8",
      ...(dryRun ? ["--dry-run"] : []),
      program,
    ];
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...this.o.env,
      PULUMI_CONFIG: JSON.stringify(this.o.config),
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretConfig),
      PULUMI_NODEJS_TYPESCRIPT: "false",
    };
    return new Promise((resolve, reject) => {
      const child = trackChild(
        spawn(process.execPath, args, { cwd: this.o.projectDir, env, stdio: ["ignore", "pipe", "pipe"] }),
      );
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
      child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`program ${program} did not finish within ${this.o.timeoutMs} ms`));
      }, this.o.timeoutMs);
      let grace: NodeJS.Timeout | undefined;
      const onStop = (): void => {
        grace ??= setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      };
      if (stop.aborted) onStop();
      else stop.addEventListener("abort", onStop, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        if (grace) clearTimeout(grace);
        stop.removeEventListener("abort", onStop);
      };
      child.once("error", (e) => {
        done();
        reject(e);
      });
      child.once("exit", (code) => {
        done();
        resolve({ code: code ?? -1, output });
      });
    });
  }
}

/** How long a program whose step failed may take to exit by itself before it is killed. */
const STOP_GRACE_MS = 1_500;

/** A failed step as one line: the provider's own message first, then which call of which resource. */
function stepMessage(e: unknown, urn: string): string {
  const name = parseUrn(urn).name;
  if (e instanceof ProviderCallError) return `${e.providerMessage} (provider ${e.method} of ${name}, ${urn})`;
  if (e instanceof CheckFailedError)
    return `${e.failures.map((f) => (f.reason.startsWith(f.property) ? f.reason : `${f.property}: ${f.reason}`)).join("; ")} (provider Check of ${name}, ${urn})`;
  return `${e instanceof Error ? e.message : String(e)} (${name}, ${urn})`;
}

function projectName(dir: string): string {
  const f = join(dir, "Pulumi.yaml");
  if (existsSync(f)) {
    const m = /^name:\s*["']?([A-Za-z0-9_.-]+)/m.exec(readFileSync(f, "utf8"));
    if (m?.[1]) return m[1];
  }
  return "keyfleet-harness";
}

/** True when a property map holds a secret anywhere (re-exported for tests). */
export const hasSecret = (p: PropertyMap): boolean => containsSecret(p);
/** Plain values of a property map (re-exported for tests). */
export const plain = <T>(p: T): T => stripSecrets(p);
