// bench/judge.ts: benchmarks judge the ratio keyfleet / peer (measured in the same run), never an absolute time.
import { afterEach, describe, expect, it, vi } from "vitest";
import { median, report, withinBound } from "../../bench/judge";

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = 0;
});

describe("bench judge", () => {
  it("median is the middle of the sorted samples", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it("the same absolute times pass or fail by their ratio only", () => {
    const slowMachine = { what: "x", ours: 900, peer: 1000, peerName: "p", unit: "ms", maxRatio: 1 };
    const fastButWorseThanPeer = { what: "x", ours: 2, peer: 1, peerName: "p", unit: "ms", maxRatio: 1 };
    expect(withinBound(slowMachine)).toBe(true);
    expect(withinBound(fastButWorseThanPeer)).toBe(false);
    expect(withinBound({ ...slowMachine, peer: Number.NaN })).toBe(true); // no peer: reported, not judged
  });

  it("report prints each ratio with its verdict and sets exit status 3 when one is over", () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    expect(report([{ what: "wrap", ours: 3, peer: 2, peerName: "floor", unit: "ms", maxRatio: 2 }])).toBe(true);
    expect(process.exitCode ?? 0).toBe(0);
    expect(report([{ what: "push", ours: 3, peer: 1, peerName: "scp", unit: "ms", maxRatio: 2 }])).toBe(false);
    expect(process.exitCode).toBe(3);
    const text = out.join("");
    expect(text).toMatch(/wrap .*1\.50× .*≤ 2× .*ok/);
    expect(text).toMatch(/push .*3\.00× .*≤ 2× .*OVER/);
    expect(text).not.toMatch(/MISS/);
  });
});
