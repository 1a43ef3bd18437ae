/**
 * Issue 10 §2 through the engine stand-in, on the real SDK runtime and the real dynamic-provider
 * server: a SecretFile (deleteFileOnDestroy) holding a value added outside Pulumi (as `keyfleet set`
 * does) changes its `path`. Preview says the file moves and names the unmanaged key that goes with
 * it, and writes nothing; up moves every leaf and removes the old file. The same with the resource's
 * `deleteBeforeReplace` set: a path change is an update, so neither replacement order applies.
 * Loads the tsc-built program and provider from dist/.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import { generateX25519, parseIdentities } from "../../provider/age";
import { decrypt, setValues } from "../../provider/sops";

const root = resolve(__dirname, "../..");
const load = createRequire(join(root, "package.json"));
const { Engine } = load(join(root, "dist/test/harness/engine/engine.js")) as typeof import("../harness/engine/engine");
type RunSummary = import("../harness/engine/engine").RunSummary;

const alice = generateX25519();
const MANAGED = "managed-Vq3-value";
const UNMANAGED = "set-by-cli-Kp8-value";
let base: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "kf-sf-move-"));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Each test runs up to four engine runs (a program and a provider server each); generous on a loaded machine. */
const RUNS_TIMEOUT = 300_000;
const opOf = (s: RunSummary) => s.changes.find((c) => c.urn.endsWith("::app"));
const calls = (s: RunSummary) => new Set(s.providerCalls.map((c) => c.split(" ")[0]));

describe.each([
  { order: "create-before-delete (default)", dbr: "0" },
  { order: "deleteBeforeReplace", dbr: "1" },
])("SecretFile path change through the engine, $order", ({ dbr }) => {
  let dir: string;
  const engine = (env: Record<string, string> = {}) =>
    new Engine({
      projectDir: root,
      project: "keyfleet-harness",
      program: "dist/test/harness/engine/fixtures/secret-file-program.js",
      stack: `move-${dbr}`,
      stateFile: join(dir, "state.json"),
      passphrase: "move-passphrase",
      env: {
        SF_DIR: dir,
        SF_RECIPIENT: alice.recipient,
        SF_VALUE: MANAGED,
        SF_DBR: dbr,
        SOPS_AGE_KEY: alice.identity,
        SOPS_AGE_KEY_FILE: undefined,
        HOME: dir,
        KEYFLEET_ROOT: root,
        ...env,
      },
      onLog: () => undefined,
    });
  const leaves = async (p: string) => {
    const d = await decrypt(readFileSync(join(dir, p), "utf8"), {
      format: "yaml",
      identities: parseIdentities(alice.identity, "test"),
    });
    return Object.fromEntries(d.leaves.map((l) => [l.path.join("."), l.value]));
  };

  it(
    "preview says the file moves with the unmanaged key; up moves every leaf, then removes the old file",
    async () => {
      dir = join(base, `dbr-${dbr}`);
      mkdirSync(dir);
      expect(opOf(await engine().up())?.op).toBe("create");
      // a value added outside the program, as `keyfleet set` does
      const p = join(dir, "app.yaml");
      writeFileSync(
        p,
        await setValues(readFileSync(p, "utf8"), {
          format: "yaml",
          identities: parseIdentities(alice.identity, "test"),
          changes: [{ path: ["added_by_set"], value: UNMANAGED }],
        }),
      );
      const before = readFileSync(p, "utf8");

      const pv = await engine({ SF_FILE: "moved/app.yaml" }).preview();
      expect(opOf(pv)).toMatchObject({ op: "update", replaceKeys: [] });
      expect(opOf(pv)?.diffKeys).toEqual(expect.arrayContaining(["path", "move"]));
      expect(calls(pv)).toEqual(new Set(["Configure", "Check", "Diff"]));
      const line = pv.logs.map((l) => l.message).find((m) => m.includes(" moves to "));
      expect(line).toBe(
        `${p} moves to ${join(dir, "moved/app.yaml")} with all 2 keys, same data key and ciphertexts; not in values, carried as they are: added_by_set; ${p} is removed once the copy verifies`,
      );
      expect(existsSync(join(dir, "moved"))).toBe(false);
      expect(readFileSync(p, "utf8")).toBe(before);

      const up = await engine({ SF_FILE: "moved/app.yaml" }).up();
      expect(opOf(up)?.op).toBe("update");
      expect(up.providerCalls.filter((c) => c.endsWith("::app")).map((c) => c.split(" ")[0])).toEqual([
        "Check",
        "Diff",
        "Update",
      ]);
      expect(existsSync(p)).toBe(false);
      expect(readFileSync(join(dir, "moved/app.yaml"), "utf8")).toBe(before);
      expect(await leaves("moved/app.yaml")).toEqual({ managed: MANAGED, added_by_set: UNMANAGED });
      expect(up.outputs).toMatchObject({ path: join(dir, "moved/app.yaml"), keyNames: ["managed", "added_by_set"] });
      const audit = readFileSync(join(dir, "audit.jsonl"), "utf8");
      expect(audit).toContain(`"operation":"move"`);
      expect(audit).not.toMatch(new RegExp(`${MANAGED}|${UNMANAGED}`));
      expect(readFileSync(join(dir, "state.json"), "utf8")).not.toMatch(new RegExp(`${MANAGED}|${UNMANAGED}`));
      // up logs no move (the line is preview's), and the next run has nothing to do
      expect(up.logs.some((l) => l.message.includes(" moves to "))).toBe(false);
      const again = await engine({ SF_FILE: "moved/app.yaml" }).preview();
      expect(opOf(again)?.op).toBe("same");
      expect(again.logs.some((l) => l.message.includes(" moves to "))).toBe(false);
    },
    RUNS_TIMEOUT,
  );

  it(
    "moving back with a changed value carries the unmanaged key again; destroy removes the file",
    async () => {
      const s = await engine({ SF_VALUE: "second-managed-value" }).up();
      expect(opOf(s)?.op).toBe("update");
      expect(existsSync(join(dir, "moved/app.yaml"))).toBe(false);
      expect(await leaves("app.yaml")).toEqual({ managed: "second-managed-value", added_by_set: UNMANAGED });
      await engine().destroy();
      expect(existsSync(join(dir, "app.yaml"))).toBe(false);
    },
    RUNS_TIMEOUT,
  );
});
