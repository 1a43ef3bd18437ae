/**
 * Writing plaintext to standard output. `CliIo.stdout` takes text; plaintext of the binary store
 * may be any bytes, so bytes that are not valid UTF-8 go to the process's stdout as bytes (or to
 * `stdoutBytes` when the IO provides it, as in-process tests may).
 */
import type { CliIo } from "./args";

/** A CliIo that can also take raw bytes on stdout. */
export interface ByteCliIo extends CliIo {
  /** Writes raw bytes to standard output. */
  stdoutBytes?(bytes: Uint8Array): void;
}

/** Writes text or bytes to standard output without re-encoding them. */
export function writeStdout(io: ByteCliIo, data: string | Uint8Array): void {
  if (typeof data === "string") return io.stdout(data);
  if (io.stdoutBytes) return io.stdoutBytes(data);
  try {
    io.stdout(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    process.stdout.write(data);
  }
}
