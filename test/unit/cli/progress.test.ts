/**
 * The progress line of long batches (cli/progress.ts) on a fake clock, and updateRecipientsMany's
 * onProgress feeding it one count per file: silent under 2 s, then "updatekeys: N/M files" on stderr,
 * rewritten in place on a terminal and ended with a newline; counts only, never file names.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { progressLine } from "../../../cli/progress";
import { generateX25519, parseIdentities, parseRecipient } from "../../../provider/age/index.js";
import { encrypt } from "../../../provider/sops/index.js";
import { updateRecipientsMany } from "../../../provider/fleet/rekey-many.js";

describe("progress line", () => {
  it("says nothing for a batch under 2 s", () => {
    let t = 0;
    const out: string[] = [];
    const p = progressLine("updatekeys", "files", (s) => out.push(s), { now: () => t, tty: true });
    for (let i = 1; i <= 10; i++) {
      t += 150;
      p.update(i, 10);
    }
    p.done();
    expect(out).toEqual([]);
  });

  it("on a terminal, rewrites one line in place after 2 s, at most every 250 ms, shows the final count and ends the line", () => {
    let t = 0;
    const out: string[] = [];
    const p = progressLine("updatekeys", "files", (s) => out.push(s), { now: () => t, tty: true });
    for (let i = 1; i <= 100; i++) {
      t += 100;
      p.update(i, 100);
    }
    p.done();
    expect(out[0]).toBe("\rupdatekeys: 20/100 files");
    expect(out.at(-2)).toBe("\rupdatekeys: 100/100 files");
    expect(out.at(-1)).toBe("\n");
    expect(out.length).toBeLessThan(40);
    expect(out.every((s) => s === "\n" || /^\rupdatekeys: \d+\/100 files$/.test(s))).toBe(true);
  });

  it("elsewhere, prints whole lines at most every 2 s", () => {
    let t = 0;
    const out: string[] = [];
    const p = progressLine("updatekeys", "files", (s) => out.push(s), { now: () => t, tty: false });
    for (let i = 1; i <= 100; i++) {
      t += 100;
      p.update(i, 100);
    }
    p.done();
    expect(out).toEqual([
      "updatekeys: 20/100 files\n",
      "updatekeys: 40/100 files\n",
      "updatekeys: 60/100 files\n",
      "updatekeys: 80/100 files\n",
      "updatekeys: 100/100 files\n",
    ]);
  });

  it("updateRecipientsMany reports one count per file, in order, to the last", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kf-progress-"));
    try {
      const a = generateX25519();
      const b = generateX25519();
      const ra = parseRecipient(a.recipient);
      const ps: string[] = [];
      for (let i = 0; i < 5; i++) {
        const p = join(dir, `s${i}.yaml`);
        writeFileSync(p, await encrypt(`k: v${i}\n`, { format: "yaml", recipients: [ra] }));
        ps.push(p);
      }
      const seen: string[] = [];
      await updateRecipientsMany(ps, {
        identities: parseIdentities(a.identity, "a"),
        recipients: [ra, parseRecipient(b.recipient)],
        onProgress: (d, n) => seen.push(`${d}/${n}`),
      });
      expect(seen).toEqual(["1/5", "2/5", "3/5", "4/5", "5/5"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
