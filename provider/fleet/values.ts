/**
 * Values into sops files for the CLI's `add`: the same document building and key mapping as
 * SecretFile's managed `values` (one rule for both fronts).
 */
import type { AgeRecipient } from "../age";
import { encrypt, type EncryptRules, type SopsFormat } from "../sops";
import { initialDocument } from "../resources/secret-file-doc";
import { valuePath } from "../resources/secret-file-inputs";

/** The sops key path of a value key in a file of `format` (`db.password` → `["db","password"]` in yaml). */
export function valueKeyPath(key: string, format: SopsFormat): string[] {
  return valuePath(key, format);
}

/**
 * A new encrypted file holding `values`, as SecretFile creates one.
 * @throws KeyfleetError `BAD_VALUES` for a value the format cannot hold (e.g. a line break in dotenv)
 */
export function encryptNewFile(
  file: string,
  format: SopsFormat,
  values: Record<string, string>,
  recipients: AgeRecipient[],
  rules?: EncryptRules,
): Promise<string> {
  return encrypt(initialDocument(file, format, values), { format, recipients, ...(rules ? { rules } : {}), file });
}
