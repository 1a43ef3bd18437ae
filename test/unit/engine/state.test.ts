/** The engine stand-in's state file: secrets encrypted on disk, round trip, wrong passphrase, atomic save, foreign files, ordering. */
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateFile, dependencyOrder, type ResourceState } from "../../harness/engine/state";
import { secret, stripSecrets, changedKeys, makeUrn, parseUrn } from "../../harness/engine/marshal";

const dir = mkdtempSync(join(tmpdir(), "kf-engine-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const res = (urn: string, o: Partial<ResourceState> = {}): ResourceState => ({
  urn,
  type: "t",
  custom: true,
  inputs: {},
  outputs: {},
  dependencies: [],
  ...o,
});

describe("StateFile", () => {
  it("stores secrets as ciphertext and reads them back", () => {
    const path = join(dir, "s.json");
    const st = StateFile.load(path, "pw");
    st.resources.set(
      "u1",
      res("u1", {
        inputs: { pin: secret("4711-plain"), nested: { list: [secret({ k: "deep-plain" })] } },
        outputs: { n: 1 },
      }),
    );
    st.save();
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain("4711-plain");
    expect(text).not.toContain("deep-plain");
    const back = StateFile.load(path, "pw").resources.get("u1");
    expect(stripSecrets(back?.inputs)).toEqual({ pin: "4711-plain", nested: { list: [{ k: "deep-plain" }] } });
    expect(back?.inputs["pin"]).toEqual(secret("4711-plain"));
  });

  it("a wrong passphrase fails loudly", () => {
    expect(() => StateFile.load(join(dir, "s.json"), "not-pw")).toThrow(
      /a secret does not decrypt; pass the passphrase/,
    );
  });

  it("saves atomically with mode 0600 and leaves no temp file beside the state", () => {
    const sub = join(dir, "atomic");
    const path = join(sub, "s.json");
    const st = StateFile.load(path, "pw");
    st.resources.set("u1", res("u1", { outputs: { token: secret("atomic-plain") } }));
    st.save();
    st.save();
    expect(readdirSync(sub)).toEqual(["s.json"]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("a file that is not JSON is refused as not a state file, naming it", () => {
    const path = join(dir, "garbage.json");
    writeFileSync(path, "{ not json");
    expect(() => StateFile.load(path, "pw")).toThrow(
      `state file ${path} is not an engine stand-in state file; delete it or pass another stateFile`,
    );
  });

  it("dependencyOrder puts parents and dependencies first", () => {
    const order = dependencyOrder([res("c", { dependencies: ["b"] }), res("b", { parent: "a" }), res("a")]).map(
      (r) => r.urn,
    );
    expect(order).toEqual(["a", "b", "c"]);
  });
});

describe("marshal helpers", () => {
  it("changedKeys ignores __provider and key order", () => {
    expect(
      changedKeys({ __provider: "x", a: { p: 1, q: 2 }, b: 1 }, { __provider: "y", a: { q: 2, p: 1 }, b: 2, c: 3 }),
    ).toEqual(["b", "c"]);
  });
  it("URNs nest parent types like the engine", () => {
    const urn = makeUrn({ stack: "s", project: "p", type: "x:y:Z", name: "n", parentType: "a:b:C" });
    expect(urn).toBe("urn:pulumi:s::p::a:b:C$x:y:Z::n");
    expect(parseUrn(urn)).toEqual({ qualifiedType: "a:b:C$x:y:Z", type: "x:y:Z", name: "n" });
  });
});
