/**
 * Program wiring under pulumi.runtime.setMocks (which never calls provider CRUD): the SecretFile's
 * recipients input carries names and canonical keys of Recipient, HostKey and plain-string entries.
 * The SDK is loaded from dist/ because the dynamic resources serialise their provider.
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

const created: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
let sdk: Sdk;
let age: Age;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        created.push({ type: a.type, name: a.name, inputs: a.inputs });
        return { id: `${a.name}-id`, state: a.inputs };
      },
      call: () => ({}),
    },
    "keyfleet",
    "test",
    true,
  );
  sdk = req("./dist/sdk/index.js") as Sdk;
  age = req("./dist/provider/age/index.js") as Age;
});

function out<T>(o: import("@pulumi/pulumi").Output<T>): Promise<T> {
  return new Promise((res) => o.apply((v) => res(v)));
}

describe("SDK wiring (setMocks)", () => {
  it("passes named recipients, labels and secret values to the SecretFile", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-wire-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "web", "-f", join(dir, "host")]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ci@runner", "-f", join(dir, "ci")]);
    const hostPub = readFileSync(join(dir, "host.pub"), "utf8").trim();
    const ciPub = readFileSync(join(dir, "ci.pub"), "utf8").trim();
    const alice = age.generateX25519().recipient;

    const a = new sdk.Recipient("alice", { publicKey: alice });
    const web = new sdk.HostKey("web-1", { host: "10.0.0.5", publicKey: hostPub });
    const f = new sdk.SecretFile("app", {
      path: join(dir, "app.yaml"),
      recipients: [a, web, ciPub],
      values: { "db.password": pulumi.secret("hunter2") },
    });
    const urn = await out(f.urn);
    expect(urn).toContain("app");
    // wait for the registration to reach the mocks
    for (let i = 0; i < 100 && !created.some((c) => c.name === "app"); i++) await new Promise((r) => setTimeout(r, 10));
    const file = created.find((c) => c.name === "app");
    expect(file).toBeDefined();
    const recipients = file?.inputs["recipients"] as { name: string; recipient: string }[];
    expect(recipients.map((r) => r.name)).toEqual(["alice", "web-1", "ci@runner"]);
    expect(recipients[0]?.recipient).toBe(alice);
    expect(recipients[1]?.recipient).toBe(age.sshToAgeRecipient(hostPub)); // mode "age" by default
    expect(recipients[2]?.recipient).toBe(ciPub.split(" ").slice(0, 2).join(" "));
    expect(file?.inputs["recipientNames"]).toEqual(["alice", "web-1", "ci@runner"]);
    expect((file?.inputs["recipientLabels"] as string[])[0]).toMatch(/^alice \(age1/);
    expect(file?.inputs["__provider"]).toEqual(expect.any(String));
    const host = created.find((c) => c.name === "web-1");
    expect(host?.inputs).toMatchObject({ host: "10.0.0.5", name: "web-1", publicKey: hostPub });
  });

  it("rejects plain invalid arguments at construction, naming the field", () => {
    expect(() => new sdk.HostKey("h", { host: "a b", trustOnFirstUse: true })).toThrow(/HostKey "h": host/);
    expect(() => new sdk.SecretFile("s", { path: "", recipients: [] })).toThrow(/path.*recipients/);
    expect(() => new sdk.Recipient("r", { publicKey: "nope" })).toThrow(/publicKey/);
  });

  it("argument errors are typed KeyfleetErrors (BAD_ARGUMENTS) and never quote the rejected value", () => {
    const identity = age.generateX25519().identity;
    let err: unknown;
    try {
      new sdk.Recipient("r2", { publicKey: identity });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: "KeyfleetError", code: "BAD_ARGUMENTS" });
    expect((err as Error).message).toMatch(/^Recipient "r2": publicKey: /);
    expect((err as Error).message).not.toContain(identity);
  });
});
