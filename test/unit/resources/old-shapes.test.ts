/**
 * Every provider method accepts prior outputs of older shapes: fields missing (state written before
 * they existed) or extra (fields since dropped). Before, SecretFile read crashed with "Cannot read
 * properties of undefined (reading 'map')" on olds without `recipients`.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { generateX25519 } from "../../../provider/age";
import * as sf from "../../../provider/resources/secret-file";
import * as he from "../../../provider/resources/host-env";
import * as rc from "../../../provider/resources/recipient";
import { hostEnvOlds, secretFileOlds } from "../../../provider/resources/olds";
import { tmpDirWithAgeKey } from "./age-key-env";

const alice = generateX25519();
const dir = tmpDirWithAgeKey("kf-old-shapes-", alice.identity);
const ins = (file: string) => ({
  path: join(dir, file),
  recipients: [{ name: "alice", recipient: alice.recipient }],
  values: { k: "v1" },
  auditLog: join(dir, "audit.jsonl"),
});

/** Fixtures: SecretFile outputs as older versions recorded them. */
function olderShapes(outs: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const {
    recipients: _r,
    recipientLabels: _l,
    exposure: _e,
    valueDigests: _v,
    digestsStale: _d,
    managedKeys: _m,
    ...v1
  } = outs;
  return {
    "no recipients, labels, exposure, digests (v0.0 shape)": v1,
    "path and sha only": { path: outs["path"], fileSha256: outs["fileSha256"] },
    "extra fields": { ...outs, recipientNames: ["alice"], legacyDigest: "abc", exposure: null },
  };
}

describe("SecretFile with olds of older shapes", async () => {
  const created = await sf.create(ins("a.yaml"));
  const shapes = olderShapes(created.outs as Record<string, unknown>);
  it.each(Object.keys(shapes))("read, diff, update and delete accept %s", async (shape) => {
    const olds = shapes[shape] as never;
    const r = await sf.read(created.id, olds);
    expect((r.props as sf.SecretFileOutputs).recipients.map((x) => x.recipient)).toEqual([alice.recipient]);
    const d = await sf.diff(created.id, olds, ins("a.yaml"));
    expect(d.replaces ?? []).toEqual([]);
    const u = await sf.update(created.id, olds, ins("a.yaml"));
    expect((u.outs as sf.SecretFileOutputs).recipients.map((x) => x.name)).toEqual(["alice"]);
    await expect(sf.delete(created.id, olds)).resolves.toBeUndefined(); // deleteFileOnDestroy missing: keeps the file
  });
  it("a missing field completes to its empty value", () => {
    expect(secretFileOlds({ path: "x/a.env" })).toMatchObject({
      format: "dotenv",
      recipients: [],
      exposure: [],
      valueDigests: {},
      deleteFileOnDestroy: false,
      auditLog: ".keyfleet/audit.jsonl",
    });
  });
});

describe("HostEnv with olds of older shapes", () => {
  const conn = {
    host: "127.0.0.1",
    port: 2222,
    user: "u",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  };
  it("diff of olds without host, port, sources or drift plans an update, not a replacement", async () => {
    // news as check passes them (with a credential); the olds are the old shape under test
    const d = await he.diff("id", { connection: conn, path: "/etc/app.env", extra: 1 } as never, {
      connection: { ...conn, privateKey: "k" },
      path: "/etc/app.env",
      sources: [],
    });
    expect(d).toMatchObject({ changes: true, replaces: [] });
  });
  it("host and port come from the recorded connection", () => {
    expect(hostEnvOlds({ connection: conn })).toMatchObject({
      host: "127.0.0.1",
      port: 2222,
      user: "u",
      drift: [],
      sources: [],
      keepOnDelete: false,
    });
    expect(hostEnvOlds({}).port).toBe(22);
  });
});

describe("Recipient with olds of older shapes", () => {
  it("read recomputes from the recorded recipient when publicKey is missing, and keeps an empty record", async () => {
    const r = await rc.read("id", { name: "alice", recipient: alice.recipient } as never);
    expect(r.props).toMatchObject({ name: "alice", recipient: alice.recipient, publicKey: alice.recipient });
    expect((await rc.read("id", { legacy: true } as never)).props).toEqual({ legacy: true });
  });
});
