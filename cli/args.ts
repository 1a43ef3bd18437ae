/**
 * A small argv parser shared by the CLI verbs: `--name`, `--name=value`, `--name value`, `-x value`,
 * Go-style single-dash long flags (`-private-key`, as ssh-to-age accepts), `--` to end flags, and
 * generated `--help` text.
 */
import { KeyfleetError } from "../provider/errors";
import { sopsFlagHint } from "./sops-hints";

/** One flag a verb accepts. */
export interface FlagSpec {
  /** `boolean` flags take no value; `string` flags take one. */
  type: "boolean" | "string";
  /** One-letter alias, e.g. `o` for `-o`. */
  short?: string;
  /** Placeholder in help, e.g. `FILE`. */
  valueName?: string;
  /** One line of help, with the default. */
  description: string;
}

/** What a verb declares: its name, summary, usage line and flags. */
export interface VerbSpec {
  /** Verb name as typed after `keyfleet`. */
  name: string;
  /** One-line summary for `keyfleet --help`. */
  summary: string;
  /** Usage line after `keyfleet <name>`, e.g. `[-o FILE]`. */
  usage: string;
  /** Longer explanation printed under the usage line. */
  details?: string;
  /** Accepted flags by long name. */
  flags: Record<string, FlagSpec>;
}

/** Parsed arguments. */
export interface ParsedArgs {
  /** Flag values by long name; booleans are true when given, strings hold the last value. */
  flags: Record<string, string | boolean | undefined>;
  /** Arguments that are not flags. */
  positionals: string[];
  /** True when `-h`/`--help` was given. */
  help: boolean;
  /** Every value of each string flag given more than once or once (`--env A --env B`), in order. */
  all?: Record<string, string[]>;
  /** Index in `positionals` where the words after `--` start; undefined when there was no `--`. */
  afterDashDash?: number;
}

/** A command-line usage mistake; the CLI exits 2 and points at `--help`. */
export class UsageError extends KeyfleetError {
  constructor(verb: string, message: string) {
    super("USAGE", message, { hint: `see keyfleet ${verb} --help` });
  }
}

/**
 * Parses `argv` (the words after the verb) against `spec`.
 * @throws UsageError for unknown flags or missing values
 */
export function parseArgs(argv: readonly string[], spec: VerbSpec): ParsedArgs {
  const out: ParsedArgs = { flags: {}, positionals: [], help: false };
  const byShort = new Map<string, string>();
  for (const [name, f] of Object.entries(spec.flags)) if (f.short) byShort.set(f.short, name);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      out.afterDashDash = out.positionals.length;
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === "-h" || a === "--help" || a === "-help") {
      out.help = true;
      continue;
    }
    if (!a.startsWith("-") || a === "-") {
      out.positionals.push(a);
      continue;
    }
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const key = eq < 0 ? body : body.slice(0, eq);
    const name = spec.flags[key] ? key : byShort.get(key);
    const f = name === undefined ? undefined : spec.flags[name];
    if (name === undefined || !f) {
      const hint = sopsFlagHint(a);
      throw new UsageError(
        spec.name,
        `unknown flag ${a.split("=")[0]}${hint ? `; sops has it, with keyfleet use ${hint}` : ""}`,
      );
    }
    if (f.type === "boolean") {
      if (eq >= 0) {
        const v = body.slice(eq + 1);
        if (v !== "true" && v !== "false") throw new UsageError(spec.name, `flag -${key} takes no value`);
        out.flags[name] = v === "true";
      } else out.flags[name] = true;
      continue;
    }
    const value: string | undefined = eq >= 0 ? body.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(spec.name, `flag -${key} needs a value`);
    out.flags[name] = value;
    ((out.all ??= {})[name] ??= []).push(value);
  }
  return out;
}

/** The `--help` text of a verb. */
export function helpText(spec: VerbSpec): string {
  const lines = [`usage: keyfleet ${spec.name} ${spec.usage}`.trimEnd(), "", spec.summary];
  if (spec.details) lines.push("", spec.details);
  const flags = Object.entries(spec.flags);
  if (flags.length) {
    lines.push("", "flags:");
    for (const [name, f] of flags) {
      const v = f.type === "string" ? ` ${f.valueName ?? "VALUE"}` : "";
      const names = (f.short ? `-${f.short}, ` : "    ") + `--${name}${v}`;
      lines.push(`  ${names.padEnd(28)} ${f.description}`);
    }
  }
  lines.push(`  ${"-h, --help".padEnd(28)} print this help`);
  return lines.join("\n") + "\n";
}

/** The process surface a verb uses, injectable so verbs run in-process in tests. */
export interface CliIo {
  /** Reads all of standard input. */
  readStdin(): Promise<Buffer>;
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** The environment. */
  env: Record<string, string | undefined>;
}

/** A CLI verb: its spec and its body, which returns the exit code. */
export interface Verb {
  /** Name, summary, usage and flags. */
  spec: VerbSpec;
  /** Runs with parsed arguments; returns the process exit code. Throws KeyfleetError on failure. */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}
