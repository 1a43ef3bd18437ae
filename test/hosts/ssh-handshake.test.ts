/**
 * What one connection asks of the host, against a real sshd whose log is at DEBUG1 (it names every
 * authentication request): keyfleet goes straight to the configured key, never first to "none"
 * (one more round trip and one more request for sshd), and the ed25519 key the pool parses once
 * signs exactly as ssh2 would. Also the harness's throwaway login user, which the push bench logs in
 * as: its sessions run /bin/sh, the files it writes are its own, and it is gone after remove().
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshPool } from "../../provider/ssh/index";
import { preparePrivateKey } from "../../provider/ssh/connect";
import { parseKey } from "../../provider/ssh/ssh2";
import { createLoginUser, sshTargetOf, startSshd, type SshdHost } from "../harness/sshd";

let h: SshdHost;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

beforeAll(async () => {
  h = await startSshd({ logLevel: "DEBUG1", ports: 2 });
});
afterAll(async () => {
  await h?.stop();
});

/** The methods of the userauth requests sshd logged, in order. */
function authMethods(log: string): string[] {
  return [...log.matchAll(/userauth-request for user \S+ service ssh-connection method (\S+)/g)].map((m) => m[1]!);
}

describe("handshake", () => {
  it("authenticates with the key alone: no 'none' request, one query and one signed request per connection", async () => {
    const pool = new SshPool();
    try {
      for (const port of h.ports) {
        const s = await pool.session(sshTargetOf(h, { port }));
        await s.writeFileAtomic(`${h.dataDir}/hs-${port}.env`, Buffer.from("A=1\n"), { mode: 0o600 });
      }
    } finally {
      await pool.closeAll();
    }
    expect(pool.connectCount).toBe(2);
    let methods: string[] = [];
    for (let i = 0; i < 50 && methods.length < 4; i++) {
      await sleep(50);
      methods = authMethods(readFileSync(h.logFile, "utf8"));
    }
    expect(methods).toEqual(["publickey", "publickey", "publickey", "publickey"]);
    expect(readFileSync(h.logFile, "utf8").match(/Accepted publickey for /g)).toHaveLength(2);
  });

  it("a prepared ed25519 key signs as ssh2's own parsed key; other text is left to ssh2", () => {
    const mine = preparePrivateKey(h.clientKeyPem)!;
    const theirs = parseKey(h.clientKeyPem);
    if (theirs instanceof Error) throw theirs;
    expect(mine.type).toBe("ssh-ed25519");
    expect(mine.isPrivateKey()).toBe(true);
    expect(mine.getPublicSSH().equals(theirs.getPublicSSH())).toBe(true);
    for (const data of [Buffer.alloc(0), Buffer.from("exchange hash"), Buffer.alloc(300, 7)])
      expect(mine.sign(data).equals(theirs.sign(data))).toBe(true);
    expect(preparePrivateKey("not a key")).toBeUndefined();
    expect(preparePrivateKey(h.hostKeyLine)).toBeUndefined(); // a public key signs nothing
  });
});

describe("harness login user (push bench)", () => {
  it("logs in with /bin/sh as its shell, writes files it owns, and is removed afterwards", async () => {
    if (userInfo().uid !== 0) {
      // useradd needs root; CI runs as root
      expect(() => createLoginUser("kftest")).toThrow();
      return;
    }
    const user = createLoginUser("kftest");
    let d: SshdHost | undefined;
    const pool = new SshPool();
    try {
      d = await startSshd({ user });
      expect(d.user).toBe("kftest");
      const s = await pool.session({
        host: d.host,
        port: d.port,
        user: d.user,
        privateKey: d.clientKeyPem,
        hostKey: d.hostKeyLine,
      });
      const r = await s.exec(["sh", "-c", 'echo "$(id -un) $(getent passwd "$(id -un)" | cut -d: -f7) $HOME"']);
      expect(r.stdout.toString().trim()).toBe(`kftest /bin/sh ${user.home}`);
      const w = await s.writeFileAtomic(`${d.dataDir}/u.env`, Buffer.from("B=2\n"), { mode: 0o600 });
      expect(w.owner).toBe("kftest");
      expect(readFileSync(`${d.dataDir}/u.env`, "utf8")).toBe("B=2\n");
    } finally {
      await pool.closeAll();
      await d?.stop();
      user.remove();
    }
    expect(spawnSync("id", ["kftest"]).status).not.toBe(0);
  });
});
