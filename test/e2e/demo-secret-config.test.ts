/**
 * The demo's pulumi-CLI path hands secret config to `pulumi config set --secret` on stdin, never on
 * the command line or in the environment (the Automation API's Stack.setConfig passes the value as
 * an argument). The CLI is not installed here, so a stand-in `pulumi` script on PATH records what it
 * was given: its arguments, its environment and its stdin.
 */
import { afterAll, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setSecretConfig } from "../../examples/demo/engines";

const dir = mkdtempSync(join(tmpdir(), "kf-demo-secret-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VALUE = "kfdemo-config-value-5f1e";

describe("demo secret config with the pulumi CLI", () => {
  it("the value reaches pulumi config set --secret on stdin only", () => {
    const bin = join(dir, "bin");
    const log = join(dir, "log");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "pulumi"),
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}.argv'\nenv > '${log}.env'\ncat > '${log}.stdin'\n`,
    );
    chmodSync(join(bin, "pulumi"), 0o755);
    setSecretConfig(dir, "demo", "keyfleet:apiToken", VALUE, {
      PATH: `${bin}:${process.env["PATH"] ?? ""}`,
      PULUMI_CONFIG_PASSPHRASE: "pw",
    });
    expect(readFileSync(`${log}.argv`, "utf8").split("\n").filter(Boolean)).toEqual([
      "config",
      "set",
      "keyfleet:apiToken",
      "--secret",
      "--stack",
      "demo",
      "--non-interactive",
    ]);
    expect(readFileSync(`${log}.stdin`, "utf8")).toBe(VALUE);
    expect(readFileSync(`${log}.env`, "utf8")).not.toContain(VALUE);
  });

  it("a failing CLI is an error naming the key, not the value", () => {
    const bin = join(dir, "bin-fail");
    mkdirSync(bin);
    writeFileSync(join(bin, "pulumi"), "#!/bin/sh\ncat >/dev/null\necho 'error: no stack named demo' >&2\nexit 255\n");
    chmodSync(join(bin, "pulumi"), 0o755);
    expect(() =>
      setSecretConfig(dir, "demo", "keyfleet:apiToken", VALUE, { PATH: `${bin}:${process.env["PATH"] ?? ""}` }),
    ).toThrow(/^pulumi config set keyfleet:apiToken --secret failed \(255\): error: no stack named demo$/);
  });
});
