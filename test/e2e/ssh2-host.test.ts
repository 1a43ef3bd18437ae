/**
 * The demo's fallback host (examples/demo/ssh2-host.ts, used where OpenSSH sshd is missing) runs
 * what keyfleet runs on a real host: pinned connection, atomic verified write, stat, exec, remove.
 * A wrong pinned key and a wrong client key are refused. Driven through provider/ssh from dist/.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");
const load = createRequire(join(root, "package.json"));
const { startSsh2Host } = load(
  join(root, "dist/examples/demo/ssh2-host.js"),
) as typeof import("../../examples/demo/ssh2-host");
const ssh = load(join(root, "dist/provider/ssh/index.js")) as typeof import("../../provider/ssh");
const { utils } = load("ssh2") as typeof import("ssh2");

let host: Awaited<ReturnType<typeof startSsh2Host>>;
let pool: InstanceType<typeof ssh.SshPool>;

beforeAll(async () => {
  host = await startSsh2Host();
  pool = new ssh.SshPool();
});
afterAll(async () => {
  await pool?.closeAll();
  await host?.stop();
});

const target = (o: { hostKey?: string; privateKey?: string } = {}) => ({
  host: host.host,
  port: host.port,
  user: host.user,
  privateKey: o.privateKey ?? host.clientKeyPem,
  hostKey: o.hostKey ?? host.hostKeyLine,
});

describe("ssh2-server demo host", () => {
  it("scans to its pinned key and takes an atomic, verified write", async () => {
    expect(await ssh.scanHostKey(host.host, host.port)).toBe(host.hostKeyLine);
    const s = await pool.session(target());
    const path = join(host.dataDir, "app.env");
    const content = Buffer.from("A='x y'\nB=\"$HOME\"\n");
    const w = await s.writeFileAtomic(path, content, { mode: 0o600 });
    expect(readFileSync(path)).toEqual(content);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const st = await s.stat(path);
    expect(st).toMatchObject({ exists: true, mode: 0o600, sha256: w.sha256 });
    const r = await s.exec(["sh", "-c", "cat; echo done >&2; exit 3"], { stdin: Buffer.from("in") });
    expect({ code: r.code, out: r.stdout.toString(), err: r.stderr.toString() }).toEqual({
      code: 3,
      out: "in",
      err: "done\n",
    });
    await s.remove(path);
    expect(existsSync(path)).toBe(false);
  });

  it("is refused under a wrong pin, and refuses a client key it does not know", async () => {
    const other = utils.generateKeyPairSync("ed25519");
    const fresh = new ssh.SshPool();
    try {
      await expect(fresh.session(target({ hostKey: other.public.split(" ").slice(0, 2).join(" ") }))).rejects.toThrow(
        /SHA256:/,
      );
      await expect(fresh.session(target({ privateKey: other.private }))).rejects.toThrow();
    } finally {
      await fresh.closeAll();
    }
  });
});
