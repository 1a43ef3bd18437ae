import { describe, expect, it } from "vitest";
import * as hk from "../../../provider/resources/host-key";
import { UNKNOWN } from "../../../provider/resources/inputs";

const PIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const FP = "SHA256:" + "A".repeat(43);

describe("HostKey check (no network)", () => {
  const rows: { input: Record<string, unknown>; property: string }[] = [
    { input: { name: "h", host: "", trustOnFirstUse: true }, property: "host" },
    { input: { name: "h", host: "a b", trustOnFirstUse: true }, property: "host" },
    { input: { name: "h", host: "h", port: 0, trustOnFirstUse: true }, property: "port" },
    { input: { name: "h", host: "h", port: 1.5, trustOnFirstUse: true }, property: "port" },
    { input: { name: "h", host: "h", mode: "rsa", trustOnFirstUse: true }, property: "mode" },
    { input: { name: "h", host: "h", publicKey: "ssh-rsa AAAAB3NzaC1yc2E" }, property: "publicKey" },
    { input: { name: "h", host: "h", expectedFingerprint: "MD5:aa" }, property: "expectedFingerprint" },
    { input: { name: "h", host: "h" }, property: "publicKey" },
    { input: { name: "h", host: "h", trustOnFirstUse: false }, property: "publicKey" },
    { input: { name: "h", host: "h", publicKey: PIN, trustOnFirstUse: true }, property: "publicKey" },
  ];
  it.each(rows)("fails $property for %j", async ({ input, property }) => {
    const r = await hk.check({}, input);
    expect(r.failures?.map((f) => f.property)).toContain(property);
  });
  it("accepts each single way to trust and skips unknowns", async () => {
    for (const t of [
      { publicKey: PIN },
      { expectedFingerprint: FP },
      { trustOnFirstUse: true },
      { expectedFingerprint: UNKNOWN },
    ]) {
      expect((await hk.check({}, { name: "h", host: "h", ...t })).failures).toEqual([]);
    }
    expect((await hk.check({}, { name: "h", host: UNKNOWN, port: UNKNOWN, trustOnFirstUse: true })).failures).toEqual(
      [],
    );
  });
});

describe("HostKey diff (no network)", () => {
  const olds = {
    name: "h",
    host: "h",
    port: 22,
    mode: "age",
    pinnedPublicKey: "",
    expectedFingerprint: FP,
    trustOnFirstUse: false,
    fingerprint: FP,
    observedFingerprint: FP,
  };
  it("no change", async () => {
    expect((await hk.diff("h:22", olds, { name: "h", host: "h", expectedFingerprint: FP })).changes).toBe(false);
  });
  it("host or port change replaces", async () => {
    expect((await hk.diff("h:22", olds, { name: "h", host: "g", expectedFingerprint: FP })).replaces).toEqual(["host"]);
    expect(
      (await hk.diff("h:22", olds, { name: "h", host: "h", port: 2222, expectedFingerprint: FP })).replaces,
    ).toEqual(["port"]);
  });
  it("mode, trust or drift update", async () => {
    expect((await hk.diff("h:22", olds, { name: "h", host: "h", mode: "ssh", expectedFingerprint: FP })).changes).toBe(
      true,
    );
    expect((await hk.diff("h:22", olds, { name: "h", host: "h", trustOnFirstUse: true })).changes).toBe(true);
    const drift = { ...olds, observedFingerprint: "SHA256:" + "B".repeat(43) };
    const d = await hk.diff("h:22", drift, { name: "h", host: "h", expectedFingerprint: FP });
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
  });
  it("create against a closed port fails with a clear error", async () => {
    const err = await hk
      .create({ name: "h", host: "127.0.0.1", port: 1, trustOnFirstUse: true, timeoutMs: 2000 })
      .catch((e: Error) => e);
    expect(String(err)).toMatch(/cannot read the ssh host key of 127\.0\.0\.1:1/);
  });
});
