/**
 * End to end: the `npm run demo` flow (dist/examples/demo/flow.js) against real hosts, with its own
 * checks at every step, made here independently of the demo's: env files on the hosts parsed and
 * compared, recipients read from each sops file's metadata, audit log lines, the removed host's own
 * key failing to decrypt the rotated file, and no plaintext in state, logs or output.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");
const load = createRequire(join(root, "package.json"));
const flow = load(join(root, "dist/examples/demo/flow.js")) as typeof import("../../examples/demo/flow");
const age = load(join(root, "dist/provider/age/index.js")) as typeof import("../../provider/age");
const sops = load(join(root, "dist/provider/sops/index.js")) as typeof import("../../provider/sops");
const render = load(join(root, "dist/provider/render/index.js")) as typeof import("../../provider/render");
const audit = load(join(root, "dist/provider/access/audit-log.js")) as typeof import("../../provider/access/audit-log");
type Ctx = import("../../examples/demo/flow").DemoContext;
type Result = import("../../examples/demo/flow").DemoResult;

const canon = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(" ");
const sha = (p: string) => (existsSync(p) ? createHash("sha256").update(readFileSync(p)).digest("hex") : "");

function envOn(ctx: Ctx, host: "web-1" | "web-2" | "web-3"): Record<string, string> | undefined {
  const p = join(ctx.hosts[host].dataDir, "app.env");
  if (!existsSync(p)) return undefined;
  return Object.fromEntries(render.parseEnv(readFileSync(p, "utf8"), host === "web-3" ? "systemd" : "dotenv"));
}
const restarts = (ctx: Ctx, host: "web-1" | "web-2" | "web-3") => {
  const p = join(ctx.hosts[host].dataDir, "restarts.log");
  return existsSync(p) ? readFileSync(p, "utf8").trim().split("\n").filter(Boolean).length : 0;
};
function recipientsOf(ctx: Ctx, file: string): string[] {
  const p = join(ctx.workDir, file);
  return sops.readMetadata(readFileSync(p, "utf8"), sops.formatFromPath(p), p).recipients.map(canon).sort();
}
/** The host's recipient as the Fleet derives it (HostKey mode "age": ssh-to-age of the host key). */
const hostRecipient = (ctx: Ctx, host: "web-1" | "web-2" | "web-3") =>
  age.sshToAgeRecipient(ctx.hosts[host].hostKeyLine);
/** Tries to decrypt with only the host's private SSH host key, as the host itself (sops-nix) would. */
async function hostDecrypts(ctx: Ctx, host: "web-1" | "web-2" | "web-3", file: string): Promise<boolean> {
  const pem = readFileSync(ctx.hostKeyFiles[host], "utf8");
  const identities = [
    ...age.parseIdentities(pem, `${host} host key`),
    ...age.parseIdentities(age.sshToAgeIdentity(pem), `${host} host key (ssh-to-age)`),
  ];
  const p = join(ctx.workDir, file);
  try {
    const d = await sops.decrypt(readFileSync(p, "utf8"), { format: sops.formatFromPath(p), identities, file: p });
    return d.leaves.length > 0;
  } catch (e) {
    if (e instanceof sops.NoIdentityError) return false;
    throw e;
  }
}
const auditOf = (ctx: Ctx) => audit.readAudit(".keyfleet/audit.jsonl", ctx.workDir);

let result: Result | undefined;
/** The demo's temporary project, from its first line: removed here even when the demo fails midway (it runs with keep). */
let workDir: string | undefined;
const seen: number[] = [];
const hostPids: number[] = [];
const stateSha: Record<number, string> = {};
const stateFile = (ctx: Ctx) => ctx.engine.stateFiles()[0] ?? "";

afterAll(() => {
  const dir = result?.workDir ?? workDir;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("npm run demo, end to end", () => {
  it("runs every step on real hosts and each step checks out", async () => {
    const lines: string[] = [];
    result = await flow.runDemo({
      keep: true,
      say: (l) => {
        lines.push(l);
        workDir ??= /temporary project (\/\S+)/.exec(l)?.[1];
      },
      onStep: async (step, ctx) => {
        seen.push(step);
        const v = ctx.values;
        const { alice, ci } = ctx.recipients;
        stateSha[step] = sha(stateFile(ctx));
        for (const h of [...Object.values(ctx.hosts), ...Object.values(ctx.extraHosts)])
          if (h.kind === "sshd") hostPids.push(...h.pids());
        if (step === 1) {
          expect(envOn(ctx, "web-1")).toEqual({ DB_PASSWORD: v.DB_PASSWORD, API_TOKEN: v.API_TOKEN });
          expect(envOn(ctx, "web-2")).toEqual({ DB_PASSWORD: v.DB_PASSWORD, METRICS_TOKEN: v.METRICS_TOKEN });
          expect(envOn(ctx, "web-3")).toBeUndefined();
          expect(recipientsOf(ctx, "secrets/app.yaml")).toEqual(
            [alice, ci, hostRecipient(ctx, "web-1"), hostRecipient(ctx, "web-2")].sort(),
          );
          expect(recipientsOf(ctx, "secrets/metrics.env")).toEqual([alice, ci, hostRecipient(ctx, "web-2")].sort()); // least privilege: web-1 does not use it
          expect(await hostDecrypts(ctx, "web-1", "secrets/metrics.env")).toBe(false);
          const a = auditOf(ctx);
          expect(a.map((e) => `${e.file} ${e.operation}`).sort()).toEqual([
            "secrets/app.yaml create",
            "secrets/metrics.env create",
          ]);
          expect(a.find((e) => e.file === "secrets/app.yaml")?.keysChanged).toEqual(["API_TOKEN", "DB_PASSWORD"]);
          expect(a.find((e) => e.file === "secrets/app.yaml")?.recipientsAdded.map((r) => r.name)).toEqual([
            "alice",
            "ci-runner",
            "web-1",
            "web-2",
          ]);
        }
        if (step === 2) {
          expect(stateSha[2]).toBe(stateSha[1]); // preview leaves the state alone
          expect(envOn(ctx, "web-3")).toBeUndefined();
          const r = ctx.runs[1];
          expect(r?.kind).toBe("preview");
          expect(r?.logs.join("\n")).toMatch(/secrets\/app\.yaml: \+ web-3 \(age1/);
          expect(r?.changes.find((c) => c.name === "fleet-app")?.diffKeys).toContain("recipients");
          expect(r?.changes.find((c) => c.name === "fleet-web-3")?.op).toBe("create");
          expect(r?.changes.find((c) => c.name === "fleet-web-3-app.env")?.op).toBe("create");
          // adding a host changes recipients only: no managed value, and nothing of the file web-3 does not use
          expect(r?.changes.filter((c) => c.diffKeys.includes("values"))).toEqual([]);
          expect(r?.changes.find((c) => c.name === "fleet-metrics")?.op).toBe("same");
        }
        if (step === 3) {
          expect(recipientsOf(ctx, "secrets/app.yaml")).toContain(hostRecipient(ctx, "web-3"));
          expect(envOn(ctx, "web-3")).toEqual({ DB_PASSWORD: v.DB_PASSWORD, API_TOKEN: v.API_TOKEN });
          expect(await hostDecrypts(ctx, "web-3", "secrets/app.yaml")).toBe(true);
          expect(
            auditOf(ctx)
              .filter((e) => e.operation === "add-recipients")
              .map((e) => e.recipientsAdded.map((r) => r.name)),
          ).toEqual([["web-3"]]);
          expect([restarts(ctx, "web-1"), restarts(ctx, "web-2"), restarts(ctx, "web-3")]).toEqual([1, 1, 1]);
        }
        if (step === 4) {
          expect(envOn(ctx, "web-1")?.["API_TOKEN"]).toBe(v.API_TOKEN_2);
          expect(envOn(ctx, "web-3")?.["API_TOKEN"]).toBe(v.API_TOKEN_2);
          expect(envOn(ctx, "web-2")).toEqual({ DB_PASSWORD: v.DB_PASSWORD, METRICS_TOKEN: v.METRICS_TOKEN });
          expect([restarts(ctx, "web-1"), restarts(ctx, "web-2"), restarts(ctx, "web-3")]).toEqual([2, 1, 2]);
          const set = auditOf(ctx).filter((e) => e.operation === "set-values" && e.keysChanged.includes("API_TOKEN"));
          expect(set).toHaveLength(1);
          expect(set[0]?.by).toMatch(/cli/);
        }
        if (step === 5) {
          expect(recipientsOf(ctx, "secrets/app.yaml")).toEqual(
            [alice, ci, hostRecipient(ctx, "web-2"), hostRecipient(ctx, "web-3")].sort(),
          );
          expect(await hostDecrypts(ctx, "web-1", "secrets/app.yaml")).toBe(false); // removed: its own key no longer opens the rotated file
          expect(await hostDecrypts(ctx, "web-2", "secrets/app.yaml")).toBe(true);
          expect(envOn(ctx, "web-1")).toBeUndefined();
          const rot = auditOf(ctx).filter((e) => e.operation === "rotate");
          expect(rot).toHaveLength(1);
          expect(rot[0]).toMatchObject({
            file: "secrets/app.yaml",
            recipientsRemoved: [expect.objectContaining({ name: "web-1", recipient: hostRecipient(ctx, "web-1") })],
          });
          expect(rot[0]?.exposure).toEqual([
            expect.objectContaining({ recipient: "web-1", keys: ["API_TOKEN", "DB_PASSWORD"] }),
          ]);
          expect(ctx.runs[4]?.outputs["exposure"]).toEqual({
            app: [{ recipient: "web-1", keys: ["API_TOKEN", "DB_PASSWORD"] }],
          });
          expect([restarts(ctx, "web-2"), restarts(ctx, "web-3")]).toEqual([1, 2]); // rotation alone restarts nothing
        }
        if (step === 6) {
          const state = readFileSync(stateFile(ctx), "utf8");
          expect(state).toContain("ciphertext"); // secrets are there, encrypted
          const texts = [
            state,
            readFileSync(join(ctx.workDir, ".keyfleet/audit.jsonl"), "utf8"),
            readFileSync(join(ctx.workDir, "fleet.yaml"), "utf8"),
            readFileSync(join(ctx.workDir, "secrets/app.yaml"), "utf8"),
            readFileSync(join(ctx.workDir, "secrets/metrics.env"), "utf8"),
            ...(["web-2", "web-3"] as const).map((h) =>
              existsSync(ctx.hosts[h].logFile) ? readFileSync(ctx.hosts[h].logFile, "utf8") : "",
            ),
            lines.join("\n"),
            ctx.runs.flatMap((r) => r.logs).join("\n"),
            JSON.stringify(ctx.runs.map((r) => r.outputs)),
          ];
          for (const value of Object.values(v)) for (const t of texts) expect(t.includes(value)).toBe(false);
        }
        if (step === 7) {
          // without Pulumi: keyfleet provision web-4, then keyfleet set + keyfleet push
          const web4 = ctx.extraHosts["web-4"];
          expect(web4).toBeDefined();
          const p = join(web4?.dataDir ?? "", "app.env");
          expect(Object.fromEntries(render.parseEnv(readFileSync(p, "utf8"), "dotenv"))).toEqual({
            DB_PASSWORD: v.DB_PASSWORD,
            API_TOKEN: v.API_TOKEN_3,
          });
          expect(envOn(ctx, "web-3")?.["API_TOKEN"]).toBe(v.API_TOKEN_3);
          expect(envOn(ctx, "web-2")).toEqual({ DB_PASSWORD: v.DB_PASSWORD, METRICS_TOKEN: v.METRICS_TOKEN });
          expect(recipientsOf(ctx, "secrets/app.yaml")).toEqual(
            [
              alice,
              ci,
              hostRecipient(ctx, "web-2"),
              hostRecipient(ctx, "web-3"),
              age.sshToAgeRecipient(web4?.hostKeyLine ?? ""),
            ].sort(),
          );
          expect(
            readFileSync(join(web4?.dataDir ?? "", "restarts.log"), "utf8")
              .trim()
              .split("\n"),
          ).toHaveLength(2); // provision, then the rotation
          expect([restarts(ctx, "web-2"), restarts(ctx, "web-3")]).toEqual([1, 3]);
          expect(
            auditOf(ctx)
              .filter((e) => e.operation === "add-recipients")
              .map((e) => e.recipientsAdded.map((r) => r.name)),
          ).toEqual([["web-3"], ["web-4"]]);
          const texts = [
            readFileSync(join(ctx.workDir, ".keyfleet/audit.jsonl"), "utf8"),
            readFileSync(join(ctx.workDir, "fleet.yaml"), "utf8"),
            lines.join("\n"),
          ];
          for (const value of Object.values(v)) for (const t of texts) expect(t.includes(value)).toBe(false);
        }
      },
    });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(result.rotationMs).toBeGreaterThan(0);
    expect(result.rotationMs).toBeLessThan(5 * 60_000); // the target: under 5 minutes
    expect(lines.join("\n")).toMatch(/rotation: keyfleet set → new API_TOKEN on web-3, web-4 in \d+\.\d s/);
    expect(result.summary).toMatch(/^demo ok: 3 hosts, 2 files, 6 steps verified/);
    expect(lines.at(-1)).toBe(result.summary);
    expect(lines.join("\n")).toMatch(/engine: (engine stand-in|pulumi CLI)/);
    expect(lines.join("\n")).toContain(
      "exposure: web-1 could read API_TOKEN, DB_PASSWORD in secrets/app.yaml: rotate these values",
    );
    expect(lines.join("\n")).toMatch(/web-2: DB_PASSWORD=\*\*\*\* {2}METRICS_TOKEN=\*\*\*\*/);
  }, 300_000);

  it("stopped every host it started, by pid", async () => {
    expect(result).toBeDefined();
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
      } catch {
        return false;
      }
    };
    expect([...new Set(hostPids)].filter(alive)).toEqual([]);
    // the host directories are removed on stop; their daemons are gone
    for (const line of result?.output ?? []) {
      const m = /(\/tmp\/kf-(?:sshd|ssh2)-[A-Za-z0-9]+)\//.exec(line);
      if (m?.[1]) expect(existsSync(m[1])).toBe(false);
    }
  });
});
