/**
 * What preview remembers within one provider process, and that it never hides a change: diff's
 * file digest (provider/resources/secret-file-sha.ts), keyed by (dev, ino, size, mtime, ctime)
 * with git's racy-clean rule, and check's memo of recipient texts that parsed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateX25519 } from "../../../provider/age";
import { bech32Encode } from "../../../provider/age/bech32";
import * as sf from "../../../provider/resources/secret-file";
import { clearShaCache, fileSha256, shaCacheTuning } from "../../../provider/resources/secret-file-sha";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const dir = tmpDirWithAgeKey("kf-sfpc-", alice.identity);
const ins = (file: string) => ({
  path: join(dir, file),
  recipients: [{ name: "alice", recipient: alice.recipient }],
  auditLog: join(dir, "audit.jsonl"),
});

/** The same text with one character of the sops `mac` changed: same length, other bytes. */
function sameSizeEdit(text: string): string {
  const at = text.indexOf("mac: ENC[AES256_GCM,data:") + "mac: ENC[AES256_GCM,data:".length;
  expect(at).toBeGreaterThan(30);
  const c = text[at] === "A" ? "B" : "A";
  return text.slice(0, at) + c + text.slice(at + 1);
}

/** A file made by create, its outputs and inputs. */
async function made(file: string) {
  const i = ins(file);
  const outs = (await sf.create(i)).outs as sf.SecretFileOutputs;
  return { i, outs, abs: i.path };
}

afterEach(() => {
  shaCacheTuning.racyMs = 2_000;
  clearShaCache();
});

describe("diff's file digest cache", () => {
  it("answers an unchanged settled file from the cache, and sees an in-place edit of the same size", async () => {
    shaCacheTuning.racyMs = 0; // every file counts as settled, so the cache is used at once
    const { i, outs, abs } = await made("inplace.yaml");
    expect((await sf.diff("x", outs, i)).changes).toBe(false);
    const { reads, hits } = shaCacheTuning;
    expect((await sf.diff("x", outs, i)).changes).toBe(false);
    expect(shaCacheTuning.hits).toBe(hits + 1); // the cache answered
    expect(shaCacheTuning.reads).toBe(reads);
    const before = statSync(abs);
    writeFileSync(abs, sameSizeEdit(readFileSync(abs, "utf8"))); // same inode, same size
    expect(statSync(abs).ino).toBe(before.ino);
    expect(statSync(abs).size).toBe(before.size);
    expect((await sf.diff("x", outs, i)).changes).toBe(true);
  });

  it("sees an in-place edit whose mtime was set back (ctime still moves)", async () => {
    shaCacheTuning.racyMs = 0;
    const { i, outs, abs } = await made("mtime.yaml");
    utimesSync(abs, 1_000_000_000, 1_000_000_000); // whole seconds, so it can be set back exactly
    expect((await sf.diff("x", outs, i)).changes).toBe(false);
    const hits = shaCacheTuning.hits;
    expect((await sf.diff("x", outs, i)).changes).toBe(false);
    expect(shaCacheTuning.hits).toBe(hits + 1); // cached now
    const before = statSync(abs, { bigint: true });
    writeFileSync(abs, sameSizeEdit(readFileSync(abs, "utf8")));
    utimesSync(abs, 1_000_000_000, 1_000_000_000);
    const after = statSync(abs, { bigint: true });
    expect([after.mtimeNs, after.size, after.ino]).toEqual([before.mtimeNs, before.size, before.ino]);
    expect((await sf.diff("x", outs, i)).changes).toBe(true);
  });

  it("sees the file replaced by a rename, removed, and then back unchanged", async () => {
    shaCacheTuning.racyMs = 0;
    const { i, outs, abs } = await made("renamed.yaml");
    const text = readFileSync(abs, "utf8");
    expect((await sf.diff("x", outs, i)).changes).toBe(false);
    writeFileSync(`${abs}.tmp`, sameSizeEdit(text));
    renameSync(`${abs}.tmp`, abs);
    expect((await sf.diff("x", outs, i)).changes).toBe(true);
    rmSync(abs);
    expect((await sf.diff("x", outs, i)).changes).toBe(true);
    expect(fileSha256(abs)).toBeUndefined();
    writeFileSync(abs, text); // the original text again: no change
    expect((await sf.diff("x", outs, i)).changes).toBe(false);
  });

  it("does not remember a file changed within the racy window, so an edit in the same tick is seen", async () => {
    const { i, outs, abs } = await made("racy.yaml"); // written just now: not settled
    const { reads, hits } = shaCacheTuning;
    expect((await sf.diff("x", outs, i)).changes).toBe(false);
    expect((await sf.diff("x", outs, i)).changes).toBe(false);
    writeFileSync(abs, sameSizeEdit(readFileSync(abs, "utf8")));
    expect((await sf.diff("x", outs, i)).changes).toBe(true);
    expect(shaCacheTuning.hits).toBe(hits); // never answered from the cache: read and hashed each time
    expect(shaCacheTuning.reads).toBe(reads + 3);
  });

  it("gives the digest recorded as fileSha256, cached or not, and an error for a directory", async () => {
    shaCacheTuning.racyMs = 0;
    const { outs, abs } = await made("digest.yaml");
    expect(fileSha256(abs)).toBe(outs.fileSha256);
    expect(fileSha256(abs)).toBe(outs.fileSha256);
    expect(fileSha256(join(dir, "missing", "x.yaml"))).toBeUndefined();
    expect(() => fileSha256(dir)).toThrow(/EISDIR/);
  });
});

describe("check's recipient memo", () => {
  const recipients = (recipient: string) => [{ name: "r", recipient }];

  it("reports a bad key on every check, before and after a good one was remembered", async () => {
    const lowOrder = bech32Encode("age", new Uint8Array(32));
    for (let n = 0; n < 2; n++) {
      const bad = await sf.check({}, { ...ins("m.yaml"), recipients: recipients(lowOrder) });
      expect(bad.failures?.map((f) => f.reason).join()).toMatch(/low-order/);
      const good = await sf.check({}, ins("m.yaml"));
      expect(good.failures).toEqual([]);
    }
  });

  it("refuses a secret key every time and never names it", async () => {
    for (let n = 0; n < 2; n++) {
      const r = await sf.check({}, { ...ins("m.yaml"), recipients: recipients(alice.identity) });
      const reasons = (r.failures ?? []).map((f) => f.reason).join("\n");
      expect(reasons).toMatch(/secret key/);
      expect(reasons).not.toContain(alice.identity);
    }
  });

  it("still finds a key listed twice once the key is remembered", async () => {
    expect((await sf.check({}, ins("d.yaml"))).failures).toEqual([]);
    const twice = [
      { name: "a", recipient: alice.recipient },
      { name: "b", recipient: alice.recipient },
    ];
    const r = await sf.check({}, { ...ins("d.yaml"), recipients: twice });
    expect(r.failures?.map((f) => f.reason).join()).toMatch(/repeats the key of a/);
  });
});
