/**
 * The POSIX sh scripts keyfleet runs on a host. Each is a constant; paths, modes and owners reach it
 * only as positional arguments (quoted), and file content only on the channel's stdin. Nothing
 * beyond POSIX sh and GNU coreutils is needed on the host.
 */

/** Exit codes of the scripts, mapped to errors by the session. */
export const EXIT = {
  notAbsolute: 64,
  noDir: 65,
  badHeader: 66,
  incomplete: 67,
  isDir: 68,
} as const;

/**
 * Sweep of the temps of `$p` left by writers that are gone (a push killed outright, a host that
 * rebooted mid-write): `.<base>.kftmp.<pid>.XXXXXX` whose pid is not alive. Needs `$dir` and `$base`.
 * A temp of a writer still running is kept, so no writer loses its file before `mv`.
 */
const SWEEP_DEAD_TEMPS = `for f in "$dir/.$base.kftmp."*.??????; do
  [ -e "$f" ] || continue
  pid=\${f#"$dir/.$base.kftmp."}; pid=\${pid%%.*}
  case $pid in ''|*[!0-9]*) continue;; esac
  kill -0 "$pid" 2>/dev/null || rm -f -- "$f"
done
`;

/**
 * Atomic write. Args: path mode(octal) owner group. Stdin: "KFv1 <length> <sha256hex>\n" then the
 * content. Temp file in the same directory, mode set before any byte is written (the temp is opened
 * for writing first, so a read-only mode such as 0400 works for a login user who is not root), content checked
 * against the header before anything is renamed (a dropped channel gives a short file, which is
 * discarded), fsync, chown/chgrp, rename, fsync of the directory, then the final file is read back
 * and its sha256 printed. The temp name carries the writing shell's pid: leftover temps of the same
 * target whose shell is gone (a killed push) are removed, while a push still running (an orphan of a
 * cut connection, or a concurrent apply) keeps its temp, so no writer ever loses its file before `mv`.
 */
export const WRITE_SCRIPT = `set -eu
p=$1; mode=$2; owner=$3; group=$4
case $p in /*) ;; *) echo "path is not absolute" >&2; exit ${EXIT.notAbsolute};; esac
dir=\${p%/*}; [ -n "$dir" ] || dir=/
base=\${p##*/}
[ -d "$dir" ] || { echo "directory does not exist" >&2; exit ${EXIT.noDir}; }
[ ! -d "$p" ] || { echo "target is a directory" >&2; exit ${EXIT.isDir}; }
IFS=' ' read -r magic n want || { echo "bad header" >&2; exit ${EXIT.badHeader}; }
[ "$magic" = KFv1 ] || { echo "bad header" >&2; exit ${EXIT.badHeader}; }
umask 077
${SWEEP_DEAD_TEMPS}tmp=
trap 'if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
tmp=$(mktemp "$dir/.$base.kftmp.$$.XXXXXX")
exec 3>"$tmp"
chmod -- "$mode" "$tmp"
head -c "$n" >&3
exec 3>&-
got=$(sha256sum < "$tmp"); got=\${got%% *}
[ "$got" = "$want" ] || { echo "content incomplete" >&2; exit ${EXIT.incomplete}; }
sync -- "$tmp" 2>/dev/null || sync
[ -z "$owner" ] || chown -- "$owner" "$tmp"
[ -z "$group" ] || chgrp -- "$group" "$tmp"
mv -fT -- "$tmp" "$p"
tmp=
sync -- "$dir" 2>/dev/null || sync
sum=$(sha256sum < "$p"); echo "\${sum%% *}"
`;

/** stat + digest. Args: path. Prints "missing", or "<mode octal>:<owner>:<group>:<sha256>". */
export const STAT_SCRIPT = `set -eu
p=$1
if [ ! -e "$p" ]; then echo missing; exit 0; fi
[ ! -d "$p" ] || { echo "target is a directory" >&2; exit ${EXIT.isDir}; }
st=$(stat -L -c '%a:%U:%G' -- "$p")
sum=$(sha256sum < "$p")
echo "$st:\${sum%% *}"
`;

/**
 * Remove. Args: path. Removes the file (not a directory) and the temps of dead writers of it (which
 * may hold part of its content), and syncs the directory.
 */
export const REMOVE_SCRIPT = `set -eu
p=$1
[ ! -d "$p" ] || { echo "target is a directory" >&2; exit ${EXIT.isDir}; }
rm -f -- "$p"
dir=\${p%/*}; [ -n "$dir" ] || dir=/
base=\${p##*/}
[ -d "$dir" ] || exit 0
${SWEEP_DEAD_TEMPS}sync -- "$dir" 2>/dev/null || sync
`;

/** Parsed STAT_SCRIPT output. */
export interface RemoteStat {
  /** False when there is no file at the path. */
  exists: boolean;
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
  const m = /^([0-7]{1,4}):([^:\s]+):([^:\s]+):([0-9a-f]{64})$/.exec(s);
  if (!m) return undefined;
  return { exists: true, mode: parseInt(m[1]!, 8), owner: m[2]!, group: m[3]!, sha256: m[4]! };
}
