/**
 * A gRPC client for the REAL `@pulumi/pulumi/cmd/dynamic-provider` server, driven as the Pulumi
 * engine drives it: Configure → Check → Diff → Create / Read / Update / Delete.
 *
 * The server runs as a child process (`node <sdk>/cmd/dynamic-provider/index.js <engine-address>`)
 * and prints its port on stdout. Requests are built with the SDK's own generated stubs. After
 * Configure answers `acceptSecrets: false` (the dynamic provider always does), every property map
 * sent is stripped of secret envelopes, as the engine does. Unknowns are sent as the sentinel
 * string {@link UNKNOWN}.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
import provproto = require("@pulumi/pulumi/proto/provider_pb");
import { trackChild } from "./children";
import { fromStruct, parseUrn, stripSecrets, toStruct, type PropertyMap } from "./marshal";

/** Directory of the installed `@pulumi/pulumi` package. */
export const PULUMI_SDK_DIR = join(require.resolve("@pulumi/pulumi/package.json"), "..");
/** The real dynamic-provider server script. */
export const DYNAMIC_PROVIDER_SERVER = join(PULUMI_SDK_DIR, "cmd", "dynamic-provider", "index.js");

/** Options for {@link ProviderClient.start}. */
export interface ProviderClientOptions {
  /** Working directory of the server process; relative `require`s in a provider resolve against it. Default: `process.cwd()`. */
  cwd?: string;
  /** Extra environment for the server process (merged over `process.env`). Default: none. */
  env?: Record<string, string | undefined>;
  /** Engine address passed as the server's first argument. Default: `127.0.0.1:0` (the server does not dial it). */
  engineAddress?: string;
  /** Time to wait for the port line. Default: 20,000 ms. */
  startTimeoutMs?: number;
  /** Refuse every call but Configure, Check and Diff, as the engine makes none other in preview. Default: false. */
  previewOnly?: boolean;
}

/** The calls the engine makes in preview. */
const PREVIEW_CALLS: ReadonlySet<string> = new Set(["Configure", "Check", "Diff"]);

/** Result of Check. */
export interface CheckResult {
  /** Checked inputs (including `__provider`). */
  inputs: PropertyMap;
  /** Per-property failures reported by the provider. */
  failures: { property: string; reason: string }[];
}

/** Result of Diff. */
export interface DiffResult {
  /** `some`, `none`, or `unknown` (the provider has no `diff`, or returned `changes: undefined`). */
  changes: "some" | "none" | "unknown";
  /** Properties whose change forces a replacement. */
  replaces: string[];
  /** True when the old resource must be deleted before its replacement is created. */
  deleteBeforeReplace: boolean;
  /** Properties the provider says will not change. */
  stables: string[];
  /** Changed properties, when the provider reported them (the dynamic provider never does). */
  diffs: string[];
}

/** An error returned by the provider server for one RPC; `stderr` has what the server printed. */
export class ProviderCallError extends Error {
  /** gRPC status code. */
  readonly grpcCode: number;
  constructor(method: string, e: grpc.ServiceError, stderr: string) {
    super(`provider ${method} failed: ${e.details || e.message}`, { cause: e });
    this.name = "ProviderCallError";
    this.grpcCode = e.code;
    this.stderr = stderr;
    this.method = method;
    this.providerMessage = e.details || e.message;
  }
  /** The RPC that failed (Check, Diff, Create, …). */
  readonly method: string;
  /** The provider's own message, as the server returned it. */
  readonly providerMessage: string;
  /** Server stderr at the time of the error (may include the provider's stack trace). */
  readonly stderr: string;
}

/** A generated unary stub method, loosely typed (the stubs are overloaded, which defeats inference). */
type Unary = (...args: never[]) => unknown;

/** Sets the URN and the name and type parsed from it, as every per-resource request carries them. */
function addressed<R extends { setUrn(v: string): unknown; setName(v: string): unknown; setType(v: string): unknown }>(
  req: R,
  urn: string,
): R {
  const { name, type } = parseUrn(urn);
  req.setUrn(urn);
  req.setName(name);
  req.setType(type);
  return req;
}

/** A running dynamic-provider server and a connected client. Stop it with {@link ProviderClient.stop}. */
export class ProviderClient {
  private readonly child: ChildProcess;
  private readonly client: provrpc.ResourceProviderClient;
  private acceptSecrets = false;
  private stderrText = "";
  /** Stdout lines after the port line (the provider's `console.log`). */
  private stdoutText = "";
  private previewOnly = false;
  /** Every call made, in order: `Method` or `Method urn` (for tests of the engine's rules). */
  readonly calls: string[] = [];

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
    this.client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    child.stderr?.on("data", (d: Buffer) => {
      this.stderrText += d.toString("utf8");
    });
  }

  /** Port the server listens on (127.0.0.1). */
  readonly port: number;

  /** Process id of the server. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Everything the server printed on stderr so far. */
  get stderr(): string {
    return this.stderrText;
  }

  /** Everything the server printed on stdout after the port line. */
  get stdout(): string {
    return this.stdoutText;
  }

  /** Spawns the real dynamic-provider server and connects to it. */
  static async start(o: ProviderClientOptions = {}): Promise<ProviderClient> {
    const child = trackChild(
      spawn(process.execPath, [DYNAMIC_PROVIDER_SERVER, o.engineAddress ?? "127.0.0.1:0"], {
        cwd: o.cwd ?? process.cwd(),
        env: { ...process.env, ...o.env },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    let early = "";
    child.stderr.on("data", (d: Buffer) => {
      early += d.toString("utf8");
    });
    const port = await new Promise<number>((resolve, reject) => {
      let buf = "";
      const timer = setTimeout(
        () => fail(new Error(`dynamic-provider server printed no port within ${o.startTimeoutMs ?? 20_000} ms`)),
        o.startTimeoutMs ?? 20_000,
      );
      const fail = (e: Error): void => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(e);
      };
      const onData = (d: Buffer): void => {
        buf += d.toString("utf8");
        const nl = buf.indexOf("\n");
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout.off("data", onData);
        const n = Number(buf.slice(0, nl).trim());
        if (!Number.isInteger(n) || n <= 0)
          return fail(new Error(`dynamic-provider server printed ${JSON.stringify(buf.slice(0, nl))}, not a port`));
        resolve(n);
      };
      child.stdout.on("data", onData);
      child.once("error", fail);
      child.once("exit", (code) =>
        fail(new Error(`dynamic-provider server exited with ${code} before printing its port: ${early.trim()}`)),
      );
    });
    const pc = new ProviderClient(child, port);
    pc.previewOnly = o.previewOnly === true;
    pc.stderrText = early;
    child.removeAllListeners("exit");
    child.stdout.on("data", (d: Buffer) => {
      pc.stdoutText += d.toString("utf8");
    });
    return pc;
  }

  private call<Res>(method: string, fn: Unary, req: unknown): Promise<Res> {
    const urn = (req as { getUrn?: () => string }).getUrn?.();
    this.calls.push(urn ? `${method} ${urn}` : method);
    if (this.previewOnly && !PREVIEW_CALLS.has(method)) {
      return Promise.reject(
        new Error(
          `engine stand-in: preview called ${method}${urn ? ` for ${urn}` : ""}; a preview may call only Check and Diff`,
        ),
      );
    }
    return new Promise<Res>((resolve, reject) => {
      const cb = (e: grpc.ServiceError | null, r: Res): void =>
        e ? reject(new ProviderCallError(method, e, this.stderrText)) : resolve(r);
      (fn as unknown as (req: unknown, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown).call(
        this.client,
        req,
        cb,
      );
    });
  }

  /** Properties as the engine sends them: secret envelopes stripped unless the provider accepts secrets. */
  private wire(props: PropertyMap | undefined): ReturnType<typeof toStruct> {
    return toStruct(this.acceptSecrets ? props : stripSecrets(props ?? {}));
  }

  /**
   * Configure, with the flags the engine sends (acceptSecrets, acceptResources, sendsOldInputs,
   * sendsOldInputsToDelete). Returns what the provider accepts.
   */
  async configure(
    args: PropertyMap = {},
    variables: Record<string, string> = {},
  ): Promise<{ acceptSecrets: boolean; supportsPreview: boolean }> {
    const req = new provproto.ConfigureRequest();
    req.setArgs(toStruct(args));
    for (const [k, v] of Object.entries(variables)) req.getVariablesMap().set(k, v);
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    req.setSendsOldInputs(true);
    req.setSendsOldInputsToDelete(true);
    const r = await this.call<provproto.ConfigureResponse>("Configure", this.client.configure, req);
    this.acceptSecrets = r.getAcceptsecrets();
    return { acceptSecrets: r.getAcceptsecrets(), supportsPreview: r.getSupportspreview() };
  }

  /** Check: `olds` are the prior INPUTS ({} on create), `news` the program's inputs. */
  async check(o: {
    urn: string;
    olds?: PropertyMap;
    news: PropertyMap;
    randomSeed?: Uint8Array;
  }): Promise<CheckResult> {
    const req = addressed(new provproto.CheckRequest(), o.urn);
    req.setOlds(this.wire(o.olds));
    req.setNews(this.wire(o.news));
    req.setRandomseed(o.randomSeed ?? new Uint8Array(32));
    const r = await this.call<provproto.CheckResponse>("Check", this.client.check, req);
    return {
      inputs: fromStruct(r.getInputs()),
      failures: r.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  /** Diff: `olds` are the prior OUTPUTS, `news` the checked inputs, `oldInputs` the prior inputs. */
  async diff(o: {
    id: string;
    urn: string;
    olds: PropertyMap;
    news: PropertyMap;
    oldInputs?: PropertyMap;
    ignoreChanges?: string[];
  }): Promise<DiffResult> {
    const req = addressed(new provproto.DiffRequest(), o.urn);
    req.setId(o.id);
    req.setOlds(this.wire(o.olds));
    req.setNews(this.wire(o.news));
    req.setOldInputs(this.wire(o.oldInputs ?? {}));
    req.setIgnorechangesList(o.ignoreChanges ?? []);
    const r = await this.call<provproto.DiffResponse>("Diff", this.client.diff, req);
    const C = provproto.DiffResponse.DiffChanges;
    const c = r.getChanges();
    return {
      changes: c === C.DIFF_SOME ? "some" : c === C.DIFF_NONE ? "none" : "unknown",
      replaces: r.getReplacesList(),
      deleteBeforeReplace: r.getDeletebeforereplace(),
      stables: r.getStablesList(),
      diffs: r.getDiffsList(),
    };
  }

  /** Create from checked inputs. `preview: true` is only valid for providers that support preview (the dynamic one does not). */
  async create(o: {
    urn: string;
    properties: PropertyMap;
    preview?: boolean;
    timeoutSec?: number;
  }): Promise<{ id: string; properties: PropertyMap }> {
    const req = addressed(new provproto.CreateRequest(), o.urn);
    req.setProperties(this.wire(o.properties));
    req.setPreview(o.preview ?? false);
    req.setTimeout(o.timeoutSec ?? 0);
    const r = await this.call<provproto.CreateResponse>("Create", this.client.create, req);
    return { id: r.getId(), properties: fromStruct(r.getProperties()) };
  }

  /** Read (refresh): `properties` are the prior outputs, `inputs` the prior inputs. An empty id means "gone". */
  async read(o: {
    id: string;
    urn: string;
    properties: PropertyMap;
    inputs?: PropertyMap;
  }): Promise<{ id: string; properties: PropertyMap; inputs: PropertyMap | undefined }> {
    const req = addressed(new provproto.ReadRequest(), o.urn);
    req.setId(o.id);
    req.setProperties(this.wire(o.properties));
    if (o.inputs) req.setInputs(this.wire(o.inputs));
    const r = await this.call<provproto.ReadResponse>("Read", this.client.read, req);
    const inputs = r.getInputs();
    return {
      id: r.getId(),
      properties: fromStruct(r.getProperties()),
      inputs: inputs ? fromStruct(inputs) : undefined,
    };
  }

  /** Update: `olds` are the prior OUTPUTS, `news` the checked inputs. */
  async update(o: {
    id: string;
    urn: string;
    olds: PropertyMap;
    news: PropertyMap;
    oldInputs?: PropertyMap;
    preview?: boolean;
    timeoutSec?: number;
  }): Promise<{ properties: PropertyMap }> {
    const req = addressed(new provproto.UpdateRequest(), o.urn);
    req.setId(o.id);
    req.setOlds(this.wire(o.olds));
    req.setNews(this.wire(o.news));
    req.setOldInputs(this.wire(o.oldInputs ?? {}));
    req.setPreview(o.preview ?? false);
    req.setTimeout(o.timeoutSec ?? 0);
    const r = await this.call<provproto.UpdateResponse>("Update", this.client.update, req);
    return { properties: fromStruct(r.getProperties()) };
  }

  /** Delete: `properties` are the prior outputs. */
  async delete(o: {
    id: string;
    urn: string;
    properties: PropertyMap;
    oldInputs?: PropertyMap;
    timeoutSec?: number;
  }): Promise<void> {
    const req = addressed(new provproto.DeleteRequest(), o.urn);
    req.setId(o.id);
    req.setProperties(this.wire(o.properties));
    req.setOldInputs(this.wire(o.oldInputs ?? {}));
    req.setTimeout(o.timeoutSec ?? 0);
    await this.call<unknown>("Delete", this.client.delete, req);
  }

  /** Closes the channel and kills the server by pid; resolves when it has exited. */
  async stop(): Promise<void> {
    this.client.close();
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill("SIGKILL");
      }, 3_000);
      child.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}
