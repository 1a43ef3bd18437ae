/**
 * The fleet example's inventory loader (examples/fleet/inventory.ts) answers a broken fleet.yaml with
 * a typed KeyfleetError naming the file, and never quotes the file's text: a value pasted into the
 * inventory by mistake (next to a yaml syntax error) stays out of the message and its cause chain.
 */
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readInventory } from "../../examples/fleet/inventory";
import { isKeyfleetError } from "../../provider/errors";

const dir = mkdtempSync(join(tmpdir(), "kf-inventory-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASTED = "hunter2-pasted-into-fleet-yaml";

/** Message, hint and every cause's message, joined. */
function everything(e: unknown): string {
  const out: string[] = [];
  for (let c: unknown = e, i = 0; c instanceof Error && i < 10; c = c.cause, i++)
    out.push(c.message, String((c as { hint?: unknown }).hint ?? ""));
  return out.join("\n");
}

const rows: { name: string; text: string; code: string; error: RegExp }[] = [
  {
    name: "unclosed quote",
    text: `files:\n  app:\n    path: a.yaml\n    values:\n      DB_PASSWORD: "${PASTED}\n`,
    code: "INVENTORY_INVALID",
    error:
      /^fleet inventory .*unclosed-quote\.yaml: invalid yaml: .* at line \d+, column \d+; fix the yaml syntax at that line$/,
  },
  {
    name: "nested compact mapping",
    text: `files:\n  app:\n    path: a.yaml\n    values:\n      DB_PASSWORD: ${PASTED}: x\n`,
    code: "INVENTORY_INVALID",
    error:
      /^fleet inventory .*nested-compact-mapping\.yaml: invalid yaml: .* at line 5, column \d+; fix the yaml syntax at that line$/,
  },
  {
    name: "plain value",
    text: `files:\n  app:\n    path: a.yaml\n    values:\n      DB_PASSWORD: ${PASTED}\n`,
    code: "INVENTORY_INVALID",
    error: /^fleet inventory .*plain-value\.yaml: files\.app\.values\.DB_PASSWORD: .*; fix those fields/,
  },
];

describe("fleet inventory errors", () => {
  it.each(rows)("$name: typed, names the file and the fix, quotes no value", ({ name, text, code, error }) => {
    const file = join(dir, `${name.replace(/ /g, "-")}.yaml`);
    writeFileSync(file, text);
    let err: unknown;
    try {
      readInventory(file);
    } catch (e) {
      err = e;
    }
    expect(isKeyfleetError(err)).toBe(true);
    expect((err as { code: string; file: string }).code).toBe(code);
    expect((err as { file: string }).file).toBe(file);
    expect((err as Error).message).toMatch(error);
    expect(everything(err)).not.toContain(PASTED);
  });

  it("a missing inventory is INVENTORY_READ naming the file and where the path comes from", () => {
    const file = join(dir, "missing.yaml");
    expect(() => readInventory(file)).toThrow(
      expect.objectContaining({
        code: "INVENTORY_READ",
        file,
        message: expect.stringMatching(
          /^cannot read fleet inventory .*missing\.yaml: ENOENT.*; set keyfleet:inventory or KEYFLEET_INVENTORY$/,
        ),
      }),
    );
  });
});
