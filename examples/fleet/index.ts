/**
 * The fleet example: one `Fleet` built from `fleet.yaml`.
 *
 * The inventory path comes from Pulumi config `keyfleet:inventory`, else `KEYFLEET_INVENTORY`, else
 * `./fleet.yaml` in the project directory. Edit the inventory (add a host, drop one, change which
 * keys an env file takes) and `pulumi preview --diff` shows who gains or loses access by name.
 */
import * as pulumi from "@pulumi/pulumi";
import { Fleet } from "../../sdk/fleet";
import { fleetArgsFrom, inventoryPath, readInventory } from "./inventory";

const config = new pulumi.Config("keyfleet");
const file = inventoryPath(config.get("inventory"));
const fleet = new Fleet("fleet", fleetArgsFrom(readInventory(file), { file, config }));

/** File → recipient names that can decrypt it. */
export const accessMatrix = fleet.accessMatrix;
/** Host → env file → env names (names only, never values). */
export const hostEnvKeys = fleet.hostEnvKeys;
/** File → what removed recipients could read (rotate these values). */
export const exposure = fleet.exposure;
/** The planned recipients per file (known in preview). */
export const plan = fleet.plan.fileRecipients;
