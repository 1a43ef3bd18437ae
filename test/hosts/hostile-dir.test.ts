/**
 * Issue 9 §1: remote writes that an unprivileged user on the host cannot redirect. The host is a real
 * OpenSSH sshd on 127.0.0.1 (login: the test's user, root in CI); the attacker is a real unprivileged
 * process (`setpriv` to uid/gid 65534, no supplementary groups) running a bounded node loop. HostEnv
 * pushes run in-process through provider/resources/host-env (stat, restart marker, write, read-back,
 * restart, marker removal) with `owner: nobody` and an onChange command, as in the issue.
 *
 * For every push: it either failed with a clear error or wrote exactly the target (a regular file,
 * the rendered content, mode 0600, owner nobody). After every scenario: 0 files outside the target
 * directory changed (content, owner, mode, type), among them the canaries the attacker aimed at.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { startSshd, type SshdHost } from "../harness/sshd";
import { create, read } from "../../provider/resources/host-env";
import { closeHostEnvPool } from "../../provider/resources/host-env-remote";
import { renderEnv } from "../../provider/render";
import type { HostEnvInputs } from "../../provider/resources/host-env-inputs";

const NOBODY = 65534;
const asRoot = userInfo().uid === 0;
// the attack needs a second, unprivileged user; tests run as root here and in CI
const suite = asRoot ? describe : describe.skip;

let host: SshdHost;
let work: string;
let outside: string;
let canary: string;
let rootSecret: string;
let nobodyFile: string;

/** type, mode, owner, size, content digest (or link target) of every entry under `dir`. */
function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (d: string, depth: number) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      const head = `${st.mode.toString(8)}:${st.uid}:${st.gid}:${st.size}:${st.nlink}`;
      if (st.isSymbolicLink()) m.set(p, `${head}:link:${readlinkSync(p)}`);
      else if (st.isFile()) m.set(p, `${head}:${createHash("sha256").update(readFileSync(p)).digest("hex")}`);
      else m.set(p, head);
      if (st.isDirectory() && depth < 4) walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return m;
}

/** Runs node code as uid/gid 65534 with no supplementary groups (a real unprivileged user). */
function asNobody(code: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    "setpriv",
    ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, "-e", code, ...args],
    { timeout: 20_000 },
  );
  return { status: r.status, stdout: r.stdout?.toString() ?? "", stderr: r.stderr?.toString() ?? "" };
}

/**
 * The racing attacker: a tight loop (bounded by count and time, stopped by a stop file) that swaps
 * every temp and marker name it sees for a symlink to a canary (symlink made aside, then renamed
 * over the name: the swap is atomic), and plants a symlink at the target. It counts what succeeded.
 */
const RACER = `
const fs = require("fs"), path = require("path");
const [dir, target, canary, stop, maxMs] = process.argv.slice(1);
const end = Date.now() + Number(maxMs);
let loops = 0, swaps = 0, denied = 0, stopped = false;
const nap = new Int32Array(new SharedArrayBuffer(4));
const swap = (name) => {
  const aside = path.join(dir, ".kfatk" + process.pid + "." + loops);
  try { fs.symlinkSync(canary, aside); fs.renameSync(aside, path.join(dir, name)); swaps++; }
  catch { denied++; try { fs.unlinkSync(aside); } catch {} }
};
while (Date.now() < end && loops < 5000000) {
  loops++;
  if (loops % 64 === 0 && fs.existsSync(stop)) { stopped = true; break; }
  // a 1 ms nap every 16 rounds: still thousands of swaps a second, without starving the pushes
  if (loops % 16 === 0) Atomics.wait(nap, 0, 0, 1);
  let names = [];
  try { names = fs.readdirSync(dir); } catch {}
  for (const n of names) if (n.startsWith("." + target + ".kftmp.")) swap(n);
  if (loops % 8 === 0) swap("." + target + ".kfrestart");
  if (loops % 32 === 0) swap(target);
}
console.log(JSON.stringify({ loops, swaps, denied, stopped }));
`;

function startRacer(
  dir: string,
  target: string,
  stop: string,
): { child: ChildProcess; result: Promise<{ loops: number; swaps: number; denied: number; stopped: boolean }> } {
  const child = spawn(
    "setpriv",
    [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--",
      process.execPath,
      "-e",
      RACER,
      dir,
      target,
      canary,
      stop,
      "600000",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const result = new Promise<{ loops: number; swaps: number; denied: number; stopped: boolean }>((resolve, reject) => {
    child.once("exit", () => {
      try {
        resolve(JSON.parse(out.trim()));
      } catch (e) {
        reject(e);
      }
    });
  });
  return { child, result };
}

const inputs = (path: string, v: string): HostEnvInputs => ({
  connection: {
    host: host.host,
    port: host.port,
    user: host.user,
    privateKey: host.clientKeyPem,
    hostKey: host.hostKeyLine,
  },
  path,
  sources: [],
  env: { V: v },
  owner: "nobody",
  onChange: "true",
});

/** Errors a push may end with; anything else (a timeout, an interrupted script) fails the test. */
const CLEAR =
  /refusing to (write|create|remove) .*owned by|it is a directory|a directory is in the way|read-back digest|changed right after it was written/;

/** One push: either a clear error, or exactly the target written. */
async function push(path: string, v: string): Promise<"written" | string> {
  try {
    await create(inputs(path, v));
  } catch (e) {
    const msg = (e as Error).message;
    expect(msg, msg).toMatch(CLEAR);
    expect(msg).not.toMatch(/timed out|interrupted/);
    return msg;
  }
  const st = lstatSync(path);
  expect(st.isFile()).toBe(true);
  expect(st.mode & 0o7777).toBe(0o600);
  expect(st.uid).toBe(NOBODY);
  expect(readFileSync(path, "utf8")).toBe(renderEnv([["V", v]], "dotenv"));
  return "written";
}

function victimDir(name: string, uid: number, gid: number, mode: number): string {
  const d = join(work, name);
  mkdirSync(d);
  chownSync(d, uid, gid);
  chmodSync(d, mode);
  return d;
}

suite("remote writes an unprivileged user on the host cannot redirect", () => {
  beforeAll(async () => {
    host = await startSshd();
    work = mkdtempSync(join(tmpdir(), "kf-hostile-"));
    chmodSync(work, 0o755); // the attacker must reach the victim directories
    outside = join(work, "outside");
    mkdirSync(outside, { mode: 0o755 });
    canary = join(outside, "root-canary");
    writeFileSync(canary, "root-owned canary\n", { mode: 0o644 });
    rootSecret = join(outside, "root-secret");
    writeFileSync(rootSecret, "root-only\n", { mode: 0o600 });
    nobodyFile = join(outside, "nobody-file");
    writeFileSync(nobodyFile, "the attacker's own file\n", { mode: 0o644 });
    chownSync(nobodyFile, NOBODY, NOBODY);
  }, 60_000);
  afterAll(async () => {
    await closeHostEnvPool();
    await host?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const races: { name: string; uid: number; gid: number; mode: number; pushes: number; written: boolean }[] = [
    // the setup: the env file's directory belongs to nobody
    { name: "owned by nobody (0755)", uid: NOBODY, gid: NOBODY, mode: 0o755, pushes: 40, written: false },
    {
      name: "root-owned, group-writable by nobody's group (0775)",
      uid: 0,
      gid: NOBODY,
      mode: 0o775,
      pushes: 5,
      written: false,
    },
    { name: "root-owned, world-writable and sticky (1777)", uid: 0, gid: 0, mode: 0o1777, pushes: 5, written: false },
    // after the fix the error names: the directory is root's; the attacker still owns the file
    { name: "root-owned 0755 (safe; owner: nobody)", uid: 0, gid: 0, mode: 0o755, pushes: 40, written: true },
  ];
  for (const [k, r] of races.entries()) {
    it(`swap race, directory ${r.name}: ${r.pushes} pushes, none redirected`, async () => {
      const dir = victimDir(`race-${k}`, r.uid, r.gid, r.mode);
      const target = join(dir, "app.env");
      const stop = join(work, `stop-${k}`);
      const before = snapshot(outside);
      const racer = startRacer(dir, "app.env", stop);
      const outcomes: string[] = [];
      try {
        // give the attacker a head start so the first push already races it
        await new Promise((res) => setTimeout(res, 200));
        for (let i = 0; i < r.pushes; i++) outcomes.push(await push(target, `value-${k}-${i}`));
      } finally {
        writeFileSync(stop, "");
        setTimeout(() => {
          try {
            racer.child.kill("SIGKILL");
          } catch {
            /* exited */
          }
        }, 10_000).unref();
      }
      const stats = await racer.result;
      const written = outcomes.filter((o) => o === "written").length;
      console.log(
        `race (${r.name}): ${JSON.stringify({ pushes: r.pushes, written, failed: r.pushes - written, attacker: stats })}`,
      );
      expect(snapshot(outside)).toEqual(before);
      expect(stats.stopped).toBe(true); // the attacker raced until the last push was done
      expect(stats.loops).toBeGreaterThan(r.pushes);
      if (r.written) {
        expect(written).toBe(r.pushes);
        expect(stats.swaps).toBe(0); // nobody cannot rename anything in a root 0755 directory
      } else {
        expect(written).toBe(0);
        for (const o of outcomes)
          expect(o).toMatch(/refusing to (write|create) .*directory .* is owned by .* with mode/);
        expect(outcomes[0]).toContain(r.mode.toString(8).padStart(4, "0"));
      }
    }, 300_000);
  }

  it("the StrictModes error names the directory, its owner and mode, and the fix", async () => {
    const dir = victimDir("named", NOBODY, NOBODY, 0o755);
    const msg = await push(join(dir, "app.env"), "x");
    expect(msg).toMatch(/^refusing to create .*\.app\.env\.kfrestart: /);
    expect(msg).toContain(`directory ${dir} is owned by nobody (uid ${NOBODY}) with mode 0755`);
    expect(msg).toContain(`chown root ${dir}`);
    const gw = victimDir("named-gw", 0, 0, 0o770);
    expect(await push(join(gw, "app.env"), "x")).toContain(`chmod go-w ${gw}`);
    // an ancestor owned by someone else is refused too, even when the directory itself is fine
    const parent = victimDir("named-parent", NOBODY, NOBODY, 0o755);
    const child = join(parent, "etc");
    mkdirSync(child, { mode: 0o755 });
    expect(await push(join(child, "app.env"), "x")).toContain(`directory ${parent} is owned by nobody`);
    expect(existsSync(join(child, "app.env"))).toBe(false);
  }, 60_000);

  const kinds = ["symlink", "hardlink", "fifo", "socket", "directory"] as const;
  const places = { target: "app.env", marker: ".app.env.kfrestart", temp: "" } as const;
  const deadPid = Math.min(Number(readFileSync("/proc/sys/kernel/pid_max", "utf8")) - 1, 4194303);
  const PLANT = `
const fs = require("fs"), net = require("net");
const [kind, p, canary, own] = process.argv.slice(1);
if (kind === "symlink") fs.symlinkSync(canary, p);
else if (kind === "hardlink") fs.linkSync(own, p);
else if (kind === "fifo") require("child_process").execFileSync("mkfifo", [p]);
else if (kind === "directory") fs.mkdirSync(p);
else if (kind === "socket") { const s = net.createServer(); s.listen(p, () => process.exit(0)); }
`;
  for (const kind of kinds) {
    for (const [where, base] of Object.entries(places)) {
      it(`a planted ${kind} at the ${where} path is refused or harmless, never blocks`, async () => {
        let alive = true;
        try {
          process.kill(deadPid, 0);
        } catch {
          alive = false;
        }
        expect(alive).toBe(false);
        const dir = victimDir(`plant-${kind}-${where}`, NOBODY, NOBODY, 0o755);
        const target = join(dir, "app.env");
        const name = base === "" ? `.app.env.kftmp.${deadPid}.abcdef` : base;
        const before = snapshot(outside);
        const r = asNobody(PLANT, [kind, join(dir, name), canary, nobodyFile]);
        expect(r.stderr).toBe("");
        expect(lstatSync(join(dir, name)).uid).toBe(NOBODY);
        // while nobody owns the directory, every push is refused; a refresh reads without blocking
        const refused = await push(target, "v1");
        if (kind === "directory" && where === "target") expect(refused).toMatch(/it is a directory/);
        else expect(refused).toMatch(/refusing to (write|create) .* is owned by nobody/);
        const props = {
          ...inputs(target, "v1"),
          sources: [],
          contentDigest: "",
          writtenDigest: "",
        } as unknown as Parameters<typeof read>[1];
        const st = await read("id", props);
        if (where === "target" && kind !== "hardlink" && kind !== "directory")
          expect((st.props as { drift: string[] }).drift[0]).toMatch(/^not a regular file: /);
        // the fix the error names: root owns the directory; what nobody planted is still there
        chownSync(dir, 0, 0);
        const outcome = await push(target, "v2");
        if (kind === "directory" && where === "target") expect(outcome).toMatch(/it is a directory/);
        else if (kind === "directory" && where === "marker") expect(outcome).toMatch(/a directory is in the way/);
        else expect(outcome).toBe("written");
        if (where === "marker" && outcome === "written") {
          // the restart ran and its marker is gone; a hardlinked marker was unlinked, never truncated
          expect(lstatSync(join(dir, name), { throwIfNoEntry: false })).toBeUndefined();
        }
        expect(snapshot(outside)).toEqual(before);
        expect(readFileSync(canary, "utf8")).toBe("root-owned canary\n");
        expect(readFileSync(nobodyFile, "utf8")).toBe("the attacker's own file\n");
      }, 120_000);
    }
  }
});
