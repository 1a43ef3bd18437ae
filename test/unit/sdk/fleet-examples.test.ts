/**
 * Wiring of examples/raw-resources under setMocks: @pulumi/command is a plugin provider the engine
 * stand-in cannot load, so its `remote.Command` restart is checked here: it is triggered by the
 * HostEnv's contentDigest, depends on the HostEnv, and shares the connection (minus hostKey).
 * Also: the fleet example's inventory loader rejects plaintext values in fleet.yaml.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../../..");
const req = createRequire(join(root, "package.json"));
const pulumi = req("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
type Inv = typeof import("../../../examples/fleet/inventory");

interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const created: Created[] = [];
const dir = mkdtempSync(join(tmpdir(), "kf-raw-ex-"));
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vps", "-f", join(dir, "host")]);
const hostPub = readFileSync(join(dir, "host.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
const unwrap = (v: unknown): unknown =>
  v && typeof v === "object" && "value" in v && Object.keys(v).some((k) => k.length === 32)
    ? (v as { value: unknown }).value
    : v;

beforeAll(async () => {
  const age = req("./dist/provider/age/index.js") as typeof import("../../../provider/age");
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        created.push({ type: a.type, name: a.name, inputs: a.inputs });
        const extra: Record<string, unknown> =
          a.name === "vps-1"
            ? { publicKey: hostPub, recipient: age.sshToAgeRecipient(hostPub) }
            : a.name === "myapp-env"
              ? { contentDigest: "digest-of-content", keyNames: ["API_TOKEN", "DB_PASSWORD", "LOG_LEVEL"] }
              : {};
        return { id: `${a.name}-id`, state: { ...a.inputs, ...extra } };
      },
      call: () => ({}),
    },
    "keyfleet-raw-resources",
    "test",
    false,
  );
  pulumi.runtime.setAllConfig(
    {
      "keyfleet-raw-resources:host": "10.1.2.3",
      "keyfleet-raw-resources:port": "2222",
      "keyfleet-raw-resources:operatorKey": age.generateX25519().recipient,
      "keyfleet-raw-resources:hostFingerprint": "SHA256:" + "A".repeat(43),
      "keyfleet-raw-resources:sshPrivateKey": "PEM-TEXT",
    },
    ["keyfleet-raw-resources:sshPrivateKey"],
  );
  req("./dist/examples/raw-resources/index.js");
});

async function registered(name: string): Promise<Created> {
  for (let i = 0; i < 300 && !created.some((c) => c.name === name); i++) await new Promise((r) => setTimeout(r, 10));
  const c = created.find((x) => x.name === name);
  if (!c) throw new Error(`${name} was not registered; have ${created.map((x) => x.name).join(", ")}`);
  return c;
}

describe("examples/raw-resources wiring (setMocks)", () => {
  it("chains a remote.Command restart on the HostEnv's content digest", async () => {
    const cmd = await registered("restart-myapp");
    expect(cmd.type).toBe("command:remote:Command");
    expect(cmd.inputs["create"]).toBe("sudo systemctl restart myapp.service");
    expect((cmd.inputs["triggers"] as unknown[]).map(unwrap)).toEqual(["digest-of-content"]);
    const conn = unwrap(cmd.inputs["connection"]) as Record<string, unknown>;
    expect(conn).toMatchObject({ host: "10.1.2.3", port: 2222, user: "deploy" });
    expect(conn["hostKey"]).toBeUndefined();
    const env = await registered("myapp-env");
    expect(unwrap(env.inputs["connection"])).toMatchObject({ host: "10.1.2.3", port: 2222, hostKey: hostPub });
    expect(env.inputs["sources"]).toEqual([
      { path: "secrets/app.yaml", keys: ["DB_PASSWORD", "API_TOKEN"], secretFile: true },
    ]);
    expect((await registered("app")).inputs["recipientNames"]).toEqual(["alice", "vps-1"]);
  });
});

describe("examples/fleet inventory", () => {
  const inv = req("./dist/examples/fleet/inventory.js") as Inv;
  it("accepts the shipped fleet.yaml shape and refuses a plaintext value", () => {
    const good = join(dir, "fleet.yaml");
    writeFileSync(
      good,
      "operators: { alice: age1x }\nfiles:\n  app: { path: s.yaml, values: { A: { env: X } } }\nhosts:\n  h: { address: 1.2.3.4, user: u, hostKey: 'ssh-ed25519 AAAA', envFiles: [{ path: /e, name: app.env, sources: [{ file: app }] }] }\n",
    );
    expect(inv.readInventory(good).hosts?.["h"]?.envFiles?.[0]).toMatchObject({ path: "/e", name: "app.env" });
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "files:\n  app: { path: s.yaml, values: { A: hunter2 } }\n");
    expect(() => inv.readInventory(bad)).toThrow(/fleet inventory .*bad\.yaml: files\.app\.values\.A/);
    expect(() => inv.readInventory(bad)).not.toThrow(/hunter2/);
    expect(() => inv.readInventory(join(dir, "missing.yaml"))).toThrow(
      /cannot read fleet inventory .*KEYFLEET_INVENTORY/,
    );
  });
  it("finds the inventory from config, then KEYFLEET_INVENTORY, then ./fleet.yaml", () => {
    expect(inv.inventoryPath("/a/f.yaml", { KEYFLEET_INVENTORY: "/b" })).toBe("/a/f.yaml");
    expect(inv.inventoryPath(undefined, { KEYFLEET_INVENTORY: "/b/f.yaml" })).toBe("/b/f.yaml");
    expect(inv.inventoryPath(undefined, {})).toBe(resolve("fleet.yaml"));
  });
});
