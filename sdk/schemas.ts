/**
 * zod schemas of the resource arguments. Plain values are validated when the resource is
 * constructed; values that are Outputs or Promises are validated by the provider's check.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { KeyfleetError } from "../provider/errors";
import { SOPS_FORMATS } from "../provider/sops/formats";

const nonEmpty = z.string().trim().min(1);

/** Recipient arguments. */
export const recipientArgsSchema = z.object({
  name: nonEmpty.optional(),
  publicKey: nonEmpty.refine(
    (s) => s.startsWith("age1") || s.startsWith("ssh-"),
    "must be an age1… or ssh-ed25519 public key",
  ),
});

/** HostKey arguments. */
export const hostKeyArgsSchema = z.object({
  name: nonEmpty.optional(),
  host: nonEmpty.refine((s) => !/\s/.test(s), "must not contain spaces"),
  port: z.number().int().min(1).max(65535).optional(),
  publicKey: z.string().startsWith("ssh-ed25519 ", "must be an ssh-ed25519 public key").optional(),
  expectedFingerprint: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "must look like SHA256:<43 base64 chars>")
    .optional(),
  trustOnFirstUse: z.boolean().optional(),
  mode: z.enum(["age", "ssh"]).optional(),
  timeoutMs: z.number().int().positive().max(600_000).optional(),
});

/** SecretFile arguments (recipients and values are checked by the provider). */
export const secretFileArgsSchema = z.object({
  path: nonEmpty,
  recipients: z.array(z.unknown()).min(1, "list at least one recipient"),
  values: z.unknown().optional(),
  format: z.enum(SOPS_FORMATS).optional(),
  encryptedRegex: z.string().optional(),
  unencryptedRegex: z.string().optional(),
  encryptedSuffix: z.string().optional(),
  unencryptedSuffix: z.string().optional(),
  encryptedCommentRegex: z.string().optional(),
  unencryptedCommentRegex: z.string().optional(),
  auditLog: nonEmpty.optional(),
  deleteFileOnDestroy: z.boolean().optional(),
  logAccessChanges: z.boolean().optional(),
});

/** True when `v` is a plain value (not an Output, Promise or resource). */
export function isPlain(v: unknown): boolean {
  return !pulumi.Output.isInstance(v) && !(v instanceof Promise) && !pulumi.Resource.isInstance(v);
}

/**
 * Validates the plain fields of `args` against `schema`; fields that are Outputs or Promises are
 * left to the provider's check.
 * @throws KeyfleetError BAD_ARGUMENTS `<resource> "<name>": <field>: <reason>` listing every failing field.
 */
export function validateArgs(kind: string, name: string, schema: z.ZodObject, args: object): void {
  const shape = schema.shape as Record<string, z.ZodType>;
  const problems: string[] = [];
  for (const [k, field] of Object.entries(shape)) {
    const v = (args as Record<string, unknown>)[k];
    if (!isPlain(v)) continue;
    const r = field.safeParse(v);
    if (!r.success) problems.push(`${k}: ${r.error.issues.map((i) => i.message.toLowerCase()).join("; ")}`);
  }
  for (const k of Object.keys(args)) if (!(k in shape)) problems.push(`${k}: unknown argument`);
  if (problems.length > 0) throw new KeyfleetError("BAD_ARGUMENTS", `${kind} "${name}": ${problems.join(", ")}`);
}
