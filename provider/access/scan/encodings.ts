/**
 * The forms in which a secret value is searched: verbatim, base64 (standard and URL-safe, at each
 * of the three byte alignments a value can have inside a longer encoded text), URL-encoded and hex;
 * and the default rules for values too common to search.
 */

/** How a value was found. */
export type ValueEncoding = "verbatim" | "base64" | "url-encoded" | "hex";

/** One search pattern derived from a value. */
export interface EncodedForm {
  readonly encoding: ValueEncoding;
  readonly bytes: Uint8Array;
}

/** Which values are not searched (too short or too common to mean anything). */
export interface SkipRules {
  /** Values with fewer characters are skipped (default 8). */
  readonly minLength: number;
  /** Skip `true` / `false` (default true). */
  readonly skipBooleans: boolean;
  /** Pure numbers with fewer digits are skipped (default 6). */
  readonly minNumberDigits: number;
}

/** The defaults of the issue: < 8 characters, booleans and numbers under 6 digits are skipped. */
export const DEFAULT_SKIP: SkipRules = { minLength: 8, skipBooleans: true, minNumberDigits: 6 };

/** True when `text` is not searched under `rules`. */
export function skipValue(text: string, rules: SkipRules = DEFAULT_SKIP): boolean {
  const t = text.trim();
  if (rules.skipBooleans && /^(true|false)$/i.test(t)) return true;
  if (/^[+-]?\d+(\.\d+)?$/.test(t) && t.replace(/\D/g, "").length < rules.minNumberDigits) return true;
  return [...text].length < rules.minLength;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * The base64 characters fully determined by `value` when it starts `align` bytes (0, 1, 2) after
 * a 3-byte group boundary of a longer encoded text: the characters mixing bits of the
 * neighbouring bytes are dropped at both ends.
 */
export function base64Core(value: Uint8Array, align: 0 | 1 | 2): string {
  // bit offset of the value inside the stream; a character is whole when its 6 bits are all value bits
  const startBit = align * 8;
  const endBit = startBit + value.length * 8;
  const firstChar = Math.ceil(startBit / 6);
  const lastChar = Math.floor(endBit / 6); // exclusive
  let out = "";
  for (let c = firstChar; c < lastChar; c++) {
    let v = 0;
    for (let k = 0; k < 6; k++) {
      const bit = c * 6 + k - startBit;
      const byte = value[bit >> 3] as number;
      v = (v << 1) | ((byte >> (7 - (bit & 7))) & 1);
    }
    out += B64[v];
  }
  return out;
}

const enc = new TextEncoder();

function pushUnique(
  out: EncodedForm[],
  seen: Set<string>,
  encoding: ValueEncoding,
  text: string,
  minChars: number,
): void {
  if (text.length < minChars || seen.has(text)) return;
  seen.add(text);
  out.push({ encoding, bytes: enc.encode(text) });
}

/**
 * Every form of `value` that is searched. Encoded forms shorter than `minChars` are dropped (a
 * base64 core of a short value can be a handful of characters that occur everywhere).
 */
export function encodedForms(value: string, minChars = 8): EncodedForm[] {
  const out: EncodedForm[] = [];
  const seen = new Set<string>();
  pushUnique(out, seen, "verbatim", value, 1);
  const raw = enc.encode(value);
  for (const align of [0, 1, 2] as const) {
    const core = base64Core(raw, align);
    pushUnique(out, seen, "base64", core, minChars);
    pushUnique(out, seen, "base64", core.replace(/\+/g, "-").replace(/\//g, "_"), minChars);
  }
  const hex = Buffer.from(raw).toString("hex");
  pushUnique(out, seen, "hex", hex, minChars);
  pushUnique(out, seen, "hex", hex.toUpperCase(), minChars);
  // encodeURIComponent, its RFC 3986 strict form (also !'()*), lowercase escapes and form encoding (+ for space)
  const url = encodeURIComponent(value);
  const strict = url.replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  for (const u of [url, strict]) {
    pushUnique(out, seen, "url-encoded", u, minChars);
    pushUnique(
      out,
      seen,
      "url-encoded",
      u.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      minChars,
    );
    pushUnique(out, seen, "url-encoded", u.replace(/%20/g, "+"), minChars);
  }
  return out;
}
