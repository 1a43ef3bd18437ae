/**
 * The size cap shared by every sops reader and writer: keyfleet never writes a file that it (or its
 * CLI, or `audit`) would then refuse to read back.
 */
import { SopsArgumentError } from "./errors.js";

/** Largest sops file read or written, in bytes (64 MiB: values up to about 47 MiB once base64-encoded). */
export const MAX_SOPS_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Returns `text` when it fits under {@link MAX_SOPS_FILE_BYTES}.
 * @throws SopsArgumentError naming the file, its size and the cap
 */
export function checkFileSize(text: string, file?: string): string {
  // utf-8 is at most 3 bytes per UTF-16 unit: measure only when it could be over
  if (text.length * 3 > MAX_SOPS_FILE_BYTES) {
    const n = Buffer.byteLength(text, "utf8");
    if (n > MAX_SOPS_FILE_BYTES) {
      throw new SopsArgumentError(
        `${file ?? "the sops file"} would be ${n} bytes encrypted, over the ${MAX_SOPS_FILE_BYTES}-byte limit keyfleet reads back`,
        "keep large values out of sops files (encrypt the file itself with the binary format, or split it)",
        file,
      );
    }
  }
  return text;
}
