/**
 * Pure pieces of the CLI fleet path: provision's target and --env parsing (valid and invalid rows),
 * migrate's default target, sops's top-level forms, sops-flag hints, and the bounded concurrency of
 * the reconciler's mapLimit.
 */
import { describe, expect, it } from "vitest";
import { fileNameFor, parseEnvSpec, parseTarget } from "../../../cli/fleet-args";
import { defaultTarget } from "../../../cli/migrate";
import { preDispatch } from "../../../cli/sops-style";
import { sopsFlagHint } from "../../../cli/sops-hints";
import { mapLimit } from "../../../provider/fleet/reconcile";
import { isKeyfleetError } from "../../../provider/errors";

describe("parseTarget", () => {
  it.each([
    { input: "deploy@203.0.113.10", want: { name: "203.0.113.10", user: "deploy", host: "203.0.113.10" } },
    {
      input: "web-1=deploy@203.0.113.10:2222",
      want: { name: "web-1", user: "deploy", host: "203.0.113.10", port: 2222 },
    },
    { input: "web-1=root@example.org:22", want: { name: "web-1", user: "root", host: "example.org" } },
    { input: "v6=root@[::1]:2200", want: { name: "v6", user: "root", host: "::1", port: 2200 } },
  ])("$input", ({ input, want }) => expect(parseTarget(input)).toEqual(want));

  it.each([
    { input: "203.0.113.10", error: /\[NAME=\]user@host/ },
    { input: "a b=root@h", error: /\[NAME=\]user@host/ },
    { input: "root@h:70000", error: /port/ },
    { input: "-x=root@h", error: /must match/ },
  ])("refuses $input", ({ input, error }) => {
    expect(() => parseTarget(input)).toThrow(error);
    try {
      parseTarget(input);
    } catch (e) {
      expect(isKeyfleetError(e) && e.code).toBe("USAGE");
    }
  });
});

describe("parseEnvSpec", () => {
  it("parses PATH:FILE and PATH:FILE:KEYS", () => {
    expect(parseEnvSpec("/etc/app/app.env:secrets/app.yaml")).toEqual({
      path: "/etc/app/app.env",
      file: "secrets/app.yaml",
    });
    expect(parseEnvSpec("/etc/app/app.env:./secrets/app.yaml:A, B")).toEqual({
      path: "/etc/app/app.env",
      file: "secrets/app.yaml",
      keys: ["A", "B"],
    });
  });
  it.each([
    "etc/app.env:secrets/a.yaml",
    "/etc/app/:secrets/a.yaml",
    "/etc/a.env",
    "/etc/a.env:secrets/a.yaml:",
    "/a:b:c:d",
  ])("refuses %s", (input) => {
    expect(() => parseEnvSpec(input)).toThrow(/--env/);
  });
});

describe("names", () => {
  it("fileNameFor avoids taken names", () => {
    expect(fileNameFor("secrets/app.yaml", new Set())).toBe("app");
    expect(fileNameFor("secrets/app.env", new Set(["app"]))).toBe("app-2");
    expect(fileNameFor("secrets/.env", new Set())).toBe("secrets");
  });
  it("defaultTarget of migrate", () => {
    expect(defaultTarget(".env")).toBe("secrets/app.env");
    expect(defaultTarget("config/.env.production")).toBe("secrets/production.env");
    expect(defaultTarget("api.env")).toBe("secrets/api.env");
  });
});

describe("sops forms and hints", () => {
  it("maps -d/-e/-r and --version", () => {
    expect(preDispatch(["-d", "f.yaml"]).argv).toEqual(["decrypt", "f.yaml"]);
    expect(preDispatch(["--extract", '["a"]', "--decrypt", "f.yaml"]).argv).toEqual([
      "decrypt",
      "--extract",
      '["a"]',
      "f.yaml",
    ]);
    expect(preDispatch(["-e", "-i", "f.yaml"]).argv).toEqual(["encrypt", "-i", "f.yaml"]);
    expect(preDispatch(["-r", "f.yaml"]).argv).toEqual(["rotate", "f.yaml"]);
    expect(preDispatch(["--version"]).version).toMatch(/^keyfleet \d+\.\d+\.\d+\n$/);
    expect(preDispatch(["set", "-d"]).argv).toEqual(["set", "-d"]); // a verb first: untouched
    expect(preDispatch(["--", "-d"]).argv).toEqual(["--", "-d"]);
  });
  it("hints name the keyfleet equivalent", () => {
    expect(sopsFlagHint("--kms=arn")).toContain("--age");
    expect(sopsFlagHint("-s")).toContain("audit");
    expect(sopsFlagHint("--set")).toContain("keyfleet set");
    expect(sopsFlagHint("--no-such-flag")).toBeUndefined();
    expect(sopsFlagHint("--constructor")).toBeUndefined();
  });
});

describe("mapLimit", () => {
  it("never runs more than the limit at once and keeps the order of results", async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, n * 3));
      active--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
  });
});
