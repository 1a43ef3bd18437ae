/**
 * The preview warning about pending rotations and the Fleet `pendingRotations` map, under
 * pulumi.runtime.setMocks (program evaluation only: no provider CRUD, no decryption). The warning
 * comes from the audit log on disk; the Fleet map from its SecretFiles' outputs. Names only: the
 * values given to the program never appear. Loaded from dist/ (the dynamic resources serialise
 * their provider).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../../..");
const req = createRequire(join(root, "package.json"));
const pulumi = req("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
type Sdk = typeof import("../../../sdk");
type Age = typeof import("../../../provider/age");
type Log = typeof import("../../../provider/access/audit-log");

let sdk: Sdk;
let age: Age;
let audit: Log;
const warnings: string[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        const state: Record<string, unknown> = { ...a.inputs };
        // the provider's answer for the app file of the fleet: one key pending
        if (a.name === "prod-app") state["pendingRotations"] = ["DB_PASSWORD"];
        else if ("recipientNames" in a.inputs) state["pendingRotations"] = [];
        return { id: `${a.name}-id`, state };
      },
      call: () => ({}),
    },
    "keyfleet",
    "test",
    true,
  );
  sdk = req("./dist/sdk/index.js") as Sdk;
  age = req("./dist/provider/age/index.js") as Age;
  audit = req("./dist/provider/access/audit-log.js") as Log;
  (pulumi.log as { warn: (m: string) => Promise<void> }).warn = async (m: string) => {
    warnings.push(m);
  };
});

function out<T>(o: import("@pulumi/pulumi").Output<T>): Promise<T> {
  return new Promise((res) => o.apply((v) => res(v)));
}

async function warned(re: RegExp): Promise<string | undefined> {
  for (let i = 0; i < 200 && !warnings.some((w) => re.test(w)); i++) await new Promise((r) => setTimeout(r, 10));
  return warnings.find((w) => re.test(w));
}

describe("preview warning for pending rotations", () => {
  it("warns per file with key, days and who lost access, read from the audit log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-pw-"));
    mkdirSync(join(dir, "secrets"));
    const file = join(dir, "secrets", "app.yaml");
    const log = join(dir, "audit.jsonl");
    const since = new Date(Date.now() - 12 * 86_400_000 - 60_000).toISOString();
    audit.appendAudit(log, {
      time: since,
      file,
      operation: "rotate",
      recipientsAdded: [],
      recipientsRemoved: [],
      keysChanged: [],
      exposure: [{ recipient: "bob", fingerprint: "SHA256:b", keys: ["DB_PASSWORD"] }],
      by: "keyfleet cli",
    });
    const alice = age.generateX25519().recipient;
    const f = new sdk.SecretFile("app", {
      path: file,
      auditLog: log,
      recipients: [{ name: "alice", recipient: alice }],
      values: { DB_PASSWORD: pulumi.secret("pending-plain-secret") },
      logAccessChanges: false,
    });
    await out(f.urn);
    const w = await warned(/rotation pending/);
    expect(w).toBe(`${file}: rotation pending for DB_PASSWORD (12 days, since bob lost access); change these values`);
    // a file with nothing pending: no warning
    const quiet = new sdk.SecretFile("quiet", {
      path: join(dir, "secrets", "other.yaml"),
      auditLog: log,
      recipients: [{ name: "alice", recipient: alice }],
    });
    await out(quiet.urn);
    await new Promise((r) => setTimeout(r, 50));
    expect(warnings.filter((x) => x.includes("other.yaml"))).toEqual([]);
    expect(warnings.join("\n")).not.toContain("pending-plain-secret");
  });

  it("Fleet maps file name to its pending key names, leaving out files with none", async () => {
    const alice = age.generateX25519().recipient;
    const fleet = new sdk.Fleet("prod", {
      operators: { alice },
      files: {
        app: { path: "secrets/app.yaml", values: { DB_PASSWORD: pulumi.secret("fleet-plain-secret") } },
        metrics: { path: "secrets/metrics.env" },
      },
    });
    expect(await out(fleet.pendingRotations)).toEqual({ app: ["DB_PASSWORD"] });
    expect(JSON.stringify(await out(fleet.pendingRotations))).not.toContain("fleet-plain-secret");
  });
});
