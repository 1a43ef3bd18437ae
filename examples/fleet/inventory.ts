/**
 * The fleet example's inventory glue: `fleet.yaml` is parsed by provider/fleet/inventory (shared with
 * `keyfleet push`) and turned here into {@link FleetArgs}. Values are never written in the inventory,
 * they come from environment variables or Pulumi secret config, or live only in the sops files.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { FleetArgs, FleetHost } from "../../sdk/fleet";
import { KeyfleetError } from "../../provider/errors";
import { expandHome, type Inventory } from "../../provider/fleet/inventory";

export {
  inventorySchema,
  readInventory,
  expandHome,
  inventoryPath,
  type Inventory,
} from "../../provider/fleet/inventory";

/**
 * Turns an inventory into Fleet arguments. Values come from the environment (`{ env }`) or secret
 * config (`{ config }`) and are passed as secrets; an unset source leaves that key unmanaged, and so
 * does a variable that is set but empty: an empty value would be pushed to hosts and restart them,
 * and is almost always a mistake (a typo in an export, a CI secret not configured), so the file keeps
 * its value (README "Empty values").
 * Private keys are read from `privateKeyFile` (relative to the inventory) and passed as secrets.
 */
export function fleetArgsFrom(
  inv: Inventory,
  o: { file: string; env?: NodeJS.ProcessEnv; config?: pulumi.Config },
): FleetArgs {
  const env = o.env ?? process.env;
  const base = dirname(o.file);
  const files: FleetArgs["files"] = {};
  for (const [f, spec] of Object.entries(inv.files)) {
    const values: Record<string, pulumi.Output<string>> = {};
    for (const [k, ref] of Object.entries(spec.values ?? {})) {
      const v = "env" in ref ? env[ref.env] : o.config?.getSecret(ref.config);
      if (v !== undefined && v !== "") values[k] = pulumi.secret(v);
    }
    files[f] = {
      path: spec.path,
      ...(spec.format ? { format: spec.format } : {}),
      ...(Object.keys(values).length > 0 ? { values } : {}),
    };
  }
  const hosts: Record<string, FleetHost> = {};
  for (const [h, spec] of Object.entries(inv.hosts ?? {})) {
    const { privateKeyFile, hostKey, envFiles, ...rest } = spec;
    hosts[h] = {
      ...rest,
      ...(hostKey ? { hostKey } : {}),
      ...(privateKeyFile
        ? { privateKey: pulumi.secret(readPrivateKeyFile(o.file, h, expandHome(privateKeyFile, base))) }
        : {}),
      ...(envFiles ? { envFiles } : {}),
    };
  }
  return {
    operators: inv.operators ?? {},
    ci: inv.ci ?? {},
    hosts,
    files,
    ...(inv.auditLog ? { auditLog: inv.auditLog } : {}),
  };
}

/**
 * Reads a host's SSH client key for the connection; the error names the inventory, the host and the
 * path, never the key.
 * @throws KeyfleetError `INVENTORY_KEY_FILE` when the file cannot be read
 */
function readPrivateKeyFile(inventory: string, host: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new KeyfleetError(
      "INVENTORY_KEY_FILE",
      `${inventory}: hosts.${host}.privateKeyFile ${path} cannot be read (${code})`,
      {
        file: inventory,
        hint: "point privateKeyFile at the SSH private key that logs in to this host (relative paths are relative to the inventory)",
        cause: e,
      },
    );
  }
}
