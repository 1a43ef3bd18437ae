// The corpus of real sops files (test/vectors/real, sources in SOURCES.md and manifest.json): files that
// sops 3.7-3.13 wrote in public repositories which also publish the age (or ssh) test key.
// - decrypt agrees leaf for leaf with what the file holds (every ENC value opens under its path's AAD,
//   clear values stay as written, the MAC matches);
// - files written by sops 3.13: re-emitting changes nothing; `set` of one leaf changes exactly that value's
//   line(s), `mac` and `lastmodified`; adding a recipient changes only the age list, the new entry last;
// - decrypt output equals what sops prints for the repository's plaintext (go-yaml v3 oracle), same values.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  generateX25519,
  parseIdentities,
  parseRecipient,
  sshToAgeIdentity,
  type AgeIdentity,
} from "../../../provider/age/index.js";
import {
  decrypt,
  listKeys,
  readMetadata,
  replaceAgeEntries,
  setValues,
  updateRecipients,
  type SopsFormat,
} from "../../../provider/sops/index.js";
import { loadEncrypted } from "../../../provider/sops/core.js";
import { yamlStore } from "../../../provider/sops/stores/yaml.js";
import { runOracle } from "../../harness/oracles.js";

const DIR = resolve(__dirname, "../../vectors/real");
interface Entry {
  file: string;
  format: SopsFormat;
  version: string;
  plain?: string;
}
interface Repo {
  dir: string;
  repo: string;
  keys: string[];
  files: Entry[];
}
const MANIFEST = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")) as Repo[];

function identities(r: Repo): AgeIdentity[] {
  return r.keys.flatMap((k) => {
    const text = readFileSync(join(DIR, r.dir, k), "utf8");
    const ids = parseIdentities(text, `${r.dir}/${k}`);
    // an OpenSSH key also opens its ssh-to-age X25519 recipient, as sops-nix converts host keys
    return text.includes("OPENSSH PRIVATE KEY")
      ? [...ids, ...parseIdentities(sshToAgeIdentity(text), `${r.dir}/${k} (ssh-to-age)`)]
      : ids;
  });
}

/** Lines of `a` and `b` that differ, by index (same line count required). */
function changedLines(a: string, b: string): string[] {
  const x = a.split("\n");
  const y = b.split("\n");
  expect(y.length).toBe(x.length);
  return x.flatMap((l, i) => (l === y[i] ? [] : [l.replace(/^(\s*(?:- )?[^:=\s]+\s*[:=]).*$/, "$1")]));
}

const is313 = (e: Entry): boolean => e.version.startsWith("3.13.");

describe("real sops files: the corpus itself", () => {
  it("holds at least the files listed in manifest.json, each with its key", () => {
    const files = MANIFEST.flatMap((r) => r.files);
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(new Set(MANIFEST.map((r) => r.repo)).size).toBeGreaterThanOrEqual(10);
    for (const f of ["yaml", "json", "dotenv", "ini", "binary"]) expect(files.some((e) => e.format === f)).toBe(true);
    for (const v of ["3.7.", "3.8.", "3.9.", "3.10.", "3.11.", "3.12.", "3.13."])
      expect(files.some((e) => e.version.startsWith(v))).toBe(true);
  });
});

for (const r of MANIFEST) {
  describe(`${r.repo}`, () => {
    const ids = identities(r);
    for (const e of r.files) {
      const path = join(DIR, r.dir, e.file);
      const text = readFileSync(path, "utf8");

      it(`${e.file} (sops ${e.version}, ${e.format}): decrypt agrees leaf for leaf`, async () => {
        expect(readMetadata(text, e.format, e.file).version).toBe(e.version);
        const d = await decrypt(text, { format: e.format, identities: ids, file: e.file });
        const listed = listKeys(text, e.format, e.file);
        expect(d.leaves.map((l) => l.path)).toEqual(listed.map((l) => l.path));
        const { tree } = loadEncrypted(text, e.format, e.file);
        // a clear leaf keeps the value the file holds; an encrypted one is no longer an ENC string
        const raw: unknown[] = [];
        const walk = (n: unknown): void => {
          const o = n as { kind: string; items?: unknown[]; value?: unknown };
          if (o.kind === "scalar") {
            if (o.value !== null) raw.push(o.value);
          } else
            for (const it of o.items ?? [])
              if ((it as { kind: string }).kind !== "comment")
                walk(
                  (it as { kind: string; value?: unknown }).kind === "entry" ? (it as { value: unknown }).value : it,
                );
        };
        for (const doc of tree) walk(doc);
        expect(raw.length).toBe(d.leaves.length);
        d.leaves.forEach((l, i) => {
          const stored = raw[i];
          if (listed[i]?.encrypted) {
            expect(String(stored)).toMatch(/^ENC\[AES256_GCM,/);
            expect(String(l.value)).not.toMatch(/^ENC\[AES256_GCM,/);
          } else expect(l.value).toEqual(typeof stored === "bigint" ? Number(stored) : stored);
        });
      });

      if (e.plain) {
        it(`${e.file}: decrypt prints what sops prints for the repository's plaintext ${e.plain}`, async () => {
          const plain = readFileSync(join(DIR, r.dir, e.plain as string), "utf8");
          const d = await decrypt(text, { format: e.format, identities: ids, file: e.file });
          const out = d.emit() as string;
          expect(out).toBe(runOracle("yaml-oracle", plain, ["4"]));
          expect(yamlStore.parsePlain(out).tree).toEqual(yamlStore.parsePlain(plain).tree);
        });
      }

      if (is313(e)) {
        it(`${e.file}: re-emitting a sops ${e.version} file changes no byte`, () => {
          const { meta } = loadEncrypted(text, e.format, e.file);
          expect(replaceAgeEntries(text, e.format, meta.age, e.file)).toBe(text);
        });

        it(`${e.file}: set of one leaf changes exactly that value, mac and lastmodified`, async () => {
          const d = await decrypt(text, { format: e.format, identities: ids, file: e.file });
          const target = d.leaves.find((l, i) => typeof l.value === "string" && listKeys(text, e.format)[i]?.encrypted);
          expect(target).toBeDefined();
          const out = await setValues(text, {
            format: e.format,
            identities: ids,
            file: e.file,
            changes: [{ path: target!.path, value: `${String(target!.value)}-changed` }],
          });
          const changed = changedLines(text, out);
          expect(changed).toHaveLength(3);
          expect(changed).toContain("    lastmodified:");
          expect(changed).toContain("    mac:");
          const key = String(target!.path[target!.path.length - 1]);
          if (target!.path.some((p) => typeof p === "number" || /^\d+$/.test(String(p)))) {
            // a leaf inside a list item (a Kubernetes-style list of maps): its key line, `- ` marker kept
            expect(changed.filter((l) => l !== "    lastmodified:" && l !== "    mac:")).toEqual([
              expect.stringMatching(new RegExp(`^ +(- )?${key}:$`)),
            ]);
          } else expect(changed).toContain(`${" ".repeat(4 * (target!.path.length - 1))}${key}:`);
          // the written file opens again with its MAC checked (mac_only_encrypted files included)
          const again = await decrypt(out, { format: e.format, identities: ids, file: e.file });
          expect(again.leaves.find((l) => JSON.stringify(l.path) === JSON.stringify(target!.path))?.value).toBe(
            `${String(target!.value)}-changed`,
          );
        });

        it(`${e.file}: adding a recipient changes only the age list, the new entry after the others`, async () => {
          const { meta } = loadEncrypted(text, e.format, e.file);
          const newcomer = generateX25519();
          const recipients = [...meta.age.map((a) => parseRecipient(a.recipient)), parseRecipient(newcomer.recipient)];
          const res = await updateRecipients(text, { format: e.format, identities: ids, recipients, file: e.file });
          expect(res.added).toEqual([newcomer.recipient]);
          const before = text.split("\n");
          const after = res.text.split("\n");
          // the original lines are all there, in order; the inserted block is one age entry, right after the last one
          const lastAgeLine = before.findIndex(
            (l, i) => i > 0 && /^ {10}recipient: /.test(l) && !/^ {8}- |^ {10}/.test(before[i + 1] ?? ""),
          );
          expect(lastAgeLine).toBeGreaterThan(0);
          const inserted = after.slice(lastAgeLine + 1, lastAgeLine + 1 + (after.length - before.length));
          expect([...after.slice(0, lastAgeLine + 1), ...after.slice(lastAgeLine + 1 + inserted.length)]).toEqual(
            before,
          );
          expect(inserted[0]).toBe("        - enc: |");
          expect(inserted[1]).toBe("            -----BEGIN AGE ENCRYPTED FILE-----");
          expect(inserted[inserted.length - 1]).toBe(`          recipient: ${newcomer.recipient}`);
          const byNewcomer = await decrypt(res.text, {
            format: e.format,
            identities: parseIdentities(newcomer.identity, "newcomer"),
            file: e.file,
          });
          expect(byNewcomer.leaves.length).toBeGreaterThan(0);
        });
      }
    }
  });
}
