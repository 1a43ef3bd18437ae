// The one table of error codes: every code is thrown somewhere, every thrown code is in the table
// (the compiler refuses others), each maps to an exit status, and the merged near-duplicates are gone.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ERROR_CODES, EXIT, isErrorCode, KeyfleetError, type ErrorCode } from "../../provider/errors";
import { exitCodeFor } from "../../cli/exit-codes";

const root = join(__dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === "node_modules" ? [] : sources(p);
    return n.endsWith(".ts") && !n.endsWith(".d.ts") ? [p] : [];
  });
}

const files = ["provider", "cli", "sdk", "examples"]
  .flatMap((d) => sources(join(root, d)))
  .filter((f) => !f.endsWith(join("provider", "errors.ts")));
const text = files.map((f) => readFileSync(f, "utf8")).join("\n");

describe("error codes", () => {
  it("every code in the table is raised somewhere (no mapped-but-never-thrown code such as IO_WRITE was)", () => {
    const unused = Object.keys(ERROR_CODES).filter((c) => !text.includes(`"${c}"`));
    expect(unused).toEqual([]);
  });

  it("every literal code given to KeyfleetError or a subclass is in the table", () => {
    const thrown = new Set<string>();
    for (const m of text.matchAll(/(?:KeyfleetError|super)\(\s*"([A-Z][A-Z0-9_]*)"/g)) thrown.add(m[1] as string);
    for (const m of text.matchAll(/\bcode: "([A-Z][A-Z0-9_]*)"/g)) thrown.add(m[1] as string);
    expect(thrown.size).toBeGreaterThan(30);
    expect([...thrown].filter((c) => !isErrorCode(c))).toEqual([]);
  });

  it("the near-duplicates are merged", () => {
    for (const gone of ["BAD_VALUES", "IO", "KEYGEN_WRITE", "IO_WRITE"]) expect(isErrorCode(gone)).toBe(false);
    for (const kept of ["BAD_VALUE", "IO_READ", "WRITE_FAILED"]) expect(isErrorCode(kept)).toBe(true);
  });

  it("each code maps to one of the exit statuses, and the CLI derives its status from the table", () => {
    const statuses = new Set<number>(Object.values(EXIT));
    for (const [code, { exit }] of Object.entries(ERROR_CODES)) {
      expect(statuses.has(exit)).toBe(true);
      expect(exitCodeFor(code)).toBe(exit);
    }
    expect(exitCodeFor("toString")).toBe(EXIT.GENERIC); // not fooled by Object.prototype
  });

  it("the compiler refuses a code that is not in the table", () => {
    // @ts-expect-error: "NOT_A_CODE" is not an ErrorCode (typecheck fails if this line compiles)
    const e = new KeyfleetError("NOT_A_CODE", "x");
    const code: ErrorCode = "MAC_MISMATCH";
    expect(e.code).toBe("NOT_A_CODE");
    expect(isErrorCode(code)).toBe(true);
  });
});
