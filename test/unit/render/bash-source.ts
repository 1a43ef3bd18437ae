/**
 * Reads an env file with a real bash: `set -a; source FILE`, then prints the named variables
 * NUL-separated. Values go in and out through files/pipes only (test data, not secrets).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Source many files in one bash run; returns each file's values for `keys[i]`, or an error string. */
export function bashSourceMany(
  files: { text: string; keys: string[] }[],
): ({ values: string[] } | { error: string })[] {
  const dir = mkdtempSync(join(tmpdir(), "kf-render-"));
  try {
    const script: string[] = [];
    files.forEach((f, i) => {
      const p = join(dir, `f${i}.env`);
      writeFileSync(p, f.text);
      const names = f.keys.join(" ");
      // subshell per file: variables of one file cannot leak into the next
      script.push(
        `( set -a; if ! source '${p}' 2>/dev/null; then printf 'ERR%s\\0' ${i}; exit 0; fi; printf 'OK%s\\0' ${i}; for n in ${names}; do if [ -n "\${!n+x}" ]; then printf '%s\\0' "\${!n}"; else printf 'UNSET\\1\\0'; fi; done )`,
      );
    });
    const scriptFile = join(dir, "read.sh");
    writeFileSync(scriptFile, script.join("\n") + "\n");
    const r = spawnSync("bash", ["--noprofile", "--norc", scriptFile], {
      env: { PATH: "/usr/bin:/bin", LC_ALL: "C.UTF-8" },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0)
      throw new Error(`bash failed (${r.status}, ${r.error?.message ?? ""}): ${r.stderr?.toString()}`);
    const parts = r.stdout.toString("utf8").split("\0");
    const res: ({ values: string[] } | { error: string })[] = [];
    let j = 0;
    for (let i = 0; i < files.length; i++) {
      const head = parts[j++];
      if (head === `ERR${i}`) {
        res.push({ error: "source failed" });
        continue;
      }
      if (head !== `OK${i}`) throw new Error(`unexpected bash output at file ${i}: ${head}`);
      const vals: string[] = [];
      for (let k = 0; k < files[i]!.keys.length; k++) vals.push(parts[j++]!);
      res.push({ values: vals });
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
