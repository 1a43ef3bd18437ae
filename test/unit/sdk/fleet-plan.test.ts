/**
 * The Fleet's recipient derivation as a pure function: each file goes to the operators, CI and
 * exactly the hosts that source it; invalid inventories list every problem.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { KeyfleetError } from "../../../provider/errors";
import {
  FleetPlanError,
  envFileSlug,
  formatAccessMatrix,
  pathSlug,
  planFleet,
  type PlanInput,
} from "../../../sdk/fleet-plan";

const env = (path: string, ...files: string[]) => ({ path, sources: files.map((file) => ({ file })) });

describe("planFleet", () => {
  it("derives the minimal recipient set per file", () => {
    const p = planFleet({
      operators: ["alice", "bob"],
      ci: ["github"],
      files: ["app", "metrics", "backup"],
      hosts: {
        "web-1": { envFiles: [env("/srv/app/.env", "app")] },
        "web-2": { envFiles: [env("/srv/app/.env", "app"), env("/etc/metrics.env", "metrics")] },
        db: { envFiles: [env("/etc/db.env", "metrics", "app")] },
        bastion: {},
      },
    });
    expect(p.fileRecipients).toEqual({
      app: ["alice", "bob", "github", "web-1", "web-2", "db"],
      metrics: ["alice", "bob", "github", "web-2", "db"],
      backup: ["alice", "bob", "github"],
    });
    expect(p.hostFiles).toEqual({ "web-1": ["app"], "web-2": ["app", "metrics"], db: ["app", "metrics"], bastion: [] });
    expect(p.fileHosts).toEqual({ app: ["web-1", "web-2", "db"], metrics: ["web-2", "db"], backup: [] });
    expect(p.unusedFiles).toEqual(["backup"]);
  });

  it("adding a host is one entry: only the files it uses gain it", () => {
    const base: PlanInput = {
      operators: ["alice"],
      ci: [],
      files: ["a", "b"],
      hosts: { h1: { envFiles: [env("/x", "a")] } },
    };
    const before = planFleet(base);
    const after = planFleet({ ...base, hosts: { ...base.hosts, h2: { envFiles: [env("/y", "b")] } } });
    expect(after.fileRecipients["a"]).toEqual(before.fileRecipients["a"]);
    expect(after.fileRecipients["b"]).toEqual(["alice", "h2"]);
  });

  it.each([
    [{ operators: [], ci: [], files: ["a"], hosts: {} }, /at least one operator or ci/],
    [{ operators: ["x"], ci: ["x"], files: ["a"], hosts: {} }, /"x" is already used by operator "x"/],
    [{ operators: ["alice"], ci: [], files: ["a"], hosts: { alice: {} } }, /host name "alice" is already used/],
    [
      { operators: ["alice"], ci: [], files: ["a"], hosts: { h: { envFiles: [env("/e", "nope")] } } },
      /sources unknown file "nope"; declare it under files/,
    ],
    [
      { operators: ["alice"], ci: [], files: ["a"], hosts: { h: { envFiles: [env("/e", "a"), env("/e", "a")] } } },
      /lists env file "\/e" twice/,
    ],
    [{ operators: ["alice"], ci: [], files: ["a"], hosts: { h: { envFiles: [env("/e")] } } }, /has no sources/],
    [{ operators: ["al ice"], ci: [], files: ["a"], hosts: {} }, /operator name "al ice" must match/],
    [{ operators: ["alice"], ci: [], files: ["a::b"], hosts: {} }, /file name "a::b" must match/],
    [{ operators: ["alice"], ci: [], files: ["a", "a"], hosts: {} }, /listed twice/],
    [
      { operators: ["alice"], ci: [], files: ["web"], hosts: { web: {} } },
      /file name "web" is already used by host "web"/,
    ],
  ] as [PlanInput, RegExp][])("rejects %j", (input, error) => {
    expect(() => planFleet(input)).toThrow(error);
  });

  it("reports every problem at once", () => {
    try {
      planFleet({ operators: [], ci: [], files: ["a"], hosts: { h: { envFiles: [env("/e", "b")] } } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FleetPlanError);
      expect((e as FleetPlanError).problems).toHaveLength(2);
    }
  });

  it("a FleetPlanError is a KeyfleetError with code FLEET_PLAN", () => {
    const err = (() => {
      try {
        planFleet({ operators: [], ci: [], files: ["a"], hosts: {} });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(KeyfleetError);
    expect(err).toMatchObject({ name: "FleetPlanError", code: "FLEET_PLAN" });
  });

  it("property: a host is a recipient of a file exactly when one of its env files sources it", () => {
    const names = ["h1", "h2", "h3", "h4"];
    const files = ["f1", "f2", "f3"];
    const arb = fc.dictionary(
      fc.constantFrom(...names),
      fc.array(fc.subarray(files, { minLength: 1 }), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(arb, (spec) => {
        const hosts = Object.fromEntries(
          Object.entries(spec).map(([h, envs]) => [h, { envFiles: envs.map((fs, k) => env(`/e${k}`, ...fs)) }]),
        );
        const p = planFleet({ operators: ["op"], ci: ["ci"], files, hosts });
        for (const f of files) {
          const want = Object.keys(hosts).filter((h) => spec[h]?.some((fs) => fs.includes(f)));
          expect(p.fileRecipients[f]).toEqual(["op", "ci", ...want]);
        }
      }),
      { numRuns: process.env["SLOW"] ? 2000 : 200 },
    );
  });

  it("names each env file by its name, else by its path, and refuses names that clash or are invalid", () => {
    const p = planFleet({
      operators: ["op"],
      ci: [],
      files: ["app"],
      hosts: {
        "web-1": {
          envFiles: [{ ...env("/tmp/kf-x/data/app.env", "app"), name: "app.env" }, env("/etc/myapp/app.env", "app")],
        },
      },
    });
    expect(p.envFileNames).toEqual({
      "web-1": { "/tmp/kf-x/data/app.env": "app.env", "/etc/myapp/app.env": "etc-myapp-app.env" },
    });
    expect(envFileSlug({ path: "/srv/app/.env" })).toBe("srv-app-.env");
    const bad = (envFiles: { path: string; name?: string; sources: { file: string }[] }[]) => {
      try {
        planFleet({ operators: ["op"], ci: [], files: ["app"], hosts: { h: { envFiles } } });
      } catch (e) {
        expect(e).toBeInstanceOf(FleetPlanError);
        return (e as FleetPlanError).problems;
      }
      return [];
    };
    // two paths whose slugs collide, an explicit name equal to another path's slug, an invalid name
    expect(bad([env("/a b/x", "app"), env("/a-b/x", "app")])).toEqual([
      `host "h" env files "/a b/x" and "/a-b/x" both get the resource name "a-b-x"; give one a different name`,
    ]);
    expect(bad([env("/etc/app.env", "app"), { ...env("/srv/app.env", "app"), name: "etc-app.env" }])).toHaveLength(1);
    expect(bad([{ ...env("/etc/app.env", "app"), name: "my app" }])[0]).toMatch(/name "my app" must match/);
  });

  it("pathSlug and formatAccessMatrix", () => {
    expect(pathSlug("/srv/app/.env")).toBe("srv-app-.env");
    expect(pathSlug("/")).toBe("root");
    expect(
      formatAccessMatrix({ app: ["alice", "web-1"], m: ["alice"] }, { app: "secrets/app.yaml", m: "secrets/m.yaml" }),
    ).toEqual(["app   secrets/app.yaml  alice, web-1", "m     secrets/m.yaml    alice"]);
  });
});
