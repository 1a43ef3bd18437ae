/**
 * Property: random values rendered in each format read back identically.
 * - dotenv: by a real `bash` (`set -a; source`) AND by the docker compose env_file parser
 *   (provider/render/dotenv.ts, written from compose-go's documented rules).
 * - systemd: by the EnvironmentFile parser written from systemd.exec(5) / systemd's env-file rules.
 *   A real systemd reader is not usable here (no systemd as PID 1 in CI), so that parser is the
 *   reference.
 * - json: JSON.parse.
 * Values the format cannot express must raise RenderError, never render. SLOW=1 runs 20× more.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseEnv, renderEnv, RenderError, type EnvFormat } from "../../../provider/render/index";
import { bashSourceMany } from "./bash-source";

const RUNS = process.env.SLOW === "1" ? 2000 : 100;

const special = fc.constantFrom(
  "'",
  '"',
  "\\",
  "$",
  "`",
  "#",
  " ",
  "\t",
  "\n",
  "=",
  "{",
  "}",
  "(",
  ")",
  ";",
  "!",
  "*",
  "~",
  "é",
  "✓",
  "🎉",
  "\u00a0",
  "\r",
);
const valueArb = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: special },
      { weight: 2, arbitrary: fc.string({ maxLength: 4 }) },
      { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 3 }) },
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(""));
const entriesArb = fc.uniqueArray(
  fc.tuple(
    fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/).map((k) => `KF_${k}`),
    valueArb,
  ),
  { selector: (e) => e[0], minLength: 1, maxLength: 6 },
);

function tryRender(entries: [string, string][], f: EnvFormat): string | RenderError {
  try {
    return renderEnv(entries, f);
  } catch (e) {
    if (e instanceof RenderError) return e;
    throw e;
  }
}

describe("render round-trip property", () => {
  it("dotenv: bash source and the compose parser read back exactly what was rendered", () => {
    const samples = fc.sample(entriesArb, { numRuns: RUNS, seed: 42 });
    const rendered: { entries: [string, string][]; text: string }[] = [];
    let refused = 0;
    for (const entries of samples) {
      const r = tryRender(entries, "dotenv");
      if (r instanceof RenderError) {
        refused++;
        expect(r.key).toBeDefined();
        continue;
      }
      expect(parseEnv(r, "dotenv")).toEqual(entries);
      rendered.push({ entries, text: r });
    }
    // one bash process for all samples keeps this fast
    const res = bashSourceMany(rendered.map((x) => ({ text: x.text, keys: x.entries.map((e) => e[0]) })));
    res.forEach((r, i) => expect(r, rendered[i]!.text).toEqual({ values: rendered[i]!.entries.map((e) => e[1]) }));
    expect(rendered.length).toBeGreaterThan(RUNS / 10);
    expect(refused + rendered.length).toBe(samples.length);
  });

  it("systemd: every value renders and the EnvironmentFile parser reads it back", () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        expect(parseEnv(renderEnv(entries, "systemd"), "systemd")).toEqual(entries);
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it("json: every value renders and reads back", () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        expect(parseEnv(renderEnv(entries, "json"), "json")).toEqual(entries);
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it("values refused by dotenv are exactly those with no spelling both readers share", () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        const r = tryRender([["K", v]], "dotenv");
        const expressible = !v.includes("\r") && (!v.includes("'") ? !v.endsWith("\\") : !/["\\$`]/.test(v));
        expect(r instanceof RenderError).toBe(!expressible);
      }),
      { numRuns: RUNS * 5 },
    );
  });
});
