/**
 * The POSIX sh scripts keyfleet runs on a host. Each is a constant; paths, modes and owners reach it
 * only as positional arguments (quoted), and file content only on the channel's stdin. Nothing
 * beyond POSIX sh, GNU coreutils and Linux's /proc is needed on the host.
 *
 * Hostile hosts: another unprivileged user may own the directory or plant symlinks, hardlinks, FIFOs,
 * sockets or directories at the names keyfleet uses. So every script first *holds* the file's
 * directory as its working directory (`cd -P`, which is what a dirfd is to a shell) and from then on
 * names entries relative to it. Scripts that change anything then check that directory the way
 * OpenSSH's StrictModes does ({@link EXIT.unsafeDir}). After that check only root and the login user
 * can add, rename or remove entries there, so no later step follows a name someone else could have
 * replaced; entries planted before the check are looked at with lstat (`test -L`, `stat` without
 * `-L`) and never opened unless they are regular files, and reads open with O_NOFOLLOW|O_NONBLOCK.
 */

/** Exit codes of the scripts, mapped to errors by the session. */
export const EXIT = {
  notAbsolute: 64,
  noDir: 65,
  badHeader: 66,
  incomplete: 67,
  isDir: 68,
  /** The directory (or an ancestor) can be written by someone other than root and the login user. */
  unsafeDir: 69,
  /** The final name is not the inode that was written (only root or the login user could do that). */
  replaced: 70,
  /** A directory (or other entry that cannot be safely replaced) sits at a name keyfleet creates. */
  notRegular: 71,
} as const;

/**
 * Splits `$p` into `$dir` and `$base` and holds `$dir` as the working directory (symlinks resolved:
 * the checks below see the real directory). `missing` runs when the directory cannot be entered.
 */
function holdDir(missing: string): string {
  return `case $p in /*) ;; *) echo "path is not absolute" >&2; exit ${EXIT.notAbsolute};; esac
dir=\${p%/*}; [ -n "$dir" ] || dir=/
base=\${p##*/}
case $base in ''|.|..) echo "path names no file" >&2; exit ${EXIT.notAbsolute};; esac
cd -P -- "$dir" 2>/dev/null || { ${missing}; }
`;
}

/**
 * StrictModes for the held directory: it and every ancestor must be owned by root or the login
 * user. The held directory must not be group or world writable, sticky or not (anyone who may
 * create entries there may plant names). An ancestor may be world writable only with the sticky bit
 * (as /tmp): then nobody else can rename or remove the entry below it, which the walk checks is
 * owned by root or the login user. A failure prints `unsafe<TAB>uid<TAB>user<TAB>mode<TAB>dir`.
 * One `stat` for the whole chain (the held directory as `.`, i.e. the inode held, not a name); the
 * directory's name is `$PWD`, which `cd -P` set to the physical path (as `pwd -P` prints it), and the
 * login user's effective uid is read from the shell's own /proc/self/status (`id -u` only without
 * /proc), so the check starts one process, not three.
 */
const CHECK_DIR = `d=$PWD
me=
if [ -r /proc/self/status ]; then while read -r k r e _; do case $k in Uid:) me=$e; break;; esac; done </proc/self/status; fi
case $me in ''|*[!0-9]*) me=$(id -u);; esac
set -f
set --
a=$d
while [ "$a" != / ]; do a=\${a%/*}; [ -n "$a" ] || a=/; set -- "$@" "$a"; done
sts=$(stat -c '%u:%a:%U' -- . "$@") || { printf 'unsafe\\t?\\t?\\t?\\t%s\\n' "$d" >&2; exit ${EXIT.unsafeDir}; }
set -- "$d" "$@"
held=1
for st in $sts; do
  u=\${st%%:*}; r=\${st#*:}; a=\${r%%:*}; n=\${r#*:}
  if { [ "$u" != 0 ] && [ "$u" != "$me" ]; } || { [ $((0$a & 022)) -ne 0 ] && { [ $held = 1 ] || [ $((0$a & 01000)) -eq 0 ]; }; }; then
    printf 'unsafe\\t%s\\t%s\\t%s\\t%s\\n' "$u" "$n" "$a" "$1" >&2; exit ${EXIT.unsafeDir}
  fi
  held=0; shift
done
set +f
`;

/**
 * Sweep of the temps of `$base` left by writers that are gone (a push killed outright, a host that
 * rebooted mid-write): `.<base>.kftmp.<pid>.XXXXXX` whose pid is not alive. Runs in the held
 * directory. A temp of a writer still running is kept, so no writer loses its file before `mv`.
 * `rm` unlinks a name and never opens it; a planted directory is left alone.
 */
const SWEEP_DEAD_TEMPS = `for f in "./.$base.kftmp."*.??????; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  pid=\${f#"./.$base.kftmp."}; pid=\${pid%%.*}
  case $pid in ''|*[!0-9]*) continue;; esac
  kill -0 "$pid" 2>/dev/null || [ -d "/proc/$pid" ] || rm -f -- "$f" 2>/dev/null || :
done
`;

/** Refuses a real directory at `./$base` (a symlink to one is just a name that rename replaces). */
const NOT_A_DIR = `if [ -d "./$base" ] && [ ! -L "./$base" ]; then echo "target is a directory" >&2; exit ${EXIT.isDir}; fi
`;

/**
 * Atomic write. Args: path mode(octal) owner group. Stdin: "KFv1 <length> <sha256hex>\n" then the
 * content. In the held, checked directory: a fresh temp (mktemp: O_EXCL, mode 0600, so nothing but
 * the login user can read it while bytes arrive) opened once for writing and twice for reading; the
 * content copied in by one `dd` that reads exactly the header's length and fsyncs the temp, then
 * checked against the header through one read descriptor (a dropped channel gives a short file,
 * which is discarded); then chown/chgrp and the final mode (after chown, which would clear setuid
 * bits), rename over the target (a planted symlink, FIFO, socket or hardlink there is replaced,
 * never followed), fsync of the directory (which also commits the mode change made before the
 * rename), a check that the target is the inode written (one `stat`: fstat of the second read
 * descriptor, then lstat of the name), and the sha256 read back through that descriptor, printed with the
 * target's mode, owner and group from the same lstat ("<sha256> <mode octal>:<owner>:<group>"), so
 * no separate stat is needed after a write. The temp name carries the writing shell's pid:
 * leftover temps whose shell is gone are removed, while a push still running keeps its temp.
 */
export const WRITE_SCRIPT = `set -eu
p=$1; mode=$2; owner=$3; group=$4
nl='
'
${holdDir(`echo "directory does not exist" >&2; exit ${EXIT.noDir}`)}${CHECK_DIR}${NOT_A_DIR}IFS=' ' read -r magic n want || { echo "bad header" >&2; exit ${EXIT.badHeader}; }
[ "$magic" = KFv1 ] || { echo "bad header" >&2; exit ${EXIT.badHeader}; }
case $n in ''|*[!0-9]*) echo "bad header" >&2; exit ${EXIT.badHeader};; esac
umask 077
${SWEEP_DEAD_TEMPS}tmp=
trap 'if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
tmp=$(mktemp "./.$base.kftmp.$$.XXXXXX")
exec 3>"$tmp" 4<"$tmp" 5<"$tmp"
dd bs=65536 count="$n" iflag=count_bytes,fullblock conv=fsync status=none >&3
exec 3>&-
got=$(sha256sum <&4); got=\${got%% *}
exec 4<&-
[ "$got" = "$want" ] || { echo "content incomplete" >&2; exit ${EXIT.incomplete}; }
[ -z "$owner" ] || chown -- "$owner" "$tmp"
[ -z "$group" ] || chgrp -- "$group" "$tmp"
chmod -- "$mode" "$tmp"
mv -fT -- "$tmp" "./$base"
tmp=
sync -- . 2>/dev/null || sync
st=$(stat -c '%d:%i %a:%U:%G' -- - "./$base" <&5)
ino=\${st%% *}; st=\${st#*"$nl"}
[ "\${st%% *}" = "$ino" ] || { echo "target was replaced during the write" >&2; exit ${EXIT.replaced}; }
sum=$(sha256sum <&5); echo "\${sum%% *} \${st#* }"
`;

/**
 * stat + digest. Args: path. Prints "missing", "other:<file type>" for anything but a regular file
 * or a directory (a symlink, FIFO or socket is never opened), or "<mode octal>:<owner>:<group>:<sha256>".
 * The content is read with O_NOFOLLOW|O_NONBLOCK (GNU dd), so a name swapped for a symlink or a FIFO
 * after the lstat cannot redirect or block the read.
 */
export const STAT_SCRIPT = `set -eu
p=$1
${holdDir("echo missing; exit 0")}if [ ! -e "./$base" ] && [ ! -L "./$base" ]; then echo missing; exit 0; fi
${NOT_A_DIR}kind=$(stat -c '%F' -- "./$base")
case $kind in
  'regular file'|'regular empty file') ;;
  *) echo "other:$kind"; exit 0;;
esac
st=$(stat -c '%a:%U:%G' -- "./$base")
sum=$(dd if="./$base" iflag=nofollow,nonblock bs=65536 status=none | sha256sum)
echo "$st:\${sum%% *}"
`;

/**
 * Remove. Args: path. In the held, checked directory: removes the name (not a directory; a symlink is
 * removed, not followed) and the temps of dead writers of it (which may hold part of its content),
 * and syncs the directory. A missing directory means there is nothing to remove.
 */
export const REMOVE_SCRIPT = `set -eu
p=$1
${holdDir("exit 0")}${CHECK_DIR}${NOT_A_DIR}rm -f -- "./$base"
${SWEEP_DEAD_TEMPS}sync -- . 2>/dev/null || sync
`;

/**
 * Mark. Args: path. In the held, checked directory: creates an empty regular file at path unless one
 * is there (a restart-pending marker). An existing regular file (even a hardlink) is never opened or
 * truncated; a planted symlink, FIFO or socket is unlinked (never opened) and replaced; a planted
 * directory is refused. The file is created with O_EXCL (`set -C` on a name that does not exist).
 */
export const MARK_SCRIPT = `set -eu
p=$1
${holdDir(`echo "directory does not exist" >&2; exit ${EXIT.noDir}`)}${CHECK_DIR}m=./$base
if [ -d "$m" ] && [ ! -L "$m" ]; then echo "a directory is in the way" >&2; exit ${EXIT.notRegular}; fi
if [ -L "$m" ] || { [ -e "$m" ] && [ ! -f "$m" ]; }; then rm -f -- "$m"; fi
umask 077
if [ ! -e "$m" ] && [ ! -L "$m" ]; then set -C; : > "$m"; set +C; fi
`;

/** Parsed STAT_SCRIPT output. */
export interface RemoteStat {
  /** False when there is no regular file at the path. */
  exists: boolean;
  /** Set when something other than a regular file is at the path ("symbolic link", "fifo", "socket"…); `exists` is false then. */
  other?: string;
  /** Permission bits, e.g. 0o600. */
  mode?: number;
  /** Owner user name (or uid when the name is unknown). */
  owner?: string;
  /** Owner group name (or gid). */
  group?: string;
  /** Raw hex sha256 of the content: compare it, never store it unkeyed. */
  sha256?: string;
}

/** Parse STAT_SCRIPT output. */
export function parseStat(out: string): RemoteStat | undefined {
  const s = out.trim();
  if (s === "missing") return { exists: false };
  const o = /^other:([a-z ]{1,40})$/.exec(s);
  if (o) return { exists: false, other: o[1]! };
  const m = /^([0-7]{1,4}):([^:\s]+):([^:\s]+):([0-9a-f]{64})$/.exec(s);
  if (!m) return undefined;
  return { exists: true, mode: parseInt(m[1]!, 8), owner: m[2]!, group: m[3]!, sha256: m[4]! };
}

/** A StrictModes refusal parsed from a script's stderr. */
export interface UnsafeDir {
  uid: string;
  user: string;
  mode: string;
  dir: string;
}

/** The `unsafe` line a script printed on {@link EXIT.unsafeDir}, if any. */
export function parseUnsafe(stderr: string): UnsafeDir | undefined {
  const line = stderr.split("\n").find((l) => l.startsWith("unsafe\t"));
  if (!line) return undefined;
  const [, uid = "?", user = "?", mode = "?", ...rest] = line.split("\t");
  return { uid, user, mode: mode === "?" ? mode : mode.padStart(4, "0"), dir: rest.join("\t").slice(0, 4096) };
}
