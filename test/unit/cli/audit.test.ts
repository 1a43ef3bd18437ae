/**
 * `keyfleet audit` on a file with several key groups (Shamir): it must show each group's recipients
 * and the threshold, not claim that nobody can decrypt the file, and must not list any group member
 * as able to decrypt on their own.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { auditFile, formatAudit } from "../../../cli/audit";

const A = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw";
const SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK/F3pgrb+HcQAHQaRhKfCjRq8n3ICwQqLd8M8b02mDo";
const ENC =
  "|\n                -----BEGIN AGE ENCRYPTED FILE-----\n                YWdl\n                -----END AGE ENCRYPTED FILE-----";
const dir = mkdtempSync(join(tmpdir(), "kf-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shamir = [
  "db: ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
  "sops:",
  "    key_groups:",
  "        - age:",
  `            - recipient: ${A}`,
  `              enc: ${ENC}`,
  "        - age:",
  `            - recipient: ${SSH}`,
  `              enc: ${ENC}`,
  '    lastmodified: "2024-01-01T00:00:00Z"',
  "    mac: ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
  "    shamir_threshold: 2",
  "    version: 3.13.2",
  "",
].join("\n");

describe("audit of a Shamir file", () => {
  it("lists each key group and the threshold instead of 'no age entries'", () => {
    writeFileSync(join(dir, "s.yaml"), shamir);
    const f = auditFile(join(dir, "s.yaml"), "s.yaml", new Map([[A, "alice"]]));
    expect(f?.keyGroups).toBe(2);
    expect(f?.groups?.threshold).toBe(2);
    expect(f?.groups?.recipients.map((g) => g.map((r) => r.recipient))).toEqual([[A], [SSH]]);
    const text = formatAudit([f!]);
    expect(text).toContain("key groups: 2 of 2 groups needed to decrypt");
    expect(text).toMatch(/group 1: alice \(age1/);
    expect(text).toMatch(/group 2: ssh-ed25519 AAAA/);
    expect(text).not.toContain("no age entries");
    // nobody decrypts a Shamir file alone
    expect(text.split("who can decrypt what:")[1]).not.toContain("alice");
  });
});
