/**
 * Issue 9 §3: HostEnv input checks that cannot be bypassed. Every CRUD method (create, update, read,
 * delete, diff) validates again, so calling one without check changes nothing. The connection points
 * at a closed loopback port: a method that got past validation would fail with a connection error
 * instead of the typed input error asserted here.
 */
import { describe, expect, it } from "vitest";
import { check, HostEnvInputError } from "../../../provider/resources/host-env-inputs";
import * as hostEnv from "../../../provider/resources/host-env";

const HOSTKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
// port 1 on loopback: nothing listens, so reaching the network would give a connection error
const good = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  connection: { host: "127.0.0.1", port: 1, user: "deploy", privateKey: "KEY", hostKey: HOSTKEY },
  path: "/etc/app/app.env",
  sources: [],
  env: { A: "1" },
  ...extra,
});
const olds = (extra: Record<string, unknown> = {}) =>
  ({
    ...good(),
    port: 1,
    host: "127.0.0.1",
    mode: "0600",
    owner: "",
    group: "",
    sourceDigests: [],
    sourceFiles: [],
    restartUnits: [],
    onChange: "",
    keepOnDelete: false,
    drift: [],
    ...extra,
  }) as unknown as hostEnv.HostEnvOutputs;

const HUGE = "/" + "a".repeat(100 * 1024);
const bad: { name: string; input: Record<string, unknown>; property: string; reason: RegExp }[] = [
  { name: "mode 4777 (setuid)", input: good({ mode: "4777" }), property: "mode", reason: /setuid/ },
  { name: "mode 7777", input: good({ mode: "7777" }), property: "mode", reason: /allowUnsafeMode/ },
  { name: "mode 0666 (world write)", input: good({ mode: "0666" }), property: "mode", reason: /world-write/ },
  { name: "mode 2750 (setgid)", input: good({ mode: "2750" }), property: "mode", reason: /setgid/ },
  { name: "mode 1600 (sticky)", input: good({ mode: "1600" }), property: "mode", reason: /sticky/ },
  { name: "mode 0620 (group write)", input: good({ mode: "0620" }), property: "mode", reason: /group-write/ },
  { name: "mode 0x1ff", input: good({ mode: "0x1ff" }), property: "mode", reason: /octal string/ },
  { name: "mode 0o600", input: good({ mode: "0o600" }), property: "mode", reason: /octal string/ },
  { name: "path with CR", input: good({ path: "/etc/app/a\r.env" }), property: "path", reason: /CR/ },
  { name: "path with NUL", input: good({ path: "/etc/app/a\0.env" }), property: "path", reason: /NUL/ },
  { name: "path with LF", input: good({ path: "/etc/app/a\n.env" }), property: "path", reason: /LF/ },
  { name: "path of 100 KB", input: good({ path: HUGE }), property: "path", reason: /longer than 4096 bytes/ },
  {
    name: "path of 4097 bytes in 2-byte characters",
    input: good({ path: "/" + "é".repeat(2048) }),
    property: "path",
    reason: /longer than 4096 bytes/,
  },
  {
    name: "allowUnsafeMode not a boolean",
    input: good({ mode: "0666", allowUnsafeMode: "yes" }),
    property: "allowUnsafeMode",
    reason: /boolean/,
  },
  {
    name: "showRestartOutput not a boolean",
    input: good({ showRestartOutput: 1 }),
    property: "showRestartOutput",
    reason: /boolean/,
  },
];

describe("HostEnv input checks in every method", () => {
  for (const r of bad) {
    it(`check refuses ${r.name}`, async () => {
      const f = (await check({}, r.input)).failures ?? [];
      expect(
        f.some((x) => x.property === r.property && r.reason.test(x.reason)),
        JSON.stringify(f).slice(0, 500),
      ).toBe(true);
    });
    it(`create, update and diff refuse ${r.name} without check, before any connection`, async () => {
      const ops: [string, () => Promise<unknown>][] = [
        ["create", () => hostEnv.create(r.input as never)],
        ["update", () => hostEnv.update("id", olds(), r.input as never)],
        ["diff", () => hostEnv.diff("id", olds({ path: r.input["path"] }), r.input)],
      ];
      for (const [op, call] of ops) {
        const e = await call().then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e, op).toBeInstanceOf(HostEnvInputError);
        const msg = (e as Error).message;
        expect(msg).toContain(`HostEnv ${op} refused invalid inputs`);
        expect(msg).toMatch(r.reason);
        expect(msg.length).toBeLessThan(1000); // never echoes a 100 KB path
        expect(msg).not.toContain("KEY"); // nor the private key
      }
    });
  }

  it("read and delete refuse a bad path or connection from state, before any connection", async () => {
    for (const path of ["/a\r.env", "/a\0.env", HUGE, "relative.env"]) {
      for (const [op, call] of [
        ["read", () => hostEnv.read("id", olds({ path }))],
        ["delete", () => hostEnv.delete("id", olds({ path }))],
      ] as const) {
        const e = await call().then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e, `${op} ${path.slice(0, 20)}`).toBeInstanceOf(HostEnvInputError);
        expect((e as Error).message.length).toBeLessThan(1000);
      }
    }
    const noKey = olds({ connection: { host: "127.0.0.1", port: 1, user: "u", privateKey: "k" } });
    await expect(hostEnv.read("id", noKey)).rejects.toThrow(/hostKey is required/);
  });

  it("a 100 KB path is refused fast with a short error, by check and create", async () => {
    const t0 = Date.now();
    const f = (await check({}, good({ path: HUGE }))).failures ?? [];
    expect(JSON.stringify(f).length).toBeLessThan(300);
    await expect(hostEnv.create(good({ path: HUGE }) as never)).rejects.toThrow(/longer than 4096 bytes/);
    expect(Date.now() - t0).toBeLessThan(5000); // generous: it took 27 s before
  });

  it("allowUnsafeMode: true lets a deliberate mode through check", async () => {
    expect((await check({}, good({ mode: "0666", allowUnsafeMode: true }))).failures).toEqual([]);
    expect((await check({}, good({ mode: "2750", allowUnsafeMode: true }))).failures).toEqual([]);
    expect((await check({}, good({ mode: "0640" }))).failures).toEqual([]);
    expect((await check({}, good({ mode: "0400" }))).failures).toEqual([]);
  });
});
