/**
 * BIP-173 bech32 (not bech32m) as age uses it: no 90-character limit, mixed case rejected.
 */
import { KeyParseError } from "./errors";

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const REV = new Int8Array(128).fill(-1);
for (let i = 0; i < CHARSET.length; i++) REV[CHARSET.charCodeAt(i)] = i;
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: ArrayLike<number>, chk = 1): number {
  for (let i = 0; i < values.length; i++) {
    const b = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ (values[i] as number);
    for (let j = 0; j < 5; j++) if ((b >>> j) & 1) chk ^= GEN[j] as number;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | (data[i] as number);
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    return null;
  }
  return out;
}

/** Encodes `data` under `hrp` (lowercase). The caller upper-cases secret keys. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const words = convertBits(data, 8, 5, true) as number[];
  const chk = polymod([...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  let s = hrp + "1";
  for (const w of words) s += CHARSET[w];
  for (let i = 0; i < 6; i++) s += CHARSET[(chk >>> (5 * (5 - i))) & 31];
  return s;
}

/**
 * Decodes a bech32 string, checking characters, case, checksum and padding; returns the lowercase
 * HRP and the bytes. Errors never quote `s` (it may be a secret key).
 * @throws KeyParseError
 */
export function bech32Decode(s: string, where?: string): { hrp: string; data: Uint8Array } {
  const fail = (m: string): never => {
    throw new KeyParseError(m, where === undefined ? {} : { where });
  };
  if (s.length < 8) fail("bech32 string too short");
  const lower = s.toLowerCase();
  if (lower !== s && s.toUpperCase() !== s) fail("bech32 string is mixed case");
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) fail(`invalid character at position ${i}`);
  }
  const pos = lower.lastIndexOf("1");
  if (pos < 1 || pos + 7 > lower.length) fail("bech32 separator '1' missing or misplaced");
  const hrp = lower.slice(0, pos);
  const words: number[] = [];
  for (let i = pos + 1; i < lower.length; i++) {
    const v = REV[lower.charCodeAt(i)] ?? -1;
    if (v < 0) fail(`invalid bech32 character at position ${i}`);
    words.push(v);
  }
  if (polymod(words, polymod(hrpExpand(hrp))) !== 1) fail("invalid bech32 checksum");
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  if (bytes === null) fail("invalid bech32 padding");
  return { hrp, data: Uint8Array.from(bytes as number[]) };
}
