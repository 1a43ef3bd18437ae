/**
 * The project the fleet verbs (`push`, `provision`, `deprovision`) work on: `fleet.yaml` found by
 * `--inventory`, `KEYFLEET_INVENTORY` or `./fleet.yaml`, as the fleet example finds it. Paths in the
 * inventory are relative to its directory, which becomes the working directory of the run (as a
 * Pulumi program runs in its project directory), so audit lines and SecretFile paths match an up.
 */
import { dirname, resolve } from "node:path";
import type { FlagSpec } from "./args";
import { readInventory, type Inventory } from "../provider/fleet/inventory";
import { desiredFleet, type DesiredFleet } from "../provider/fleet/desired";
import { closeConnections, DEFAULT_CONCURRENCY } from "../provider/fleet/reconcile";
import { UsageError } from "./args";

/** The `--inventory` flag. */
export const INVENTORY_FLAG: FlagSpec = {
  type: "string",
  valueName: "FILE",
  description: "the fleet inventory; default: $KEYFLEET_INVENTORY, else ./fleet.yaml",
};

/** The `--concurrency` flag. */
export const CONCURRENCY_FLAG: FlagSpec = {
  type: "string",
  valueName: "N",
  description: `hosts pushed at once, 1 to 64; default: ${DEFAULT_CONCURRENCY}`,
};

/** An opened project. */
export interface FleetProject {
  /** Absolute path of fleet.yaml. */
  readonly file: string;
  readonly inventory: Inventory;
}

/** Absolute path of the inventory for these flags and environment. */
export function inventoryFile(flag: string | boolean | undefined, env: Record<string, string | undefined>): string {
  return resolve(typeof flag === "string" ? flag : (env["KEYFLEET_INVENTORY"] ?? "fleet.yaml"));
}

/** Reads the inventory and makes its directory the working directory. */
export function openProject(flag: string | boolean | undefined, env: Record<string, string | undefined>): FleetProject {
  const file = inventoryFile(flag, env);
  const inventory = readInventory(file);
  process.chdir(dirname(file));
  return { file, inventory };
}

/** The desired state of a project for this environment. */
export function desiredOf(p: FleetProject, env: Record<string, string | undefined>): DesiredFleet {
  return desiredFleet(p.inventory, p.file, { env });
}

/** `--concurrency` as a number. @throws UsageError */
export function concurrencyOf(verb: string, flag: string | boolean | undefined): number {
  if (typeof flag !== "string") return DEFAULT_CONCURRENCY;
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(verb, "--concurrency must be an integer from 1 to 64");
  return n;
}

/** Runs `fn`, then closes the pooled SSH connections so the process can exit. */
export async function withConnections<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await closeConnections();
  }
}
