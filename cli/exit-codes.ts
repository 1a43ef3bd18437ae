/**
 * Exit codes of the sops verbs, the same numbers as sops (`cmd/sops/codes/codes.go` in getsops/sops)
 * where sops has one, and a wrapper that maps a verb's KeyfleetError to its code. Usage errors keep
 * going to the dispatcher in `main.ts`, which prints them and exits 2.
 */
import { ERROR_CODES, EXIT, isErrorCode, isKeyfleetError, type ExitStatus } from "../provider/errors";
import type { CliIo, ParsedArgs, Verb, VerbSpec } from "./args";

/** Exit statuses (sops numbers where sops has them); defined with the error codes in provider/errors. */
export { EXIT, type ExitStatus };

/**
 * The exit status for a KeyfleetError code, from the one table of codes ({@link ERROR_CODES}); a
 * string that is no code (an error from another module copy or version) exits GENERIC.
 */
export function exitCodeFor(code: string): ExitStatus {
  return isErrorCode(code) ? ERROR_CODES[code].exit : EXIT.GENERIC;
}

/**
 * Builds a verb whose KeyfleetErrors (other than usage errors) are printed as `keyfleet: <message>`
 * and turned into their sops exit status. Other errors propagate to the dispatcher (exit 70).
 */
export function sopsVerb(spec: VerbSpec, body: (args: ParsedArgs, io: CliIo) => Promise<number>): Verb {
  return {
    spec,
    async run(args, io) {
      try {
        return await body(args, io);
      } catch (e) {
        if (!isKeyfleetError(e) || e.code === "USAGE") throw e;
        io.stderr(`keyfleet: ${e.message}\n`);
        return exitCodeFor(e.code);
      }
    },
  };
}
