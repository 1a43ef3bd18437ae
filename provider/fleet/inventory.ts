/**
 * The fleet inventory file (`fleet.yaml`): parsed with `yaml`, validated with zod. It holds public
 * keys, addresses and names only; values are never written in it, they come from environment
 * variables or Pulumi secret config, or live only in the sops files.
 *
 * Pulumi-free: `keyfleet push` and the fleet example's Pulumi program both read it through here.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { KeyfleetError } from "../errors";
import { SOPS_FORMATS } from "../sops/formats";
import { yamlErrorText } from "../sops/stores/yaml";

const name = z.string().min(1);
const valueRef = z.union([z.object({ env: name }).strict(), z.object({ config: name }).strict()]);

const envFile = z
  .object({
    path: z.string().startsWith("/", "must be an absolute path on the host"),
    /** Resource-name fragment (`<fleet>-<host>-<name>`); default derived from the path. */
    name: name.optional(),
    format: z.enum(["dotenv", "systemd", "json"]).optional(),
    mode: z
      .string()
      .regex(/^[0-7]{3,4}$/)
      .optional(),
    owner: name.optional(),
    group: name.optional(),
    env: z.record(z.string(), z.string()).optional(),
    sources: z
      .array(
        z
          .object({
            file: name,
            keys: z.array(name).min(1).optional(),
            prefix: z.string().optional(),
            rename: z.record(z.string(), z.string()).optional(),
          })
          .strict(),
      )
      .min(1),
    restartUnits: z.array(name).optional(),
    onChange: z.string().min(1).optional(),
    keepOnDelete: z.boolean().optional(),
  })
  .strict();

const host = z
  .object({
    address: name,
    port: z.number().int().min(1).max(65535).optional(),
    user: name.optional(),
    privateKeyFile: name.optional(),
    agent: name.optional(),
    hostKey: z.string().startsWith("ssh-ed25519 ").optional(),
    expectedFingerprint: z.string().startsWith("SHA256:").optional(),
    trustOnFirstUse: z.boolean().optional(),
    mode: z.enum(["age", "ssh"]).optional(),
    envFiles: z.array(envFile).optional(),
  })
  .strict();

/** The schema of `fleet.yaml`. */
export const inventorySchema = z
  .object({
    operators: z.record(name, z.string()).optional(),
    ci: z.record(name, z.string()).optional(),
    auditLog: name.optional(),
    files: z.record(
      name,
      z
        .object({
          path: name,
          format: z.enum(SOPS_FORMATS).optional(),
          /** Seeds: `{ env: VAR }` or `{ config: key }`; managed while the source is set, left alone otherwise. */
          values: z.record(name, valueRef).optional(),
        })
        .strict(),
    ),
    hosts: z.record(name, host).optional(),
  })
  .strict();

/** The parsed inventory. */
export type Inventory = z.infer<typeof inventorySchema>;

/**
 * Reads and validates `fleet.yaml`. No error quotes the file's text: a value pasted into it by
 * mistake stays out of the message (a yaml syntax error gives the line and column only).
 * @throws KeyfleetError `INVENTORY_READ` when the file cannot be read, `INVENTORY_INVALID` naming the
 *   file and the syntax error's line or every invalid field
 */
export function readInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new KeyfleetError(
      "INVENTORY_READ",
      `cannot read fleet inventory ${file}: ${e instanceof Error ? e.message : String(e)}`,
      {
        file,
        hint: "set keyfleet:inventory or KEYFLEET_INVENTORY",
        cause: e,
      },
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    // no cause: the yaml parser's message quotes the offending line
    throw new KeyfleetError(
      "INVENTORY_INVALID",
      `fleet inventory ${file}: invalid yaml: ${yamlErrorText(e instanceof Error ? e : { message: String(e) })}`,
      {
        file,
        hint: "fix the yaml syntax at that line",
      },
    );
  }
  const r = inventorySchema.safeParse(raw);
  if (!r.success) {
    throw new KeyfleetError(
      "INVENTORY_INVALID",
      `fleet inventory ${file}: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message.toLowerCase()}`).join("; ")}`,
      {
        file,
        hint: "fix those fields; values are never written here, only { env: VAR } or { config: key }",
      },
    );
  }
  return r.data;
}

/** `~/x` → home-relative; other relative paths → relative to `base`. */
export function expandHome(p: string, base: string): string {
  return p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : resolve(base, p);
}

/** Where a program finds its inventory: config `keyfleet:inventory`, env `KEYFLEET_INVENTORY`, else ./fleet.yaml. */
export function inventoryPath(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(configured ?? env["KEYFLEET_INVENTORY"] ?? "fleet.yaml");
}
