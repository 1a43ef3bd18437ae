/**
 * `--reason TEXT`: why a change was made, recorded in the audit line (set, rotate, updatekeys,
 * exposed; push and provision take the same flag). One printable line, at most 500 characters.
 */
import { checkReason } from "../provider/access/actor";
import { UsageError, type FlagSpec, type ParsedArgs } from "./args";

/** The `--reason` flag spec shared by every verb that writes an audit line. */
export const REASON_FLAG: FlagSpec = {
  type: "string",
  valueName: "TEXT",
  description: "why: recorded in the audit log line (one line; no secrets)",
};

/** The checked `--reason` of `args`, or undefined. @throws UsageError for an empty, multi-line or over-long reason */
export function reasonOf(verb: string, args: ParsedArgs): string | undefined {
  const v = args.flags.reason;
  if (v === undefined || v === false) return undefined;
  if (v === true) throw new UsageError(verb, "--reason needs a value");
  const r = checkReason(v);
  if (r.error) throw new UsageError(verb, r.error);
  return r.reason;
}
