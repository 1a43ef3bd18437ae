/**
 * Edits of `fleet.yaml` made by `keyfleet init`, `provision` and `deprovision`: comments and the
 * order of everything else are kept (yaml Document API), the result is validated before it is
 * written, and the write is atomic.
 */
import { readFileSync } from "node:fs";
import { isMap, parseDocument, type Document } from "yaml";
import { KeyfleetError } from "../errors";
import { writeFileAtomic } from "../fs";
import { yamlErrorText } from "../sops/stores/yaml";
import { inventorySchema, type Inventory } from "./inventory";

/** A host entry as provision writes it. */
export type InventoryHost = NonNullable<Inventory["hosts"]>[string];

/** The skeleton `keyfleet init` writes. */
export function inventorySkeleton(operator: string, recipient: string): string {
  return [
    "# keyfleet inventory: public keys, addresses and names only. Never put a value here.",
    "# Each file is encrypted to every operator, every ci recipient and exactly the hosts whose",
    "# env files use it. `keyfleet provision` adds hosts, `keyfleet deprovision` removes them.",
    "operators:",
    `  ${operator}: ${recipient}`,
    "ci: {}",
    "files: {}",
    "hosts: {}",
    "",
  ].join("\n");
}

/** JSON with object keys sorted at every depth: an edit that only reorders keys changes nothing. */
function sortedJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}

function load(file: string): Document {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new KeyfleetError(
      "INVENTORY_READ",
      `cannot read fleet inventory ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
      { file, hint: "run keyfleet init first", cause: e },
    );
  }
  const doc = parseDocument(text);
  if (doc.errors[0])
    throw new KeyfleetError(
      "INVENTORY_INVALID",
      `fleet inventory ${file}: invalid yaml: ${yamlErrorText(doc.errors[0])}`,
      { file, hint: "fix the yaml syntax at that line" },
    );
  if (!isMap(doc.contents))
    throw new KeyfleetError("INVENTORY_INVALID", `fleet inventory ${file}: the top level must be a map`, {
      file,
      hint: "see keyfleet init's skeleton",
    });
  return doc;
}

/**
 * Applies `edit` to the inventory document, validates the result and writes it atomically. Returns
 * false (and writes nothing) when the edit changed nothing.
 * @throws KeyfleetError `INVENTORY_INVALID` when the edited inventory would not validate
 */
export function editInventory(file: string, edit: (doc: Document) => void): boolean {
  const doc = load(file);
  const before = sortedJson(doc.toJS());
  edit(doc);
  if (sortedJson(doc.toJS()) === before) return false;
  // lineWidth 0: a long host key stays on one line
  const after = doc.toString({ lineWidth: 0 });
  const r = inventorySchema.safeParse(doc.toJS());
  if (!r.success) {
    throw new KeyfleetError(
      "INVENTORY_INVALID",
      `fleet inventory ${file} would be invalid: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message.toLowerCase()}`).join("; ")}`,
      {
        file,
        hint: "nothing was written; check the arguments",
      },
    );
  }
  writeFileAtomic(file, after, { mode: 0o644 });
  return true;
}

/** Sets `hosts.<name>` to `host` (a flow-free block map). */
export function setHost(doc: Document, name: string, host: InventoryHost): void {
  if (!isMap(doc.get("hosts", true))) doc.set("hosts", doc.createNode({}));
  const hosts = doc.get("hosts", true);
  if (isMap(hosts)) hosts.flow = false;
  doc.setIn(["hosts", name], doc.createNode(host));
}

/** Removes `hosts.<name>`; true when it was there. */
export function removeHost(doc: Document, name: string): boolean {
  return doc.deleteIn(["hosts", name]);
}

/** Adds `files.<name>: { path }` unless a file of that name exists. */
export function ensureFile(doc: Document, name: string, path: string): void {
  if (!isMap(doc.get("files", true))) doc.set("files", doc.createNode({}));
  const files = doc.get("files", true);
  if (isMap(files)) files.flow = false;
  if (!doc.hasIn(["files", name])) doc.setIn(["files", name], doc.createNode({ path }));
}
