/**
 * The gRPC side of the engine stand-in: the `pulumirpc.ResourceMonitor` and `pulumirpc.Engine`
 * services the Node.js SDK runtime talks to, on one 127.0.0.1 port.
 *
 * Implemented: SupportsFeature, RegisterResource, RegisterResourceOutputs, ReadResource (refused
 * with a clear error), Invoke (refused), SignalAndWaitForShutdown, Engine.Log,
 * Get/SetRootResource, RequirePulumiVersion. Everything else answers UNIMPLEMENTED (grpc-js default),
 * which the SDK treats as "feature absent" (e.g. GetDeploymentInfo → it probes SupportsFeature).
 */
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import resrpc = require("@pulumi/pulumi/proto/resource_grpc_pb");
import resproto = require("@pulumi/pulumi/proto/resource_pb");
import enginerpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
import engineproto = require("@pulumi/pulumi/proto/engine_pb");
import { fromStruct, type PropertyMap } from "./marshal";

/**
 * Features the stand-in reports to the SDK. `secrets` so secret envelopes reach it; resource
 * references and output values are off so inputs arrive as plain values (ids/URNs), which is what a
 * dynamic provider sees anyway; `deletedWith` and `aliasSpecs` are accepted (and ignored).
 */
export const SUPPORTED_FEATURES: Readonly<Record<string, boolean>> = {
  secrets: true,
  resourceReferences: false,
  outputValues: false,
  deletedWith: true,
  aliasSpecs: true,
};

/** A log line from the program (Engine.Log). */
export interface LogEntry {
  /** debug | info | warning | error */
  severity: "debug" | "info" | "warning" | "error";
  /** The message. */
  message: string;
  /** URN it is about, if any. */
  urn: string;
}

/** What the monitor asks of the engine. */
export interface MonitorHandlers {
  /** RegisterResource: returns the response (URN, id, outputs). Throwing fails the RPC. */
  registerResource(req: resproto.RegisterResourceRequest): Promise<resproto.RegisterResourceResponse>;
  /** RegisterResourceOutputs (component and stack outputs). */
  registerResourceOutputs(urn: string, outputs: PropertyMap): void;
  /** Engine.Log. */
  log(entry: LogEntry): void;
}

const SEVERITY = ["debug", "info", "warning", "error"] as const;

type Cb<T> = grpc.sendUnaryData<T>;
type Call<T> = grpc.ServerUnaryCall<T, unknown>;

function fail(cb: Cb<never>, code: grpc.status, details: string): void {
  cb({ code, details, name: "Error", message: details, metadata: new grpc.Metadata() }, null);
}

/** A running monitor + engine gRPC server. */
export class MonitorServer {
  private rootUrn = "";
  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
  ) {}

  /** `127.0.0.1:<port>`, for `--monitor` and `--engine`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The root (stack) URN the SDK set. */
  get root(): string {
    return this.rootUrn;
  }

  /** Starts both services on an ephemeral 127.0.0.1 port. */
  static async start(h: MonitorHandlers): Promise<MonitorServer> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    // The handlers below are built before the server they report on exists.
    const ref: { self?: MonitorServer } = {};
    const monitor: Partial<grpc.UntypedServiceImplementation> = {
      supportsFeature(call: Call<resproto.SupportsFeatureRequest>, cb: Cb<resproto.SupportsFeatureResponse>) {
        const r = new resproto.SupportsFeatureResponse();
        r.setHassupport(SUPPORTED_FEATURES[call.request.getId()] === true);
        cb(null, r);
      },
      registerResource(call: Call<resproto.RegisterResourceRequest>, cb: Cb<resproto.RegisterResourceResponse>) {
        h.registerResource(call.request).then(
          (r) => cb(null, r),
          (e: unknown) => fail(cb as Cb<never>, grpc.status.UNKNOWN, e instanceof Error ? e.message : String(e)),
        );
      },
      registerResourceOutputs(call: Call<resproto.RegisterResourceOutputsRequest>, cb: Cb<Empty>) {
        h.registerResourceOutputs(call.request.getUrn(), fromStruct(call.request.getOutputs()));
        cb(null, new Empty());
      },
      readResource(call: Call<resproto.ReadResourceRequest>, cb: Cb<never>) {
        fail(
          cb,
          grpc.status.UNIMPLEMENTED,
          `the engine stand-in cannot read existing resources (${call.request.getType()} ${call.request.getName()}); run the program with the pulumi CLI`,
        );
      },
      invoke(call: Call<resproto.ResourceInvokeRequest>, cb: Cb<never>) {
        fail(
          cb,
          grpc.status.UNIMPLEMENTED,
          `the engine stand-in has no provider functions (invoke ${call.request.getTok()}); run the program with the pulumi CLI`,
        );
      },
      signalAndWaitForShutdown(_call: Call<Empty>, cb: Cb<Empty>) {
        cb(null, new Empty());
      },
    };
    const engine: Partial<grpc.UntypedServiceImplementation> = {
      log(call: Call<engineproto.LogRequest>, cb: Cb<Empty>) {
        const q = call.request;
        h.log({ severity: SEVERITY[q.getSeverity()] ?? "info", message: q.getMessage(), urn: q.getUrn() });
        cb(null, new Empty());
      },
      getRootResource(_call: Call<engineproto.GetRootResourceRequest>, cb: Cb<engineproto.GetRootResourceResponse>) {
        const r = new engineproto.GetRootResourceResponse();
        r.setUrn(ref.self?.rootUrn ?? "");
        cb(null, r);
      },
      setRootResource(call: Call<engineproto.SetRootResourceRequest>, cb: Cb<engineproto.SetRootResourceResponse>) {
        if (ref.self) ref.self.rootUrn = call.request.getUrn();
        cb(null, new engineproto.SetRootResourceResponse());
      },
      requirePulumiVersion(
        _call: Call<engineproto.RequirePulumiVersionRequest>,
        cb: Cb<engineproto.RequirePulumiVersionResponse>,
      ) {
        cb(null, new engineproto.RequirePulumiVersionResponse());
      },
    };
    server.addService(resrpc.ResourceMonitorService, monitor as grpc.UntypedServiceImplementation);
    server.addService(enginerpc.EngineService, engine as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    ref.self = new MonitorServer(server, port);
    return ref.self;
  }

  /** Stops the server (in-flight calls are cut after 2 s). */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2_000);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
