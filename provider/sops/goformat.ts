/**
 * Go-compatible text forms of typed values, as sops feeds them to AES-GCM and the MAC
 * (`strconv.FormatFloat(v,'f',-1,64)`, `time.Time.MarshalText`) and as go-yaml prints floats.
 */

/** Shortest round-trip decimal digits and decimal-point position of a finite non-zero |x|. */
function shortestDigits(x: number): { digits: string; dp: number } {
  const [mant, exp] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mant.replace(".", "");
  return { digits, dp: Number(exp) + 1 };
}

/** `strconv.FormatFloat(x, 'f', -1, 64)`: shortest round-trip, never an exponent. */
export function goFormatFloatF(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  if (x === 0) return `${sign}0`;
  const { digits, dp } = shortestDigits(x);
  let s: string;
  if (dp <= 0) s = `0.${"0".repeat(-dp)}${digits}`;
  else if (dp >= digits.length) s = digits + "0".repeat(dp - digits.length);
  else s = `${digits.slice(0, dp)}.${digits.slice(dp)}`;
  return sign + s;
}

/** `strconv.FormatFloat(x, 'g', -1, 64)` with go-yaml's `.inf`/`.nan` spellings (how go-yaml emits floats). */
export function goYamlFloat(x: number): string {
  if (Number.isNaN(x)) return ".nan";
  if (x === Infinity) return ".inf";
  if (x === -Infinity) return "-.inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  if (x === 0) return `${sign}0`;
  const { digits, dp } = shortestDigits(x);
  const exp = dp - 1;
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
  }
  return goFormatFloatF(x);
}

/** Go `time.Time.MarshalText` (RFC3339Nano) of a UTC instant: trailing fractional zeros dropped. */
export function goTimeText(d: Date): string {
  const iso = d.toISOString(); // 2024-01-02T03:04:05.678Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : "Z"));
}

/** RFC3339 (seconds) re-formatting of a parsed `lastmodified`, as Go `Format(time.RFC3339)` on UTC. */
export function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC3339 timestamp and re-formats it as sops builds the MAC AAD: Go keeps the offset
 * (`+01:00` stays) but drops fractional seconds; `Z`/`+00:00` in UTC become `Z`.
 */
export function reformatRfc3339(s: string): string | undefined {
  const m = RFC3339_RE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, , off] = m as unknown as string[];
  const base = `${y}-${mo}-${d}T${h}:${mi}:${se}`;
  if (Number.isNaN(Date.parse(`${base}Z`))) return undefined;
  const o = (off ?? "Z").toUpperCase();
  return base + (o === "Z" || o === "+00:00" ? "Z" : o);
}
