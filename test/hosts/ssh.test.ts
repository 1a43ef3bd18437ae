/**
 * provider/ssh against 3 real OpenSSH sshd processes on 127.0.0.1 (test/harness/sshd.ts), each
 * with its own host key, port and base directory; started and stopped by pid here.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HostKeyMismatchError,
  SshPool,
  scanHostKey,
  parsePinnedHostKey,
  SshError,
  HostKeyParseError,
} from "../../provider/ssh/index";
import { sshTargetOf, startHosts, type SshdHost } from "../harness/sshd";

let hosts: SshdHost[] = [];
const commands: string[] = [];
let pool: SshPool;

const target = sshTargetOf;
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
const PLAIN = "pl41ntext-Секрет-'\"$\\`-value";

beforeAll(async () => {
  hosts = await startHosts(3);
  pool = new SshPool({ onCommand: (_t, c) => commands.push(c) });
});
afterAll(async () => {
  await pool?.closeAll();
  await Promise.all(hosts.map((h) => h.stop()));
  // every sshd we started is gone
  for (const h of hosts) expect(alive(h.pid())).toBe(false);
});

describe("host keys", () => {
  it("scan returns the ed25519 key whose fingerprint equals ssh-keygen -lf of the host key file", async () => {
    for (const h of hosts) {
      const line = await scanHostKey(h.host, h.port, { timeoutMs: 5000 });
      expect(line).toBe(h.hostKeyLine);
      const kg = spawnSync("ssh-keygen", ["-lf", `${h.hostKeyFile}.pub`])
        .stdout.toString()
        .split(" ")[1];
      expect(parsePinnedHostKey(line).fingerprint).toBe(kg);
    }
    expect(new Set(hosts.map((h) => h.hostKeyLine)).size).toBe(3);
  });

  it("scan of a closed port fails with SshError", async () => {
    await expect(scanHostKey("127.0.0.1", 1, { timeoutMs: 2000 })).rejects.toBeInstanceOf(SshError);
  });

  it("pinned keys are parsed strictly", () => {
    const ok = hosts[0]!.hostKeyLine;
    expect(parsePinnedHostKey(`${ok} comment here`).line).toBe(ok);
    expect(parsePinnedHostKey(`[127.0.0.1]:22 ${ok}`).line).toBe(ok);
    for (const bad of [
      "",
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ",
      "ssh-ed25519",
      "ssh-ed25519 !!!!",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
      `ssh-ed25519 ${Buffer.from("x".repeat(51)).toString("base64")}`,
    ]) {
      expect(() => parsePinnedHostKey(bad)).toThrow(HostKeyParseError);
    }
  });

  it("a wrong pin is refused before authentication, with both fingerprints, and nothing is written", async () => {
    const [a, b] = hosts as [SshdHost, SshdHost];
    const logBefore = readFileSync(a.logFile, "utf8");
    const acceptedBefore = (logBefore.match(/Accepted publickey/g) ?? []).length;
    const p = new SshPool();
    let err: unknown;
    try {
      const s = await p.session(target(a, { hostKey: b.hostKeyLine }));
      await s.writeFileAtomic(`${a.dataDir}/wrongpin.env`, Buffer.from(PLAIN), { mode: 0o600 });
    } catch (e) {
      err = e;
    }
    await p.closeAll();
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    const m = err as HostKeyMismatchError;
    expect(m.expected).toBe(parsePinnedHostKey(b.hostKeyLine).fingerprint);
    expect(m.presented).toBe(parsePinnedHostKey(a.hostKeyLine).fingerprint);
    expect(m.message).toContain(`127.0.0.1:${a.port}`);
    expect(m.message).toContain(m.expected);
    expect(m.message).toContain(m.presented);
    expect(existsSync(`${a.dataDir}/wrongpin.env`)).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    const log = readFileSync(a.logFile, "utf8");
    expect((log.match(/Accepted publickey/g) ?? []).length).toBe(acceptedBefore);
    // sshd saw the client go away during key exchange, never a userauth request
    expect(log.slice(logBefore.length)).not.toMatch(/Accepted|Failed publickey|userauth/i);
  });

  it("a replaced host key is refused for the old pin and accepted for the new one", async () => {
    const h = hosts[2]!;
    const old = h.hostKeyLine;
    await h.replaceHostKey();
    expect(h.hostKeyLine).not.toBe(old);
    const p = new SshPool();
    await expect(p.session(target(h, { hostKey: old }))).rejects.toBeInstanceOf(HostKeyMismatchError);
    const s = await p.session(target(h));
    expect((await s.exec(["true"])).code).toBe(0);
    await p.closeAll();
  });
});

describe("sessions", () => {
  it("exec quotes every argument (no shell interpretation) and passes stdin", async () => {
    const s = await pool.session(target(hosts[0]!));
    const args = ["a b", "it's", "$HOME", "`id`", "x;y", "\\n", "*", "", "ü ✓", "--", "-n"];
    const r = await s.exec(["printf", "%s\\0", ...args]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString("utf8").split("\0").slice(0, -1)).toEqual(args);
    const c = await s.exec(["wc", "-c"], { stdin: Buffer.from("12345") });
    expect(c.stdout.toString().trim()).toBe("5");
    const f = await s.exec(["sh", "-c", "echo err >&2; exit 7"]);
    expect(f.code).toBe(7);
    expect(f.stderr.toString()).toBe("err\n");
  });

  it("writeFileAtomic writes content, mode, owner and group; stat and remove agree with the disk", async () => {
    for (const h of hosts) {
      const s = await pool.session(target(h));
      const path = `${h.dataDir}/app env.env`;
      const content = Buffer.from(`SECRET='${PLAIN.replace(/'/g, "")}'\n`);
      const w = await s.writeFileAtomic(path, content, { mode: 0o640, owner: "nobody", group: "nogroup" });
      expect(readFileSync(path)).toEqual(content);
      const st = statSync(path);
      expect(st.mode & 0o7777).toBe(0o640);
      expect(st.uid).toBe(65534);
      expect(st.gid).toBe(65534);
      const remote = await s.stat(path);
      expect(remote).toEqual({ exists: true, mode: 0o640, owner: "nobody", group: "nogroup", sha256: w.sha256 });
      // the write reports the same attributes from its own lstat of the inode it wrote
      expect(w).toEqual({ sha256: remote.sha256, mode: 0o640, owner: "nobody", group: "nogroup" });
      // rewrite with other mode/owner
      await s.writeFileAtomic(path, Buffer.from("B=2\n"), { mode: 0o600 });
      expect(readFileSync(path, "utf8")).toBe("B=2\n");
      expect(statSync(path).mode & 0o7777).toBe(0o600);
      expect(statSync(path).uid).toBe(0);
      // drift is visible: chmod and edit by hand
      const before = await s.stat(path);
      spawnSync("chmod", ["0644", path]);
      writeFileSync(path, "B=3\n", { flag: "a" });
      const drift = await s.stat(path);
      expect(drift.mode).toBe(0o644);
      expect(drift.sha256).not.toBe(before.sha256);
      await s.remove(path);
      expect(existsSync(path)).toBe(false);
      expect(await s.stat(path)).toEqual({ exists: false });
      await s.remove(path); // idempotent
      // no temp files left behind
      expect(readdirSync(h.dataDir).filter((f) => f.includes(".kftmp."))).toEqual([]);
    }
  });

  it("a push removes temps of dead writers but never the temp of a writer still running", async () => {
    // the host is local, so a pid here is a pid there: the test process stands for a push still running
    // (an orphan of a cut connection, or a concurrent apply); a finished child for a killed one
    const h = hosts[2]!;
    const s = await pool.session(target(h));
    const dead = spawnSync("true").pid!;
    expect(alive(dead)).toBe(false);
    const live = `${h.dataDir}/.race.env.kftmp.${process.pid}.AbC123`;
    const stale = `${h.dataDir}/.race.env.kftmp.${dead}.XyZ789`;
    const other = `${h.dataDir}/.other.env.kftmp.${dead}.XyZ789`;
    for (const f of [live, stale, other]) writeFileSync(f, "partial");
    await s.writeFileAtomic(`${h.dataDir}/race.env`, Buffer.from("A=1\n"), { mode: 0o600 });
    expect(readFileSync(`${h.dataDir}/race.env`, "utf8")).toBe("A=1\n");
    expect(existsSync(stale)).toBe(false); // its writer is gone
    expect(existsSync(live)).toBe(true); // removing it would make that writer's mv fail
    expect(existsSync(other)).toBe(true); // another target's temps are not ours to touch
    for (const f of [live, other]) spawnSync("rm", ["-f", f]);
  });

  it("remove also removes temps of dead writers of the file (they may hold part of it), never a live writer's or another file's", async () => {
    const h = hosts[2]!;
    const s = await pool.session(target(h));
    const path = `${h.dataDir}/gone.env`;
    await s.writeFileAtomic(path, Buffer.from("A=1\n"), { mode: 0o600 });
    const dead = spawnSync("true").pid!;
    expect(alive(dead)).toBe(false);
    const live = `${h.dataDir}/.gone.env.kftmp.${process.pid}.AbC123`;
    const stale = `${h.dataDir}/.gone.env.kftmp.${dead}.XyZ789`;
    const other = `${h.dataDir}/.other2.env.kftmp.${dead}.XyZ789`;
    for (const f of [live, stale, other]) writeFileSync(f, "partial");
    await s.remove(path);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
    for (const f of [live, other]) spawnSync("rm", ["-f", f]);
    await s.remove(`${h.dataDir}/no/such/dir.env`); // a missing directory is still fine
  });

  it("empty content and a file in / are fine; bad paths, owners and missing dirs give clear errors", async () => {
    const h = hosts[0]!;
    const s = await pool.session(target(h));
    await s.writeFileAtomic(`${h.dataDir}/empty.env`, new Uint8Array(0), { mode: 0o600 });
    expect(readFileSync(`${h.dataDir}/empty.env`, "utf8")).toBe("");
    await expect(s.writeFileAtomic(`${h.dataDir}/no/such/dir.env`, Buffer.from("x"), { mode: 0o600 })).rejects.toThrow(
      /directory does not exist/,
    );
    await expect(s.writeFileAtomic("relative.env", Buffer.from("x"), { mode: 0o600 })).rejects.toThrow(
      /must be an absolute file path/,
    );
    await expect(s.writeFileAtomic(h.dataDir, Buffer.from("x"), { mode: 0o600 })).rejects.toThrow(/it is a directory/);
    await expect(
      s.writeFileAtomic(`${h.dataDir}/x.env`, Buffer.from("x"), { mode: 0o600, owner: "no such user" }),
    ).rejects.toThrow(/not a valid user/);
    await expect(
      s.writeFileAtomic(`${h.dataDir}/x.env`, Buffer.from("x"), { mode: 0o600, owner: "kfnosuchuser" }),
    ).rejects.toThrow(/cannot write/);
    expect(existsSync(`${h.dataDir}/x.env`)).toBe(false);
    await expect(s.writeFileAtomic(`${h.dataDir}/x.env`, Buffer.from("x"), { mode: 0o10000 })).rejects.toThrow(/mode/);
  });

  it("one connection per (host, port, user), reused by many sessions and concurrent operations", async () => {
    const p = new SshPool();
    const h = hosts[1]!;
    const sessions = await Promise.all(Array.from({ length: 5 }, () => p.session(target(h))));
    await Promise.all(
      sessions.flatMap((s, i) =>
        Array.from({ length: 4 }, (_, j) =>
          s.writeFileAtomic(`${h.dataDir}/c${i}-${j}.env`, Buffer.from(`V=${i}${j}\n`), { mode: 0o600 }),
        ),
      ),
    );
    expect(p.connectCount).toBe(1);
    for (let i = 0; i < 5; i++) expect(readFileSync(`${h.dataDir}/c${i}-3.env`, "utf8")).toBe(`V=${i}3\n`);
    // a session with a different pin for the same host is refused even on the pooled connection
    await expect(p.session(target(h, { hostKey: hosts[0]!.hostKeyLine }))).rejects.toBeInstanceOf(HostKeyMismatchError);
    await p.closeAll();
  });

  it("wrong client key: authentication error, not retried, no key material in the message", async () => {
    const h = hosts[0]!;
    const p = new SshPool();
    const other = hosts[1]!.clientKeyPem;
    const err = await p.session(target(h, { privateKey: other })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshError);
    expect((err as Error).message).toMatch(/authentication to 127\.0\.0\.1:\d+ as root failed/);
    expect((err as Error).message).not.toContain("PRIVATE KEY");
    expect(p.connectCount).toBe(1);
    await p.closeAll();
  });

  it("plaintext never appears in a command line or an sshd log", () => {
    expect(commands.length).toBeGreaterThan(10);
    const needles = [PLAIN, PLAIN.replace(/'/g, ""), "pl41ntext"];
    for (const c of commands) for (const n of needles) expect(c).not.toContain(n);
    for (const h of hosts) {
      const log = readFileSync(h.logFile, "utf8");
      expect(log).toContain("Accepted publickey");
      for (const n of needles) expect(log).not.toContain(n);
    }
  });
});
