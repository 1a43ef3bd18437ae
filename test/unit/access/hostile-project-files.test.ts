/**
 * The files keyfleet keeps beside a project (the audit log, its write-ahead records, claim records)
 * read from a directory a hostile repository or another user filled: a link to /dev/zero, a FIFO, an
 * oversized file or a record naming another file is never read without end, never blocks, never
 * swallows an entry silently and never makes keyfleet remove a file that is not the record itself.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBoundedFile } from "../../../provider/fs";
import { appendAudit, auditEntry, readAudit } from "../../../provider/access/audit-log";
import { pendingFor, recoverPending } from "../../../provider/access/audit-wal";
import { KeyfleetError } from "../../../provider/errors";

const dir = () => mkdtempSync(join(tmpdir(), "kf-hostile-proj-"));
const fifo = (p: string) => execFileSync("mkfifo", [p]);

describe("readBoundedFile", () => {
  it("reads a regular file and refuses everything else without blocking", () => {
    const d = dir();
    writeFileSync(join(d, "ok"), "hello");
    writeFileSync(join(d, "big"), "x".repeat(2048));
    symlinkSync(join(d, "ok"), join(d, "link"));
    symlinkSync("/dev/zero", join(d, "zero"));
    fifo(join(d, "fifo"));
    const rows: [string, { maxBytes: number; followLinks?: boolean }, string | null | undefined][] = [
      ["ok", { maxBytes: 100 }, "hello"],
      ["missing", { maxBytes: 100 }, undefined],
      ["ok/below", { maxBytes: 100 }, undefined], // ENOTDIR
      ["big", { maxBytes: 100 }, null],
      ["link", { maxBytes: 100 }, null],
      ["link", { maxBytes: 100, followLinks: true }, "hello"],
      ["zero", { maxBytes: 100, followLinks: true }, null],
      ["fifo", { maxBytes: 100, followLinks: true }, null],
      [".", { maxBytes: 100, followLinks: true }, null],
    ];
    for (const [name, o, want] of rows) {
      const got = readBoundedFile(join(d, name), o);
      expect(got == null ? got : got.toString(), name).toBe(want);
    }
  });
});

describe("the audit log", () => {
  it("reads as empty when it is a link to /dev/zero or a FIFO", () => {
    const d = dir();
    mkdirSync(join(d, ".keyfleet"));
    symlinkSync("/dev/zero", join(d, ".keyfleet/audit.jsonl"));
    expect(readAudit(".keyfleet/audit.jsonl", d)).toEqual([]);
    const e = dir();
    mkdirSync(join(e, ".keyfleet"));
    fifo(join(e, ".keyfleet/audit.jsonl"));
    expect(readAudit(".keyfleet/audit.jsonl", e)).toEqual([]);
  });

  it("refuses to append into a device or a FIFO with a typed error naming the log and the fix", () => {
    for (const plant of [(p: string) => symlinkSync("/dev/null", p), (p: string) => fifo(p)]) {
      const d = dir();
      mkdirSync(join(d, ".keyfleet"));
      plant(join(d, ".keyfleet/audit.jsonl"));
      let err: unknown;
      try {
        appendAudit(".keyfleet/audit.jsonl", auditEntry("secrets/a.yaml", "set-values", "cli", {}), d);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KeyfleetError);
      expect((err as KeyfleetError).code).toBe("WRITE_FAILED");
      expect((err as KeyfleetError).file).toBe(".keyfleet/audit.jsonl");
      expect(String((err as Error).message)).toMatch(/not a regular file.*remove it/);
    }
  });
});

describe("write-ahead records", () => {
  it("skips links, FIFOs and oversized records, and settles a record only by its own file name", () => {
    const d = dir();
    const wal = join(d, ".keyfleet/audit-wal");
    mkdirSync(wal, { recursive: true });
    symlinkSync("/dev/zero", join(wal, "1-zero.json"));
    fifo(join(wal, "2-fifo.json"));
    writeFileSync(join(wal, "3-big.json"), " ".repeat(2 * 1024 * 1024));
    // a planted record whose content names another file as its id
    writeFileSync(join(d, "victim.json"), "keep me");
    const entry = auditEntry("secrets/a.yaml", "set-values", "cli", { keysChanged: ["k"] });
    writeFileSync(
      join(wal, "4-planted.json"),
      JSON.stringify({ id: "../../victim", file: "secrets/a.yaml", before: "b", after: "a", entries: [entry] }),
    );
    const pending = pendingFor(".keyfleet/audit.jsonl", "secrets/a.yaml", d);
    expect(pending.map((r) => r.id)).toEqual(["4-planted"]);
    recoverPending(".keyfleet/audit.jsonl", "secrets/a.yaml", "a", d); // landed: appended, record removed
    expect(existsSync(join(d, "victim.json"))).toBe(true);
    expect(existsSync(join(wal, "4-planted.json"))).toBe(false);
    expect(readAudit(".keyfleet/audit.jsonl", d).map((e) => e.keysChanged)).toEqual([["k"]]);
  });
});
