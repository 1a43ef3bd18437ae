/**
 * Large yaml files: parsing is linear in the number of keys (the yaml package's own uniqueKeys check
 * is quadratic: 200,000 keys took minutes), and duplicate keys are still refused with their line,
 * as go-yaml refuses them.
 */
import { describe, expect, it } from "vitest";
import { SopsParseError, storeFor } from "../../../provider/sops/index.js";

describe("yaml at scale", () => {
  it("parses 60,000 top-level keys in a few seconds", () => {
    const text = Array.from({ length: 60_000 }, (_, i) => `k${i}: value-${i}\n`).join("");
    const t0 = performance.now();
    const parsed = storeFor("yaml").parsePlain(text);
    const ms = performance.now() - t0;
    expect(parsed.tree[0]?.items.length).toBe(60_000);
    // quadratic before: about 20 s here; linear now: well under a second on a laptop
    expect(ms).toBeLessThan(8_000);
  }, 30_000);

  it.each([
    ["a: 1\nb: 2\na: 3\n", 3, "a"],
    ["x:\n  y: 1\n  'y': 2\n", 3, "y"],
    ["- k: 1\n  k: 2\n", 2, "k"],
  ])("refuses duplicate keys: %j", (text, line, key) => {
    const body = text.startsWith("-") ? `top:\n${text.replace(/^/gm, "  ").trimEnd()}\n` : text;
    let err: unknown;
    try {
      storeFor("yaml").parsePlain(body, "d.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SopsParseError);
    expect((err as Error).message).toContain(`mapping key "${key}" already defined`);
    expect((err as Error).message).toMatch(new RegExp(`^d\\.yaml:${text.startsWith("-") ? line + 1 : line}:`));
  });

  it("keys that differ as text are not duplicates (1 and 01, as go-yaml compares node values)", () => {
    expect(storeFor("yaml").parsePlain("1: a\n01: b\n").tree[0]?.items.length).toBe(2);
  });
});
