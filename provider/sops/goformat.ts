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
  if (x === 0) return goFormatFloatF(x);
  const { digits, dp } = shortestDigits(x);
  const exp = dp - 1;
  // 'g' is 'f' for exponents in [-4, 6), the 'e' form otherwise
  if (exp >= -4 && exp < 6) return goFormatFloatF(x);
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${x < 0 ? "-" : ""}${m}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
}

/**
 * A timestamp as Go's `time.Time` holds it: the instant (the Date part, millisecond precision), plus
 * the UTC offset it was written with and its full fractional-second digits. sops re-serialises time
 * values with `MarshalText`, which keeps both, so the MAC of a sops file depends on them.
 */
export class GoTime extends Date {
  /** Offset from UTC in minutes, as written (`+01:00` → 60; `Z` → 0). */
  readonly offsetMinutes: number;
  /** Fractional-second digits as written, at most 9 (Go's nanoseconds), trailing zeros dropped. */
  readonly frac: string;
  constructor(ms: number, offsetMinutes: number, frac: string) {
    super(ms);
    this.offsetMinutes = offsetMinutes;
    this.frac = frac.slice(0, 9).replace(/0+$/, "");
  }
}

const TIME_RFC = /^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;
const TIME_SPACE = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?$/;
const TIME_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

/**
 * Parses a timestamp the way go-yaml v3 resolves a plain scalar (`2006-1-2T15:4:5.999999999Z07:00`,
 * the same with `t`, `2006-1-2 15:4:5.999999999` and `2006-1-2`, the last two in UTC), which also
 * covers the RFC3339Nano text `time.UnmarshalText` reads. Out-of-range fields give undefined, as Go's
 * `time.Parse` fails on them (the scalar then stays a string).
 */
export function parseGoTime(s: string): GoTime | undefined {
  const m = TIME_RFC.exec(s) ?? TIME_SPACE.exec(s) ?? TIME_DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h = 0, mi = 0, se = 0] = m.slice(1, 7).map((x) => (x === undefined ? 0 : Number(x))) as number[];
  const frac = m[7] ?? "";
  const zone = m[8] ?? "Z";
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > new Date(Date.UTC(y!, mo!, 0)).getUTCDate() || h > 23 || mi > 59 || se > 59)
    return undefined;
  let off = 0;
  if (zone !== "Z") {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    off = (zone[0] === "-" ? -1 : 1) * (zh * 60 + zm);
  }
  const wall = Date.UTC(y!, mo! - 1, d!, h, mi, se, Number((frac + "000").slice(0, 3)));
  const t = new Date(wall);
  t.setUTCFullYear(y!); // Date.UTC maps years 0-99 to 1900-1999
  return new GoTime(t.getTime() - off * 60_000, off, frac);
}

/**
 * Go `time.Time.MarshalText` (RFC3339Nano): trailing fractional zeros dropped, the written offset
 * kept for a {@link GoTime} (`Z` when it is zero); a plain Date is printed in UTC.
 */
export function goTimeText(d: Date): string {
  const off = d instanceof GoTime ? d.offsetMinutes : 0;
  const iso = new Date(d.getTime() + off * 60_000).toISOString(); // wall clock at that offset
  const frac = d instanceof GoTime ? d.frac : iso.slice(20, 23).replace(/0+$/, "");
  const abs = Math.abs(off);
  const zone =
    off === 0
      ? "Z"
      : `${off < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return iso.slice(0, 19) + (frac ? `.${frac}` : "") + zone;
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
