/**
 * Preview unknowns (issue 10 §4): a HostKey trusted by `expectedFingerprint` whose outputs are
 * unknown in preview (it is created, or updated after a rename) must not make a HostEnv's host and
 * port unknown: an unknown port is a replace trigger, so preview planned a delete-before-replace
 * that up then did not do. Here: the program in preview (setMocks, dry run: outputs a mock omits are
 * unknown) registers the HostEnv with host and port known and only hostKey unknown; and the
 * provider's diff of exactly those inputs plans an update, not a replacement, while an unknown or
 * changed port still plans the replacement. Loaded from dist/ (the resources serialise their provider).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../../..");
const req = createRequire(join(root, "package.json"));
const pulumi = req("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
type Sdk = typeof import("../../../sdk");
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const registered = new Map<string, Record<string, unknown>>();
let sdk: Sdk;
beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        registered.set(a.name, a.inputs);
        // the HostKey's scanned key is not known in preview: leave its outputs out
        const state = a.type.endsWith(":HostKey") ? { name: a.inputs["name"], host: a.inputs["host"] } : a.inputs;
        return { id: `${a.name}-id`, state };
      },
      call: () => ({}),
    },
    "keyfleet",
    "test",
    true,
  );
  sdk = req("./dist/sdk/index.js") as Sdk;
});

async function inputsOf(name: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 300 && !registered.has(name); i++) await new Promise((r) => setTimeout(r, 10));
  return registered.get(name) ?? {};
}

describe("preview with a HostKey pinned by fingerprint", () => {
  it("the HostEnv keeps host and port known when only hostKey is unknown", async () => {
    const hk = new sdk.HostKey("web-3", {
      host: "203.0.113.3",
      port: 2222,
      expectedFingerprint: "SHA256:2Ib8q0bBGcVqV0yNqRtqQ1O4RbZ6C4yHf0I3pY2m4qE",
    });
    new sdk.HostEnv("web-3-app", {
      connection: { host: "203.0.113.3", port: 2222, user: "deploy", hostKey: hk.publicKey },
      path: "/etc/app.env",
      sources: [{ file: "secrets/app.env" }],
    });
    const raw = (await inputsOf("web-3-app"))["connection"] as Record<string, unknown>;
    const conn = ("value" in raw ? raw["value"] : raw) as Record<string, unknown>; // a secret envelope (privateKey is secret)
    expect(conn["host"]).toBe("203.0.113.3");
    expect(conn["port"]).toBe(2222);
    expect(conn["user"]).toBe("deploy");
    expect(JSON.stringify(conn["hostKey"] ?? null)).toMatch(/__pulumiUnknown|null|04da6b54/); // unknown in preview
  });

  it("the provider's diff of such inputs plans an update; an unknown or changed port plans a replacement", async () => {
    const he = req("./dist/provider/resources/host-env.js") as typeof import("../../../provider/resources/host-env");
    const olds = {
      connection: { host: "203.0.113.3", port: 2222, user: "deploy", hostKey: "ssh-ed25519 AAAA" },
      host: "203.0.113.3",
      port: 2222,
      path: "/etc/app.env",
    } as never;
    const news = (port: unknown) => ({
      connection: { host: "203.0.113.3", port, user: "deploy", hostKey: UNKNOWN, privateKey: UNKNOWN },
      path: "/etc/app.env",
      sources: [],
    });
    expect(await he.diff("id", olds, news(2222))).toMatchObject({ changes: true, replaces: [] });
    expect((await he.diff("id", olds, news(UNKNOWN))).replaces).toEqual(["connection"]);
    expect((await he.diff("id", olds, news(22))).replaces).toEqual(["connection"]);
  });
});
