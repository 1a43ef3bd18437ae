/**
 * Runs a real Pulumi program (fixtures/program.ts, tsc-built) on the real SDK runtime through the
 * engine stand-in: preview, up, change input, up, replace, refresh, remove a resource, destroy.
 * Checks real files, the summary, logs and that the state file holds no plaintext secret, and that
 * the SDK's debug lines (which carry secrets in plaintext) are dropped by default.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";

const root = resolve(__dirname, "../..");
const load = createRequire(join(root, "package.json"));
const { Engine, EngineRunError } = load(
  join(root, "dist/test/harness/engine/engine.js"),
) as typeof import("../harness/engine/engine");
type RunSummary = import("../harness/engine/engine").RunSummary;

const SECRET = "hunter2-Zq9-not-in-state";
let dir: string;
let stateFile: string;
const logs: string[] = [];

function engine(env: Record<string, string> = {}): InstanceType<typeof Engine> {
  return new Engine({
    projectDir: root,
    project: "keyfleet-harness",
    program: "dist/test/harness/engine/fixtures/program.js",
    stack: "test",
    stateFile,
    passphrase: "engine-test-passphrase",
    env: { COUNTER_DIR: dir, COUNTER_VALUE: "1", COUNTER_SECRET: SECRET, COUNTER_WITH_B: "1", ...env },
    onLog: (e) => logs.push(`${e.severity}: ${e.message}`),
  });
}
const ops = (s: RunSummary): Record<string, string> =>
  Object.fromEntries(s.changes.map((c) => [c.urn.split("::").pop() ?? "", c.op]));
const file = (name: string): { value: string; writes: number } =>
  JSON.parse(readFileSync(join(dir, name), "utf8")) as { value: string; writes: number };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kf-engine-run-"));
  stateFile = join(dir, "state", "test.json");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Engine stand-in on the real SDK runtime", () => {
  it("preview creates nothing and reports creates with unknown outputs", async () => {
    const s = await engine().preview();
    expect(ops(s)).toEqual({ "keyfleet-harness-test": "create", group: "create", a: "create", b: "create" });
    expect(s.outputs).toMatchObject({ aPath: join(dir, "a.txt"), aWrites: "[unknown]" });
    expect(existsSync(join(dir, "a.txt"))).toBe(false);
    expect(existsSync(stateFile)).toBe(false);
    expect(s.logs.map((l) => l.message)).toContain("counter program: value 1");
  });

  it("up creates the files; state holds no plaintext secret", async () => {
    const s = await engine().up();
    expect(s.counts).toEqual({ create: 4 });
    expect(file("a.txt")).toEqual({ value: "1", secretValue: SECRET, writes: 1 });
    expect(file("b.txt")).toMatchObject({ value: "b-of-1", writes: 1 });
    expect(s.outputs).toEqual({ aPath: join(dir, "a.txt"), aWrites: 1, aSecretLength: "[secret]", b: 1 });
    const text = readFileSync(stateFile, "utf8");
    expect(text).not.toContain(SECRET);
    expect(text).toContain("ciphertext");
    expect(logs.join("\n")).not.toContain(SECRET);
    const a = (JSON.parse(text) as { resources: { urn: string; outputs: Record<string, unknown> }[] }).resources.find(
      (r) => r.urn.endsWith("::a"),
    );
    expect(a?.outputs["secretLength"]).toMatchObject({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    });
    expect(a?.outputs["writes"]).toBe(1);
  });

  it("up again with no change is all same", async () => {
    const s = await engine().up();
    expect(s.counts).toEqual({ same: 4 });
    expect(file("a.txt").writes).toBe(1);
  });

  it("preview of a changed input shows the update and writes nothing", async () => {
    const s = await engine({ COUNTER_VALUE: "2" }).preview();
    expect(ops(s)).toMatchObject({ a: "update", b: "update" });
    expect(s.changes.find((c) => c.urn.endsWith("::a"))?.diffKeys).toEqual(["value"]);
    expect(file("a.txt").value).toBe("1");
  });

  it("up with a changed input updates in place", async () => {
    const s = await engine({ COUNTER_VALUE: "2" }).up();
    expect(ops(s)).toMatchObject({ a: "update", b: "update", group: "same" });
    expect(file("a.txt")).toMatchObject({ value: "2", writes: 2 });
    expect(file("b.txt")).toMatchObject({ value: "b-of-2", writes: 2 });
  });

  it("a changed path replaces (create new, delete old)", async () => {
    const s = await engine({ COUNTER_VALUE: "2", COUNTER_A_FILE: "a2.txt" }).up();
    expect(ops(s)).toMatchObject({ a: "replace" });
    expect(s.changes.find((c) => c.urn.endsWith("::a"))?.replaceKeys).toEqual(["path"]);
    expect(existsSync(join(dir, "a.txt"))).toBe(false);
    expect(file("a2.txt")).toMatchObject({ value: "2", writes: 1 });
  });

  it("refresh reads an outside edit back into state", async () => {
    writeFileSync(join(dir, "a2.txt"), JSON.stringify({ value: "2", secretValue: SECRET, writes: 41 }));
    const s = await engine().refresh();
    expect(s.changes.find((c) => c.urn.endsWith("::a"))).toMatchObject({ op: "refresh", diffKeys: ["writes"] });
  });

  it("a resource dropped from the program is deleted by up", async () => {
    const s = await engine({ COUNTER_VALUE: "2", COUNTER_A_FILE: "a2.txt", COUNTER_WITH_B: "0" }).up();
    expect(ops(s)).toMatchObject({ a: "same", b: "delete" });
    expect(existsSync(join(dir, "b.txt"))).toBe(false);
    expect(file("a2.txt").writes).toBe(41);
  });

  it("a missing program is refused with a clear error", async () => {
    const e = new Engine({
      projectDir: root,
      program: "dist/test/harness/engine/fixtures/no-such-program.js",
      stateFile: join(dir, "other.json"),
      onLog: () => undefined,
    });
    const err = await e.up().catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EngineRunError);
    expect(String(err)).toMatch(/no-such-program\.js does not exist; build it first/);
  });

  it("destroy deletes everything and empties state", async () => {
    const s = await engine().destroy();
    expect(ops(s)).toMatchObject({ a: "delete", group: "delete" });
    expect(existsSync(join(dir, "a2.txt"))).toBe(false);
    expect((JSON.parse(readFileSync(stateFile, "utf8")) as { resources: unknown[] }).resources).toEqual([]);
  });

  it("the SDK's debug lines echo secret inputs in plaintext, so they are dropped unless debugLogs is set", async () => {
    const run = (debugLogs: boolean) =>
      new Engine({
        projectDir: root,
        project: "keyfleet-harness",
        program: "dist/test/harness/engine/fixtures/program.js",
        stack: "test",
        stateFile: join(dir, "debug.json"),
        debugLogs,
        env: { COUNTER_DIR: dir, COUNTER_VALUE: "1", COUNTER_SECRET: SECRET },
        onLog: () => undefined,
      }).preview();
    const quiet = await run(false);
    expect(quiet.logs.filter((l) => l.severity === "debug")).toEqual([]);
    expect(JSON.stringify(quiet.logs)).not.toContain(SECRET);
    // what the default protects against: with debugLogs the secret shows up in the kept lines
    const verbose = await run(true);
    expect(verbose.logs.some((l) => l.severity === "debug" && l.message.includes(SECRET))).toBe(true);
  });
});
