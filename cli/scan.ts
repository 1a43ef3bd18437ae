/**
 * `keyfleet scan [--staged | --history | PATH…]`: the leak gate. Checks that files meant to be
 * secret are sops files (structure rule), and searches the scanned content in one multi-pattern
 * pass for every value of the sops files the user's identities open (verbatim, base64,
 * URL-encoded, hex, split across a line break in a quoted string). Values stay in memory.
 */
import { readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { AgeIdentity } from "../provider/age";
import { KeyfleetError } from "../provider/errors";
import { loadConfigFor } from "../provider/sops";
import { DEFAULT_SKIP, type SkipRules } from "../provider/access/scan/encodings";
import {
  firstCommitWith,
  gitTop,
  historyBlobs,
  MAX_BLOB_BYTES,
  readObjects,
  stagedPaths,
  trackedPaths,
} from "../provider/access/scan/git";
import { buildMatcher, loadInventory, type SopsCandidate } from "../provider/access/scan/inventory";
import {
  formatFinding,
  scanTarget,
  type Finding,
  type ScanContext,
  type ScanTarget,
} from "../provider/access/scan/scan";
import type { StructureConfig } from "../provider/access/scan/structure";
import { UsageError, type CliIo, type ParsedArgs } from "./args";
import { walkFiles } from "./audit";
import { sopsVerb } from "./exit-codes";
import { strFlag } from "./files";
import { loadIdentities } from "./identities";
import { projectDir } from "./recipient-names";
import { pendingFindings } from "./pending-view";

/** Default bound on the commits `--history` walks. */
const DEFAULT_MAX_COMMITS = 10_000;

function intFlag(args: ParsedArgs, name: string, dflt: number): number {
  const v = strFlag(args.flags[name]);
  if (v === undefined) return dflt;
  if (!/^\d{1,9}$/.test(v))
    throw new UsageError("scan", `--${name} must be a whole number, got ${JSON.stringify(v.slice(0, 20))}`);
  return Number(v);
}

const toPosix = (p: string): string => p.split(sep).join("/");

/** The structure config of the scan root: its `.sops.yaml` (searched upwards) and the exemptions. */
function structureConfig(root: string, allow: string | undefined): StructureConfig {
  const cfg = loadConfigFor(join(root, ".keyfleet-scan-probe"));
  const allowPlain = (allow ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!cfg) return { rules: [], relToConfig: () => undefined, allowPlain };
  return {
    rules: cfg.rules,
    allowPlain,
    relToConfig: (p) => {
      const rel = toPosix(relative(cfg.dir, join(root, p)));
      return rel.startsWith("../") || isAbsolute(rel) ? undefined : rel;
    },
  };
}

function readSmall(path: string, limit: number): Buffer | undefined {
  try {
    if (statSync(path).size > limit) return undefined;
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Bytes of file content kept between the inventory pass and the scan pass (so each file is read once). */
const MAX_CACHE_BYTES = 512 * 1024 * 1024;

/**
 * Sops candidates of the repository or project: tracked files (git) or every file under root.
 * Contents read are kept in `cache` (by absolute path, up to {@link MAX_CACHE_BYTES}) for the scan.
 */
function sopsCandidates(root: string, git: boolean, cache?: Map<string, Buffer>): SopsCandidate[] {
  const paths = git ? trackedPaths(root).map((p) => join(root, p)) : walkFiles(root);
  const out: SopsCandidate[] = [];
  let cached = 0;
  for (const abs of paths) {
    const b = readSmall(abs, 16 * 1024 * 1024);
    if (b && cache && cached + b.length <= MAX_CACHE_BYTES) {
      cache.set(resolve(abs), b);
      cached += b.length;
    }
    if (!b || !b.includes("sops")) continue;
    out.push({ path: toPosix(relative(root, abs)), text: b.toString("utf8") });
  }
  return out;
}

/** The scan verb. */
export const scanVerb = sopsVerb(
  {
    name: "scan",
    summary: "leak gate: fail if a secret value or a plaintext secret file is in the scanned content",
    usage: "[--staged | --history | PATH…] [--public] [--max-pending-days N]",
    details:
      "Structure: a file that a .sops.yaml creation rule (with path_regex) covers, or that matches *.env*\n" +
      "or secrets/**, must be a sops file with metadata and mac. Values: every sops file your identities\n" +
      "open is decrypted in memory, and each encrypted value is searched verbatim, base64, URL-encoded,\n" +
      "hex and split across a line break inside a quoted string. Hits print path:line:column, the sops\n" +
      "file and the key, never the value. Without a key only the structure rule runs (said on stderr).\n" +
      "Exit 1 when anything is found.\n" +
      "example: keyfleet scan --staged",
    flags: {
      staged: { type: "boolean", description: "scan what is about to be committed (the git index)" },
      history: { type: "boolean", description: "scan every blob reachable from HEAD (bounded by --max-commits)" },
      "max-commits": {
        type: "string",
        valueName: "N",
        description: `commits --history walks (default ${DEFAULT_MAX_COMMITS})`,
      },
      public: {
        type: "boolean",
        description: "also fail on recipients, key fingerprints and key names (a tree to publish)",
      },
      "min-length": {
        type: "string",
        valueName: "N",
        description: `values shorter than N characters are not searched (default ${DEFAULT_SKIP.minLength})`,
      },
      "min-number-digits": {
        type: "string",
        valueName: "N",
        description: `pure numbers with fewer digits are not searched (default ${DEFAULT_SKIP.minNumberDigits})`,
      },
      "include-booleans": { type: "boolean", description: "also search values true/false (skipped by default)" },
      "allow-plain": {
        type: "string",
        valueName: "GLOB,…",
        description: "paths exempt from the structure rule, e.g. .env.example",
      },
      "no-key": { type: "boolean", description: "do not decrypt: structure rule (and --public) only" },
      "max-pending-days": {
        type: "string",
        valueName: "N",
        description: "also fail when a rotation has been pending more than N days",
      },
      json: { type: "boolean", description: "print the findings as JSON" },
    },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    const staged = args.flags.staged === true;
    const history = args.flags.history === true;
    if ((staged ? 1 : 0) + (history ? 1 : 0) + (args.positionals.length ? 1 : 0) > 1)
      throw new UsageError("scan", "give one of --staged, --history or PATHs");
    const skip: SkipRules = {
      minLength: intFlag(args, "min-length", DEFAULT_SKIP.minLength),
      minNumberDigits: intFlag(args, "min-number-digits", DEFAULT_SKIP.minNumberDigits),
      skipBooleans: args.flags["include-booleans"] !== true,
    };
    const maxCommits = intFlag(args, "max-commits", DEFAULT_MAX_COMMITS);
    const maxPendingDays =
      strFlag(args.flags["max-pending-days"]) === undefined ? undefined : intFlag(args, "max-pending-days", 0);
    const git = staged || history;
    const root = git ? gitTop(process.cwd()) : projectDir(args.positionals[0] ?? ".");
    const started = performance.now();

    // the inventory: values in memory only
    const cache = new Map<string, Buffer>();
    const candidates = sopsCandidates(root, git, git ? undefined : cache);
    let stagedTargets: ScanTarget[] = [];
    if (staged) {
      const paths = stagedPaths(root);
      await readObjects(
        root,
        paths.map((p) => `:${p}`),
        (i, data) => {
          if (data) stagedTargets.push({ path: paths[i] as string, data, origin: "staged" });
        },
      );
      for (const t of stagedTargets)
        if (Buffer.from(t.data).includes("sops"))
          candidates.push({ path: t.path, text: Buffer.from(t.data).toString("utf8") });
    }
    let identities: AgeIdentity[] | undefined;
    if (args.flags["no-key"] !== true) {
      const ids = await loadIdentities(io);
      if (ids.identities.length) identities = ids.identities;
    }
    const inventory = await loadInventory(candidates, identities);
    const matcher = buildMatcher(inventory, { skip, public: args.flags.public === true });
    const ctx: ScanContext = {
      inventory,
      matcher,
      structure: structureConfig(root, strFlag(args.flags["allow-plain"])),
      public: args.flags.public === true,
    };
    if (!identities)
      io.stderr(
        `keyfleet scan: no age identity${args.flags["no-key"] === true ? " (--no-key)" : " found"}: structure check only, values are not searched\n`,
      );
    else if (inventory.undecrypted.length)
      io.stderr(
        `keyfleet scan: your identities do not open ${inventory.undecrypted.join(", ")}: their values are not searched\n`,
      );
    for (const b of inventory.broken) io.stderr(`keyfleet scan: ${b.path}: ${b.reason}\n`);

    const findings: Finding[] = [];
    let files = 0;
    let bytes = 0;
    const scanOne = (t: ScanTarget): void => {
      files++;
      bytes += t.data.length;
      findings.push(...scanTarget(t, ctx));
    };
    if (staged) {
      stagedTargets.forEach(scanOne);
      stagedTargets = [];
    } else if (history) {
      const { blobs, commits } = historyBlobs(root, maxCommits);
      io.stderr(`keyfleet scan: history: ${commits} commits, ${blobs.length} blobs\n`);
      const step = Math.max(1000, Math.ceil(blobs.length / 10));
      await readObjects(
        root,
        blobs.map((b) => b.id),
        (i, data) => {
          const b = blobs[i] as { id: string; path: string };
          if (data) {
            const before = findings.length;
            scanOne({ path: b.path, data });
            if (findings.length > before) {
              const commit = firstCommitWith(root, b.id);
              const origin = commit ? `commit ${commit}` : `blob ${b.id.slice(0, 12)}`;
              findings.splice(
                before,
                findings.length - before,
                ...findings.slice(before).map((f) => ({ ...f, origin })),
              );
            }
          }
          if ((i + 1) % step === 0) io.stderr(`keyfleet scan: history: ${i + 1}/${blobs.length} blobs\n`);
        },
      );
    } else {
      const inputs = args.positionals.length ? args.positionals : ["."];
      for (const p of inputs) {
        let isDir: boolean;
        try {
          isDir = statSync(p).isDirectory();
        } catch {
          throw new KeyfleetError("IO_READ", `cannot read ${p}: not found`, {
            file: p,
            hint: "pass existing files or directories",
          });
        }
        for (const abs of isDir ? walkFiles(p) : [p]) {
          const data = cache.get(resolve(abs)) ?? readSmall(abs, MAX_BLOB_BYTES);
          if (!data) {
            io.stderr(`keyfleet scan: ${abs}: skipped (unreadable or larger than ${MAX_BLOB_BYTES} bytes)\n`);
            continue;
          }
          scanOne({ path: toPosix(relative(root, resolve(abs))), data });
        }
      }
    }
    cache.clear();
    if (maxPendingDays !== undefined)
      findings.push(...(await pendingFindings(projectDir(root), maxPendingDays, identities)));

    const ms = performance.now() - started;
    if (args.flags.json === true) io.stdout(JSON.stringify(findings, null, 2) + "\n");
    else for (const f of findings) io.stdout(formatFinding(f) + "\n");
    const what = identities ? `${matcher.valuesSearched} values (${matcher.valuesSkipped} skipped)` : "no values";
    io.stderr(
      `keyfleet scan: ${files} files, ${(bytes / 1e6).toFixed(1)} MB, ${what} from ${inventory.sopsFiles.length} sops files in ${(ms / 1000).toFixed(2)} s: ` +
        (findings.length ? `FAILED, ${findings.length} finding${findings.length === 1 ? "" : "s"}\n` : "ok\n"),
    );
    return findings.length ? 1 : 0;
  },
);
