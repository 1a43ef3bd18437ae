// writeFilesAtomic and updateRecipientsMany: all-or-old on injected failures, modes kept, no temps left.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateX25519, parseIdentities, parseRecipient } from "../../../provider/age/index.js";
import { decrypt, encrypt, NoIdentityError } from "../../../provider/sops/index.js";
import { writeFilesAtomic } from "../../../provider/fs/index.js";
import { updateRecipientsMany } from "../../../provider/fleet/rekey-many.js";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kf-batch-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const temps = (): string[] => readdirSync(dir).filter((f) => f.endsWith(".tmp"));

function files(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const p = join(dir, `f${i}.txt`);
    writeFileSync(p, `old ${i}\n`);
    chmodSync(p, i % 2 ? 0o640 : 0o600);
    return p;
  });
}

describe("writeFilesAtomic", () => {
  it("writes every file, keeps each mode, new files get 0600, no temps left", async () => {
    const ps = files(20);
    const fresh = join(dir, "new.txt");
    await writeFilesAtomic(
      [...ps.map((p, i) => ({ path: p, data: `new ${i}\n` })), { path: fresh, data: new Uint8Array([1, 2]) }],
      { concurrency: 4 },
    );
    ps.forEach((p, i) => {
      expect(readFileSync(p, "utf8")).toBe(`new ${i}\n`);
      expect(statSync(p).mode & 0o777).toBe(i % 2 ? 0o640 : 0o600);
    });
    expect([...readFileSync(fresh)]).toEqual([1, 2]);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    expect(temps()).toEqual([]);
  });

  it("a crash while writing temps leaves every file old and removes every temp", async () => {
    const ps = files(30);
    let n = 0;
    const run = writeFilesAtomic(
      ps.map((p) => ({ path: p, data: "new\n" })),
      {
        concurrency: 8,
        hooks: {
          afterTempWritten: () => {
            if (++n === 12) throw new Error("injected crash");
          },
        },
      },
    );
    await expect(run).rejects.toThrow(/cannot write .*injected crash/);
    ps.forEach((p, i) => expect(readFileSync(p, "utf8")).toBe(`old ${i}\n`));
    expect(temps()).toEqual([]);
  });

  it("a crash between renames: files renamed so far are new, the rest old, each whole; no temps", async () => {
    const ps = files(10);
    const run = writeFilesAtomic(
      ps.map((p, i) => ({ path: p, data: `new ${i}\n` })),
      {
        hooks: {
          beforeRename: (_p, i) => {
            if (i === 4) throw new Error("injected crash");
          },
        },
      },
    );
    await expect(run).rejects.toThrow(/f4\.txt/);
    ps.forEach((p, i) => expect(readFileSync(p, "utf8")).toBe(i < 4 ? `new ${i}\n` : `old ${i}\n`));
    expect(temps()).toEqual([]);
  });

  it("refuses a path listed twice and a bad concurrency before writing anything", async () => {
    const [p] = files(1) as [string];
    await expect(
      writeFilesAtomic([
        { path: p, data: "a" },
        { path: join(dir, ".", "f0.txt"), data: "b" },
      ]),
    ).rejects.toThrow(/listed twice/);
    await expect(writeFilesAtomic([{ path: p, data: "a" }], { concurrency: 0 })).rejects.toThrow(/concurrency/);
    expect(readFileSync(p, "utf8")).toBe("old 0\n");
  });

  it("a missing directory fails with WRITE_FAILED and leaves the other files old", async () => {
    const ps = files(3);
    await expect(
      writeFilesAtomic([...ps.map((p) => ({ path: p, data: "new" })), { path: join(dir, "nope", "x"), data: "x" }]),
    ).rejects.toMatchObject({ code: "WRITE_FAILED" });
    ps.forEach((p, i) => expect(readFileSync(p, "utf8")).toBe(`old ${i}\n`));
    expect(temps()).toEqual([]);
  });
});

describe("updateRecipientsMany", () => {
  it("adds a recipient to many files (newcomer decrypts all, up-to-date files untouched); one undecryptable file means nothing is written", async () => {
    const a = generateX25519();
    const b = generateX25519();
    const c = generateX25519();
    const ra = parseRecipient(a.recipient);
    const rb = parseRecipient(b.recipient);
    const ids = parseIdentities(a.identity, "a");
    const ps: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = join(dir, `s${i}.yaml`);
      writeFileSync(p, await encrypt(`k: v${i}\n`, { format: "yaml", recipients: i === 5 ? [ra, rb] : [ra] }));
      ps.push(p);
    }
    const before = ps.map((p) => readFileSync(p, "utf8"));
    const res = await updateRecipientsMany(ps, { identities: ids, recipients: [ra, rb] });
    expect(res.map((r) => r.written)).toEqual([true, true, true, true, true, false]);
    expect(res.every((r) => !r.rotated && r.removed.length === 0)).toBe(true);
    for (const [i, p] of ps.entries()) {
      const text = readFileSync(p, "utf8");
      // only additions: everything up to the end of the old age list is unchanged, the new entry follows
      expect(text.startsWith(before[i]!.slice(0, before[i]!.indexOf("    lastmodified")))).toBe(true);
      if (i < 5) expect(text.length).toBeGreaterThan(before[i]!.length);
      expect(
        (await decrypt(text, { format: "yaml", identities: parseIdentities(b.identity, "b") })).leaves[0]?.value,
      ).toBe(`v${i}`);
    }
    expect(readFileSync(ps[5]!, "utf8")).toBe(before[5]);

    const stranger = join(dir, "z.yaml");
    writeFileSync(stranger, await encrypt("k: z\n", { format: "yaml", recipients: [parseRecipient(c.recipient)] }));
    const now = [...ps, stranger].map((p) => readFileSync(p, "utf8"));
    await expect(
      updateRecipientsMany([...ps, stranger], { identities: ids, recipients: [ra, rb, parseRecipient(c.recipient)] }),
    ).rejects.toBeInstanceOf(NoIdentityError);
    [...ps, stranger].forEach((p, i) => expect(readFileSync(p, "utf8")).toBe(now[i]));
    expect(temps()).toEqual([]);
  });
});

describe("updateRecipientsMany over a bounded pool", () => {
  async function sixFiles(): Promise<{ ps: string[]; ra: ReturnType<typeof parseRecipient>; a: { identity: string } }> {
    const a = generateX25519();
    const ra = parseRecipient(a.recipient);
    const ps: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = join(dir, `s${i}.yaml`);
      writeFileSync(p, await encrypt(`k: v${i}\n`, { format: "yaml", recipients: [ra] }));
      ps.push(p);
    }
    return { ps, ra, a };
  }

  it("keepText false: results carry no text, onFile sees each before and after text before anything is written", async () => {
    const { ps, ra, a } = await sixFiles();
    const b = generateX25519();
    const before = ps.map((p) => readFileSync(p, "utf8"));
    const seen = new Map<string, { before: string; after: string; onDisk: string }>();
    const res = await updateRecipientsMany(ps, {
      identities: parseIdentities(a.identity, "a"),
      recipients: [ra, parseRecipient(b.recipient)],
      concurrency: 2,
      keepText: false,
      onFile: (u, old) => {
        seen.set(u.file, { before: old, after: u.text, onDisk: readFileSync(u.file, "utf8") });
      },
    });
    expect(res.map((r) => r.file)).toEqual(ps);
    expect(res.every((r) => r.text === "" && r.written && r.added.length === 1)).toBe(true);
    ps.forEach((p, i) => {
      const s = seen.get(p);
      expect(s?.before).toBe(before[i]);
      expect(s?.onDisk).toBe(before[i]); // nothing renamed while files are still being prepared
      expect(readFileSync(p, "utf8")).toBe(s?.after);
    });
    expect(temps()).toEqual([]);
  });

  it("a file changed by another writer after it was staged: compare-and-swap refuses, nothing written, no temps", async () => {
    const { ps, ra, a } = await sixFiles();
    const b = generateX25519();
    let edited = "";
    const run = updateRecipientsMany(ps, {
      identities: parseIdentities(a.identity, "a"),
      recipients: [ra, parseRecipient(b.recipient)],
      concurrency: 3,
      onFile: (u) => {
        // the last file prepared: another program rewrites the first one meanwhile
        if (u.file === ps[5]) writeFileSync(ps[0]!, (edited = readFileSync(ps[0]!, "utf8") + "# edited\n"));
      },
    });
    await expect(run).rejects.toMatchObject({ code: "FILE_CHANGED", file: ps[0] });
    expect(readFileSync(ps[0]!, "utf8")).toBe(edited);
    for (const p of ps.slice(1)) expect(readFileSync(p, "utf8")).not.toContain(b.recipient);
    expect(temps()).toEqual([]);
  });

  it("an error from onFile (or any file) fails the batch with the first failing file's error; nothing written", async () => {
    const { ps, ra, a } = await sixFiles();
    const b = generateX25519();
    const before = ps.map((p) => readFileSync(p, "utf8"));
    const run = updateRecipientsMany(ps, {
      identities: parseIdentities(a.identity, "a"),
      recipients: [ra, parseRecipient(b.recipient)],
      concurrency: 4,
      onFile: (u) => {
        if (u.file === ps[1] || u.file === ps[3]) throw new Error(`refused ${u.file}`);
      },
    });
    await expect(run).rejects.toThrow(`refused ${ps[1]}`);
    ps.forEach((p, i) => expect(readFileSync(p, "utf8")).toBe(before[i]));
    expect(temps()).toEqual([]);
  });
});
