/**
 * The engine stand-in holds a provider to the Go engine's rules (pkg/resource/deploy). Each test
 * here would fail if the stand-in were lenient:
 * - secrets are stripped before every provider call (the counter's Check refuses an envelope) and
 *   outputs are re-marked secret after it (the state file holds no plaintext);
 * - preview calls only Check and Diff, also for a replacement and a delete;
 * - a replacement creates before it deletes, unless deleteBeforeReplace is set;
 * - a second registration of one URN is an error, before any step of it runs;
 * - a step that throws keeps the old state entry;
 * - a failing up ends in seconds with the provider's own message first.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";

const root = resolve(__dirname, "../..");
const load = createRequire(join(root, "package.json"));
const { Engine, EngineRunError } = load(
  join(root, "dist/test/harness/engine/engine.js"),
) as typeof import("../harness/engine/engine");
type RunSummary = import("../harness/engine/engine").RunSummary;

const SECRET = "rules-secret-Qx7-not-in-state";
let dir: string;
let stateFile: string;

function engine(env: Record<string, string> = {}): InstanceType<typeof Engine> {
  return new Engine({
    projectDir: root,
    project: "keyfleet-harness",
    program: "dist/test/harness/engine/fixtures/program.js",
    stack: "rules",
    stateFile,
    passphrase: "rules-passphrase",
    env: { COUNTER_DIR: dir, COUNTER_VALUE: "1", COUNTER_SECRET: SECRET, ...env },
    onLog: () => undefined,
  });
}
/** Provider calls of resource `a` only, as `Method`. */
const callsOfA = (s: RunSummary): string[] =>
  s.providerCalls.filter((c) => c.endsWith("::a")).map((c) => c.split(" ")[0] ?? "");
const stateOf = (name: string): { outputs: Record<string, unknown> } | undefined =>
  (
    JSON.parse(readFileSync(stateFile, "utf8")) as { resources: { urn: string; outputs: Record<string, unknown> }[] }
  ).resources.find((r) => r.urn.endsWith(`::${name}`));
const file = (name: string): { value: string; writes: number } =>
  JSON.parse(readFileSync(join(dir, name), "utf8")) as { value: string; writes: number };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kf-engine-rules-"));
  stateFile = join(dir, "state", "rules.json");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("engine stand-in: the Go engine's rules", () => {
  it("strips secrets before each call and re-marks outputs secret (no plaintext in state)", async () => {
    const s = await engine().up();
    expect(s.counts).toEqual({ create: 3 });
    const a = stateOf("a");
    // secretValue is an output named like a secret input: re-marked; secretLength: additionalSecretOutputs
    expect(a?.outputs["secretValue"]).toMatchObject({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    });
    expect(a?.outputs["secretLength"]).toMatchObject({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    });
    expect(readFileSync(stateFile, "utf8")).not.toContain(SECRET);
  });

  it("preview calls only Check and Diff, also when it plans a replace and a delete", async () => {
    const s = await engine({ COUNTER_A_FILE: "a-moved.txt", COUNTER_VALUE: "2" }).preview();
    expect(s.changes.find((c) => c.urn.endsWith("::a"))?.op).toBe("replace");
    expect(s.providerCalls.length).toBeGreaterThan(0);
    expect(new Set(s.providerCalls.map((c) => c.split(" ")[0]))).toEqual(new Set(["Configure", "Check", "Diff"]));
    expect(existsSync(join(dir, "a-moved.txt"))).toBe(false);
  });

  it("a replacement creates the new resource before it deletes the old one", async () => {
    const s = await engine({ COUNTER_A_FILE: "a2.txt" }).up();
    expect(callsOfA(s)).toEqual(["Check", "Diff", "Create", "Delete"]);
    expect(existsSync(join(dir, "a.txt"))).toBe(false);
    expect(file("a2.txt").writes).toBe(1);
  });

  it("with deleteBeforeReplace it deletes first", async () => {
    const s = await engine({ COUNTER_A_FILE: "a3.txt", COUNTER_DBR: "1" }).up();
    expect(callsOfA(s)).toEqual(["Check", "Diff", "Delete", "Create"]);
    expect(existsSync(join(dir, "a2.txt"))).toBe(false);
    expect(file("a3.txt").writes).toBe(1);
  });

  it("a duplicate URN is an error, and the second registration runs no step", async () => {
    const err = (await engine({ COUNTER_A_FILE: "a3.txt", COUNTER_DUP: "1" })
      .up()
      .catch((x: unknown) => x)) as InstanceType<typeof EngineRunError>;
    expect(err).toBeInstanceOf(EngineRunError);
    expect(err.message).toMatch(/^duplicate resource URN urn:pulumi:rules::keyfleet-harness::.*Counter::a;/);
    expect(existsSync(join(dir, "dup.txt"))).toBe(false);
    expect(callsOfA(err.summary).filter((c) => c === "Create")).toEqual([]);
    expect(file("a3.txt")).toMatchObject({ value: "1", writes: 1 });
  });

  it("a step that throws keeps the old state; a failing up ends in seconds with the provider's message first", async () => {
    const before = stateOf("a")?.outputs;
    expect(before).toMatchObject({ value: "1", writes: 1 });
    const t0 = Date.now();
    const err = (await engine({ COUNTER_A_FILE: "a3.txt", COUNTER_VALUE: "boom" })
      .up()
      .catch((x: unknown) => x)) as InstanceType<typeof EngineRunError>;
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(EngineRunError);
    expect(err.message).toMatch(/^counter \S+a3\.txt refuses the value boom \(provider Update of a, /);
    expect(took).toBeLessThan(25_000); // generous bound; it took 39–51 s before (the issue demands seconds)
    expect(stateOf("a")?.outputs).toMatchObject({
      path: before?.["path"],
      value: "1",
      writes: 1,
      valueHash: before?.["valueHash"],
    });
    // the next up sees the old state and applies the change then
    const s = await engine({ COUNTER_A_FILE: "a3.txt", COUNTER_VALUE: "3" }).up();
    expect(s.changes.find((c) => c.urn.endsWith("::a"))?.op).toBe("update");
    expect(file("a3.txt")).toMatchObject({ value: "3", writes: 2 });
  });

  it("a failing preview reports the provider's Check failure first", async () => {
    const err = (await engine({ COUNTER_DIR: "relative-dir" })
      .preview()
      .catch((x: unknown) => x)) as Error;
    expect(err).toBeInstanceOf(EngineRunError);
    expect(err.message).toMatch(/^path must be an absolute path \(provider Check of a, /);
  });

  it("destroy", async () => {
    const s = await engine().destroy();
    expect(s.counts["delete"]).toBe(3);
  });
});
