/**
 * YAML timestamps as sops >= 3.10 handles them (go-yaml v3 resolution, `time.Time.MarshalText`):
 * only Go's four layouts become `time`; the written UTC offset and the nanosecond digits survive
 * encryption, decryption and the MAC. The MAC and the value plaintexts are checked here with
 * node:crypto straight from SOPS-FORMAT.md §1 and §3, not with our cipher code.
 */
import { createDecipheriv, createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptWithDataKey, encryptWithDataKey } from "../../../provider/sops/index.js";
import { goTimeText, parseGoTime } from "../../../provider/sops/goformat.js";

function openEnc(enc: string, key: Buffer, aad: string): string {
  const m = /^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]$/.exec(enc);
  if (!m) throw new Error(`not an ENC value: ${enc}`);
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(m[2] as string, "base64"));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(m[3] as string, "base64"));
  return Buffer.concat([d.update(Buffer.from(m[1] as string, "base64")), d.final()]).toString("utf8");
}

describe("parseGoTime / goTimeText", () => {
  it.each([
    ["2024-01-02T03:04:05+01:00", "2024-01-02T03:04:05+01:00"],
    ["2024-01-02T03:04:05-07:30", "2024-01-02T03:04:05-07:30"],
    ["2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05Z"],
    ["2024-01-02t03:04:05.120Z", "2024-01-02T03:04:05.12Z"],
    ["2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123456789Z"],
    ["2024-1-2 3:4:5.5", "2024-01-02T03:04:05.5Z"],
    ["2024-01-02", "2024-01-02T00:00:00Z"],
  ])("%s -> %s", (input, text) => {
    const t = parseGoTime(input);
    expect(t).toBeDefined();
    expect(goTimeText(t as Date)).toBe(text);
  });

  it("keeps the instant: +01:00 is one hour before the same wall clock in UTC", () => {
    expect((parseGoTime("2024-01-02T03:04:05+01:00") as Date).toISOString()).toBe("2024-01-02T02:04:05.000Z");
  });

  it.each([
    "2024-01-02T03:04:05",
    "2001-12-14 21:59:43.10 -5",
    "2024-02-30",
    "2024-13-01",
    "2024-01-02T24:00:00Z",
    "24-01-02",
    "2024-01-02T03:04:05+0100",
    "x",
  ])("%s is not a go-yaml timestamp", (s) => expect(parseGoTime(s)).toBeUndefined());
});

describe("yaml timestamps through encrypt, decrypt and the MAC", () => {
  const plain = [
    "t_offset: 2024-01-02T03:04:05+01:00",
    "t_nano: 2024-01-02T03:04:05.123456789Z",
    "t_date: 2024-01-02",
    "no_zone: 2024-01-02T03:04:05",
    "odd: 2001-12-14 21:59:43.10 -5",
    "clear_unencrypted: 2024-06-01T10:00:00-05:00",
    "",
  ].join("\n");
  const key = randomBytes(32);
  const now = new Date("2025-03-04T05:06:07Z");
  const out = encryptWithDataKey(plain, "yaml", key, { age: [], now });

  it("encrypts Go timestamps as type time with MarshalText plaintext, the others as str", () => {
    const line = (k: string) => (new RegExp(`^${k}: (.*)$`, "m").exec(out)?.[1] ?? "") as string;
    expect(line("t_offset")).toMatch(/type:time\]$/);
    expect(openEnc(line("t_offset"), key, "t_offset:")).toBe("2024-01-02T03:04:05+01:00");
    expect(openEnc(line("t_nano"), key, "t_nano:")).toBe("2024-01-02T03:04:05.123456789Z");
    expect(openEnc(line("t_date"), key, "t_date:")).toBe("2024-01-02T00:00:00Z");
    expect(line("no_zone")).toMatch(/type:str\]$/);
    expect(openEnc(line("no_zone"), key, "no_zone:")).toBe("2024-01-02T03:04:05");
    expect(line("odd")).toMatch(/type:str\]$/);
    expect(line("clear_unencrypted")).toBe("2024-06-01T10:00:00-05:00");
  });

  it("computes the MAC over the Go text of each value, offset included", () => {
    const h = createHash("sha512");
    for (const v of [
      "2024-01-02T03:04:05+01:00",
      "2024-01-02T03:04:05.123456789Z",
      "2024-01-02T00:00:00Z",
      "2024-01-02T03:04:05",
      "2001-12-14 21:59:43.10 -5",
      "2024-06-01T10:00:00-05:00",
    ])
      h.update(v);
    const mac = /^ {4}mac: (.*)$/m.exec(out)?.[1] as string;
    expect(openEnc(mac, key, "2025-03-04T05:06:07Z")).toBe(h.digest("hex").toUpperCase());
  });

  it("decrypts to the same text, offsets and digits kept, and verifies the MAC", () => {
    const d = decryptWithDataKey(out, "yaml", key);
    // go-yaml prints a time.Time in RFC3339Nano, so only the date-only form changes its text
    expect(d.emit("yaml")).toBe(plain.replace("t_date: 2024-01-02", "t_date: 2024-01-02T00:00:00Z"));
    expect(d.emit("json")).toContain('"t_offset": "2024-01-02T03:04:05+01:00"');
  });
});
