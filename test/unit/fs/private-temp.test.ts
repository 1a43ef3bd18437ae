/**
 * Private temp directories (provider/fs/private-temp): memory filesystem first, 0700 directories and
 * 0600 files, and the sweep of directories whose owner process is gone (pid + start time).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  isMemoryDir,
  makePrivateDir,
  privateTempBase,
  processStartTime,
  sweepPrivateDirs,
} from "../../../provider/fs/private-temp";

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
const shm = isMemoryDir("/dev/shm");
const base = (): string => {
  const d = mkdtempSync(join(shm ? "/dev/shm" : tmpdir(), "kf-pt-"));
  made.push(d);
  return d;
};

describe("privateTempBase", () => {
  it("uses $XDG_RUNTIME_DIR only when it is a memory filesystem, then /dev/shm, then the temp dir", () => {
    const onDisk = mkdtempSync(join(tmpdir(), "kf-pt-disk-"));
    made.push(onDisk);
    const disk = isMemoryDir(onDisk);
    if (shm) {
      const mem = base();
      expect(privateTempBase({ XDG_RUNTIME_DIR: mem })).toEqual({ dir: mem, memory: true });
      expect(privateTempBase({ XDG_RUNTIME_DIR: "relative/dir" })).toEqual({ dir: "/dev/shm", memory: true });
      if (!disk) expect(privateTempBase({ XDG_RUNTIME_DIR: onDisk })).toEqual({ dir: "/dev/shm", memory: true });
    } else {
      expect(privateTempBase({ XDG_RUNTIME_DIR: onDisk }).dir).toBe(disk ? onDisk : tmpdir());
    }
    expect(isMemoryDir(join(onDisk, "missing"))).toBe(false);
  });
});

describe("makePrivateDir", () => {
  it("makes a 0700 directory named with pid and start time, 0600 files, and removes it all", () => {
    const b = base();
    const p = makePrivateDir("edit", { XDG_RUNTIME_DIR: b });
    expect(
      p.path.startsWith(`${shm ? b : tmpdir()}/keyfleet-edit.${process.pid}.${processStartTime(process.pid)}.`),
    ).toBe(true);
    expect(statSync(p.path).mode & 0o777).toBe(0o700);
    const f = p.write("a.yaml", "x: 1\n");
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readFileSync(f, "utf8")).toBe("x: 1\n");
    expect(() => p.write("a.yaml", "again")).toThrow(/cannot write/);
    expect(() => p.write("../escape", "x")).toThrow(/cannot write/);
    symlinkSync("/etc/passwd", join(p.path, "link"));
    expect(() => p.write("link", "x")).toThrow(/cannot write/);
    p.remove();
    p.remove();
    expect(existsSync(p.path)).toBe(false);
  });
});

describe("sweepPrivateDirs", () => {
  it("removes directories of dead or reused pids, keeps live owners and anything not named like a run", () => {
    const b = base();
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout);
    const me = `${process.pid}.${processStartTime(process.pid)}`;
    const names = {
      dead: `keyfleet-edit.${deadPid}.12345.abcdef01`,
      reused: `keyfleet-edit.${process.ppid}.1.abcdef02`,
      live: `keyfleet-edit.${me}.abcdef03`,
      other: `keyfleet-other.${deadPid}.1.abcdef04`,
      odd: `keyfleet-edit.not-a-run`,
      kept: `keyfleet-edit-kept.${deadPid}.abcdef05.yaml`,
    };
    for (const n of Object.values(names)) mkdirSync(join(b, n));
    const removed = sweepPrivateDirs(b, "edit").sort();
    expect(removed).toEqual([join(b, names.dead), join(b, names.reused)].sort());
    for (const k of ["live", "other", "odd", "kept"] as const) expect(existsSync(join(b, names[k]))).toBe(true);
    expect(sweepPrivateDirs(join(b, "missing"), "edit")).toEqual([]);
  });
});
