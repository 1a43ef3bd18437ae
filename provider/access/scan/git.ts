/**
 * What the leak gate reads from git: the staged content (the index) and every blob reachable from
 * HEAD. git runs with argv arrays; object names go to `git cat-file --batch` on stdin and contents
 * come back on its stdout, so nothing secret is ever an argument and nothing is written to disk.
 */
import { spawn, spawnSync } from "node:child_process";
import { KeyfleetError } from "../../errors";
import { gitEnv } from "../git-env";

export { gitEnv };

/** Upper bound on one git command's buffered output (name lists). */
const MAX_LIST_BYTES = 256 * 1024 * 1024;
/** Upper bound on one blob read; larger blobs are reported as skipped. */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;

function git(cwd: string, args: string[], what: string): Buffer {
  const r = spawnSync("git", args, { cwd, env: gitEnv(), maxBuffer: MAX_LIST_BYTES, timeout: 120_000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr.toString("utf8").trim().split("\n")[0] ?? `exit ${r.status}`);
    throw new KeyfleetError("GIT", `cannot ${what}: git ${args[0]} failed: ${why}`, {
      file: cwd,
      hint: "run keyfleet scan inside a git repository (with a commit for --history)",
    });
  }
  return r.stdout;
}

/** The top directory of the repository holding `cwd`. @throws KeyfleetError `GIT` */
export function gitTop(cwd: string): string {
  return git(cwd, ["rev-parse", "--show-toplevel"], "find the git repository").toString("utf8").trim();
}

/** Paths (relative to the top) added, copied, modified or renamed in the index. */
export function stagedPaths(top: string): string[] {
  const out = git(
    top,
    ["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"],
    "list the staged files",
  ).toString("utf8");
  return out.split("\0").filter((p) => p !== "" && !p.includes("\n"));
}

/** Paths tracked in the index (for finding the sops files of the repository). */
export function trackedPaths(top: string): string[] {
  const out = git(top, ["ls-files", "-z"], "list the tracked files").toString("utf8");
  return out.split("\0").filter((p) => p !== "" && !p.includes("\n"));
}

/** One blob of history: its id and the path it was first seen under. */
export interface HistoryBlob {
  readonly id: string;
  readonly path: string;
}

/**
 * Blobs reachable from the last `maxCommits` commits of HEAD, each once, with a path it had.
 * @throws KeyfleetError `GIT` (no repository, no commit)
 */
export function historyBlobs(top: string, maxCommits: number): { blobs: HistoryBlob[]; commits: number } {
  const commits = git(top, ["rev-list", `--max-count=${maxCommits}`, "HEAD"], "list the commits")
    .toString("utf8")
    .split("\n")
    .filter(Boolean).length;
  const objs = git(
    top,
    ["rev-list", "--objects", `--max-count=${maxCommits}`, "HEAD"],
    "list the objects of history",
  ).toString("utf8");
  const withPath: HistoryBlob[] = [];
  for (const line of objs.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp > 0) withPath.push({ id: line.slice(0, sp), path: line.slice(sp + 1) });
  }
  // keep blobs only (trees carry paths too)
  const r = spawnSync("git", ["cat-file", "--batch-check=%(objecttype)"], {
    cwd: top,
    env: gitEnv(),
    input: withPath.map((b) => b.id).join("\n") + "\n",
    maxBuffer: MAX_LIST_BYTES,
  });
  if (r.status !== 0)
    throw new KeyfleetError("GIT", "cannot read the object types of history: git cat-file failed", {
      file: top,
      hint: "check the repository with git fsck",
    });
  const types = r.stdout.toString("utf8").split("\n");
  return { blobs: withPath.filter((_, i) => types[i] === "blob"), commits };
}

/**
 * Streams the contents of `names` (blob ids or `:path` for the index) through one
 * `git cat-file --batch`, calling `each` in order; missing objects and blobs over
 * {@link MAX_BLOB_BYTES} get `undefined`.
 */
export async function readObjects(
  top: string,
  names: readonly string[],
  each: (i: number, data: Buffer | undefined) => void,
): Promise<void> {
  if (names.length === 0) return;
  const child = spawn("git", ["cat-file", "--batch"], { cwd: top, env: gitEnv(), stdio: ["pipe", "pipe", "pipe"] });
  const reader = new BatchReader(each);
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (e) =>
      reject(new KeyfleetError("GIT", `cannot run git cat-file: ${e.message}`, { file: top, hint: "install git" })),
    );
    child.on("close", (code) => {
      if (reader.count < names.length)
        reject(
          new KeyfleetError(
            "GIT",
            `git cat-file stopped after ${reader.count} of ${names.length} objects (exit ${code})`,
            { file: top, hint: "check the repository with git fsck" },
          ),
        );
      else resolve();
    });
  });
  child.stdout.on("data", (chunk: Buffer) => reader.feed(chunk));
  child.stdin.on("error", () => undefined);
  child.stdin.end(names.join("\n") + "\n");
  await done;
}

/** Parses `git cat-file --batch` output (header line, content, newline) as it arrives, one object at a time. */
class BatchReader {
  /** Objects delivered so far (the index of the next one). */
  count = 0;
  private buf: Buffer = Buffer.alloc(0);
  private need = -1; // bytes of content (+1 newline) still to collect for the current object; -1: header next
  private skip = false;
  private have = 0;
  private readonly parts: Buffer[] = [];

  constructor(private readonly each: (i: number, data: Buffer | undefined) => void) {}

  /** Consumes one chunk of stdout, delivering every object it completes. */
  feed(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.need < 0 && !this.header()) return;
      if (this.need < 0) continue;
      // content: collect whole chunks (no quadratic concatenation for big blobs)
      const take = Math.min(this.need - this.have, this.buf.length);
      if (!this.skip) this.parts.push(this.buf.subarray(0, take));
      this.have += take;
      this.buf = this.buf.subarray(take);
      if (this.have < this.need) return;
      const data = this.skip ? undefined : Buffer.concat(this.parts).subarray(0, this.need - 1);
      this.parts.length = 0;
      this.need = -1;
      this.each(this.count++, data);
    }
  }

  /** Reads one header line; false when it has not fully arrived. A missing object is delivered at once. */
  private header(): boolean {
    const nl = this.buf.indexOf(10);
    if (nl < 0) return false;
    const header = this.buf.subarray(0, nl).toString("utf8");
    this.buf = this.buf.subarray(nl + 1);
    if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
      this.each(this.count++, undefined);
      return true;
    }
    const size = Number(header.split(" ")[2]);
    this.skip = !(size <= MAX_BLOB_BYTES);
    this.need = size + 1;
    this.parts.length = 0;
    this.have = 0;
    return true;
  }
}

/** The first commit (short id) that added blob `id` under HEAD, for reporting a hit in history. */
export function firstCommitWith(top: string, id: string): string | undefined {
  const r = spawnSync("git", ["log", "--reverse", "--format=%h", `--find-object=${id}`, "HEAD"], {
    cwd: top,
    env: gitEnv(),
    maxBuffer: MAX_LIST_BYTES,
    timeout: 60_000,
  });
  if (r.status !== 0) return undefined;
  return r.stdout.toString("utf8").split("\n").find(Boolean);
}
