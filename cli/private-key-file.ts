/**
 * Writing private keys on the operator's machine (keygen, ssh-to-age --private-key): only into a
 * regular file of the caller's that nobody else can read, never through a symlink, a hardlink, a
 * FIFO or a device, and with every path operation bounded (no recursive mkdir, which spins forever
 * on /proc; no open that blocks on a FIFO).
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { KeyfleetError } from "../provider/errors";
import { writeFileAtomic } from "../provider/fs";

/** Most directory levels created for a key file. */
const MAX_DIR_LEVELS = 32;

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "EACCES" || code === "EPERM"
    ? "permission denied"
    : code === "ENOENT"
      ? "no such directory"
      : code === "EROFS"
        ? "read-only file system"
        : (code ?? (e as Error).message);
}

function keyWriteError(path: string, message: string, hint: string, cause?: unknown): KeyfleetError {
  return new KeyfleetError("KEY_WRITE", message, { file: path, hint, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Creates the missing directories above `path` (mode 0700), one level at a time and at most
 * MAX_DIR_LEVELS of them.
 * @throws KeyfleetError `KEY_WRITE` naming the directory that cannot be created
 */
export function ensureKeyDir(path: string): void {
  const missing: string[] = [];
  let dir = dirname(resolve(path));
  for (let i = 0; ; i++) {
    let st;
    try {
      st = statSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT")
        throw keyWriteError(path, `cannot use directory ${dir}: ${why(e)}`, "choose another file with -o", e);
    }
    if (st) {
      if (!st.isDirectory()) throw keyWriteError(path, `${dir} is not a directory`, "choose another file with -o");
      break;
    }
    if (i >= MAX_DIR_LEVELS)
      throw keyWriteError(
        path,
        `more than ${MAX_DIR_LEVELS} missing directories above ${path}`,
        "create the directory first, or choose another file with -o",
      );
    missing.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST")
        throw keyWriteError(
          path,
          `cannot create directory ${d}: ${why(e)}`,
          "create it yourself (mode 0700) or choose another file with -o",
          e,
        );
    }
  }
}

/**
 * Refuses a file a private key must not go into: not a regular file, a symlink, more than one
 * link, another user's, or readable/writable by group or others.
 */
function checkKeyFile(
  path: string,
  st: { isFile(): boolean; isSymbolicLink(): boolean; nlink: number; uid: number; mode: number },
): void {
  if (st.isSymbolicLink())
    throw keyWriteError(
      path,
      `${path} is a symlink; keyfleet does not write a private key through one`,
      "pass the real path with -o, or remove the link",
    );
  if (!st.isFile()) throw keyWriteError(path, `${path} is not a regular file`, "choose another file with -o");
  if (st.nlink > 1)
    throw keyWriteError(
      path,
      `${path} has ${st.nlink} hard links; another name could expose the key`,
      "choose another file with -o",
    );
  const uid = typeof process.getuid === "function" ? process.getuid() : st.uid;
  if (st.uid !== uid)
    throw keyWriteError(
      path,
      `${path} belongs to uid ${st.uid}, not to you (uid ${uid})`,
      "choose a file of your own with -o",
    );
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
    throw keyWriteError(
      path,
      `${path} has mode ${mode}: others could read the private key`,
      `run chmod 600 ${path} first (and check who read it), or choose another file with -o`,
    );
  }
}

/**
 * Appends `text` (a private key) to `path`: created 0600 when missing (parent directories 0700), else
 * only if it passes the checks above. A newline is added first when the file does not end with one.
 * @throws KeyfleetError `KEY_WRITE` naming the file and the fix
 */
export function appendPrivateKey(path: string, text: string): void {
  ensureKeyDir(path);
  let fd: number;
  try {
    // O_NOFOLLOW: no symlink at the name; O_NONBLOCK: a FIFO there fails (ENXIO) instead of blocking
    fd = openSync(
      path,
      constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      0o600,
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP")
      throw keyWriteError(
        path,
        `${path} is a symlink; keyfleet does not write a private key through one`,
        "pass the real path with -o, or remove the link",
        e,
      );
    if (code === "ENXIO") throw keyWriteError(path, `${path} is a FIFO or socket`, "choose another file with -o", e);
    throw keyWriteError(
      path,
      `cannot open ${path}: ${why(e)}`,
      "choose a file in a directory you can write with -o",
      e,
    );
  }
  try {
    const st = fstatSync(fd);
    checkKeyFile(path, {
      isFile: () => st.isFile(),
      isSymbolicLink: () => false,
      nlink: st.nlink,
      uid: st.uid,
      mode: st.mode,
    });
    let prefix = "";
    if (st.size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, st.size - 1);
      if (last[0] !== 10) prefix = "\n";
    }
    writeSync(fd, prefix + text);
  } catch (e) {
    if (e instanceof KeyfleetError) throw e;
    throw keyWriteError(path, `cannot write ${path}: ${why(e)}`, "choose another file with -o", e);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` with `text` (a private key) atomically, mode 0600, refusing an existing file that
 * fails the checks above (a symlink, another user's, or readable by others).
 * @throws KeyfleetError `KEY_WRITE` naming the file and the fix
 */
export function replacePrivateKey(path: string, text: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT")
      throw keyWriteError(path, `cannot use ${path}: ${why(e)}`, "choose another file with -o", e);
  }
  if (st) checkKeyFile(path, st);
  ensureKeyDir(path);
  writeFileAtomic(path, text, { mode: 0o600 });
}
