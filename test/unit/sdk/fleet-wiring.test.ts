/**
 * Fleet wiring under pulumi.runtime.setMocks (which never calls provider CRUD): which children the
 * component builds, each SecretFile's derived recipients, each HostEnv's connection and sources,
 * and the outputs (access matrix, env key names, exposure). Loaded from dist/ because the dynamic
 * resources serialise their provider.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../../..");
const req = createRequire(join(root, "package.json"));
const pulumi = req("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
type Sdk = typeof import("../../../sdk");
type Age = typeof import("../../../provider/age");

interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const created: Created[] = [];
let sdk: Sdk;
let age: Age;

/** Fake outputs for the dynamic resources, shaped as their providers would return them. */
function fakeState(inputs: Record<string, unknown>): Record<string, unknown> {
  if ("recipientNames" in inputs) {
    const rs = inputs["recipients"] as { name: string; recipient: string }[];
    return {
      ...inputs,
      recipients: rs.map((r) => ({ ...r, fingerprint: "SHA256:x" })),
      keyNames: ["API_TOKEN", "DB_PASSWORD"],
      exposure: [],
      valueDigests: {},
      fileSha256: "f",
    };
  }
  if ("sources" in inputs) {
    const srcs = inputs["sources"] as { keys?: string[]; prefix?: string }[];
    return { ...inputs, keyNames: srcs.flatMap((s) => (s.keys ?? ["ALL"]).map((k) => (s.prefix ?? "") + k)) };
  }
  return inputs;
}

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        created.push({ type: a.type, name: a.name, inputs: a.inputs });
        return { id: `${a.name}-id`, state: fakeState(a.inputs) };
      },
      call: () => ({}),
    },
    "keyfleet",
    "test",
    false,
  );
  sdk = req("./dist/sdk/index.js") as Sdk;
  age = req("./dist/provider/age/index.js") as Age;
});

function out<T>(o: import("@pulumi/pulumi").Output<T>): Promise<T> {
  return new Promise((res) => o.apply((v) => res(v)));
}

async function registered(name: string): Promise<Created> {
  for (let i = 0; i < 200 && !created.some((c) => c.name === name); i++) await new Promise((r) => setTimeout(r, 10));
  const c = created.find((x) => x.name === name);
  if (!c) throw new Error(`${name} was not registered; have ${created.map((x) => x.name).join(", ")}`);
  return c;
}

function hostKeyLine(dir: string, name: string): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(dir, name)]);
  return readFileSync(join(dir, `${name}.pub`), "utf8")
    .trim()
    .split(" ")
    .slice(0, 2)
    .join(" ");
}

describe("Fleet wiring (setMocks)", () => {
  it("builds the children with the minimal recipient set and wires env files to the files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-fleet-wire-"));
    const [k1, k2] = [hostKeyLine(dir, "web-1"), hostKeyLine(dir, "web-2")];
    const alice = age.generateX25519().recipient;
    const github = age.generateX25519().recipient;
    const fleet = new sdk.Fleet("prod", {
      operators: { alice },
      ci: { github },
      files: {
        app: { path: "secrets/app.yaml", values: { DB_PASSWORD: pulumi.secret("s3cret-wiring") } },
        metrics: { path: "secrets/metrics.env" },
      },
      hosts: {
        "web-1": {
          address: "10.0.0.1",
          user: "deploy",
          privateKey: "PEM",
          hostKey: k1,
          envFiles: [
            {
              path: "/etc/app.env",
              name: "app",
              sources: [{ file: "app", keys: ["DB_PASSWORD", "API_TOKEN"] }],
              onChange: "true",
            },
          ],
        },
        "web-2": {
          address: "10.0.0.2",
          port: 2222,
          user: "deploy",
          privateKey: "PEM",
          hostKey: k2,
          mode: "ssh",
          envFiles: [
            {
              path: "/etc/app.env",
              format: "systemd",
              sources: [
                { file: "app", keys: ["DB_PASSWORD"] },
                { file: "metrics", prefix: "M_", keys: ["TOKEN"] },
              ],
            },
          ],
        },
        bastion: { address: "10.0.0.3", hostKey: k1 },
      },
    });
    expect(fleet.plan.fileRecipients).toEqual({
      app: ["alice", "github", "web-1", "web-2"],
      metrics: ["alice", "github", "web-2"],
    });

    const app = await registered("prod-app");
    expect(app.inputs["recipientNames"]).toEqual(["alice", "github", "web-1", "web-2"]);
    const rs = app.inputs["recipients"] as { name: string; recipient: string }[];
    expect(rs[2]?.recipient).toBe(age.sshToAgeRecipient(k1)); // default mode: ssh-to-age
    expect(rs[3]?.recipient).toBe(k2); // mode "ssh": native recipient
    expect(app.inputs["path"]).toBe("secrets/app.yaml");
    expect((await registered("prod-metrics")).inputs["recipientNames"]).toEqual(["alice", "github", "web-2"]);
    expect((await registered("prod-web-2")).inputs).toMatchObject({
      name: "web-2",
      host: "10.0.0.2",
      port: 2222,
      publicKey: k2,
      mode: "ssh",
    });
    expect((await registered("prod-alice")).inputs).toMatchObject({ name: "alice", publicKey: alice });

    const env2 = await registered("prod-web-2-etc-app.env");
    expect(env2.inputs).toMatchObject({ path: "/etc/app.env", format: "systemd" });
    // HostEnv stores the connection (it holds the private key) as a secret: unwrap the envelope
    const conn = env2.inputs["connection"] as Record<string, unknown>;
    expect(conn["value"] ?? conn).toMatchObject({ host: "10.0.0.2", port: 2222, user: "deploy", hostKey: k2 });
    expect(env2.inputs["sources"]).toEqual([
      { path: "secrets/app.yaml", keys: ["DB_PASSWORD"], secretFile: true },
      { path: "secrets/metrics.env", keys: ["TOKEN"], prefix: "M_", secretFile: true },
    ]);
    const env1 = await registered("prod-web-1-app"); // named by its `name`, not its path
    expect(env1.inputs["onChange"]).toBe("true");
    expect(env1.inputs["path"]).toBe("/etc/app.env");
    expect("name" in env1.inputs).toBe(false); // the fragment names the resource; it is not a HostEnv input
    expect(created.some((c) => c.name.startsWith("prod-bastion-"))).toBe(false); // no env files → no HostEnv

    expect(await out(fleet.files["app"]!.urn)).toContain(
      "keyfleet:index:Fleet$pulumi-nodejs:dynamic/keyfleet:SecretFile::prod-app",
    );
    // each resource registers with its own type token (issue 10 §4), not the shared dynamic:Resource
    expect((await registered("prod-alice")).type).toBe("pulumi-nodejs:dynamic/keyfleet:Recipient");
    expect((await registered("prod-web-1")).type).toBe("pulumi-nodejs:dynamic/keyfleet:HostKey");
    expect((await registered("prod-app")).type).toBe("pulumi-nodejs:dynamic/keyfleet:SecretFile");
    expect(env1.type).toBe("pulumi-nodejs:dynamic/keyfleet:HostEnv");
    expect(await out(fleet.accessMatrix)).toEqual({
      app: ["alice", "github", "web-1", "web-2"],
      metrics: ["alice", "github", "web-2"],
    });
    expect(await out(fleet.hostEnvKeys)).toEqual({
      "web-1": { "/etc/app.env": ["DB_PASSWORD", "API_TOKEN"] },
      "web-2": { "/etc/app.env": ["DB_PASSWORD", "M_TOKEN"] },
      bastion: {},
    });
    expect(await out(fleet.exposure)).toEqual({});
    // the managed value reaches the SecretFile as a secret only
    expect(JSON.stringify(created.filter((c) => c.name !== "prod-app"))).not.toContain("s3cret-wiring");
  });

  it("a Recipient and a HostKey of the same name get distinct URNs", async () => {
    const r = new sdk.Recipient("same", { publicKey: age.generateX25519().recipient });
    const h = new sdk.HostKey("same", {
      host: "127.0.0.1",
      publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    });
    const [ru, hu] = await Promise.all([out(r.urn), out(h.urn)]);
    expect(ru).toMatch(/::pulumi-nodejs:dynamic\/keyfleet:Recipient::same$/);
    expect(hu).toMatch(/::pulumi-nodejs:dynamic\/keyfleet:HostKey::same$/);
  });

  it("refuses children whose names collide, naming both, before creating anything", () => {
    const before = created.length;
    const key = age.generateX25519().recipient;
    const make = () =>
      new sdk.Fleet("dup", {
        operators: { alice: key },
        files: { "web-app": { path: "a.yaml" } },
        hosts: {
          web: {
            address: "h",
            user: "u",
            hostKey: "ssh-ed25519 AAAA",
            envFiles: [{ path: "/etc/x.env", name: "app", sources: [{ file: "web-app" }] }],
          },
        },
      });
    expect(make).toThrow(/env file "\/etc\/x\.env" of host "web" and file "web-app" would both be named "dup-web-app"/);
    expect(created.length).toBe(before);
  });

  it("rejects an inventory whose env file names an unknown file, before creating anything", () => {
    const before = created.length;
    expect(
      () =>
        new sdk.Fleet("bad", {
          operators: { a: age.generateX25519().recipient },
          files: { app: { path: "a.yaml" } },
          hosts: {
            h: {
              address: "h",
              user: "u",
              hostKey: "ssh-ed25519 AAAA",
              envFiles: [{ path: "/e", sources: [{ file: "nope" }] }],
            },
          },
        }),
    ).toThrow(/unknown file "nope"/);
    expect(created.length).toBe(before);
  });
});
