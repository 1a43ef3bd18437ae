/** Errors of the local file layer: a write that failed (nothing half-written) and a bad argument. */
import { KeyfleetError } from "../errors.js";

/** A local file could not be written; the file is left as it was (old) and no temp file remains. */
export class FsWriteError extends KeyfleetError {
  constructor(path: string, cause: unknown, hint = "check the directory exists and is writable") {
    super("WRITE_FAILED", `cannot write ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      hint,
      file: path,
      cause,
    });
  }
}

/** Bad argument to a file-layer function (a path listed twice, a bad concurrency). */
export class FsArgumentError extends KeyfleetError {
  constructor(message: string, hint: string, file?: string) {
    super("FS_ARGUMENT", message, { hint, file });
  }
}
