#!/usr/bin/env bash
# Hard links through the FUSE client are one inode, as on a local file system: a link,
# chmod, write, truncate or unlink through one name shows at once through every other
# name (no waiting for attr_timeout), also when the names are in different directories,
# after the name the client last used is unlinked or renamed, and after the kernel
# dropped its caches. The mount has long timeouts so that nothing refreshes by expiry.
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/export"
start_server "$WORK/export"
mount_qtfs "$WORK/export" "$WORK/mnt" "attr_timeout=60,entry_timeout=60"
M=$WORK/mnt

# expect WHAT ACTUAL WANTED
expect() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
links() { stat -c %h "$@" | tr '\n' ' '; }

log "link a b; link b c: every name shows 3 links at once"
echo hello > "$M/a"
expect "nlink of a before linking" "$(links "$M/a")" "1 "
ln "$M/a" "$M/b"
expect "nlink of a, b" "$(links "$M/a" "$M/b")" "2 2 "     # both now cached with 2
ln "$M/b" "$M/c"
expect "nlink of a, b, c" "$(links "$M/a" "$M/b" "$M/c")" "3 3 3 "
expect "st_ino of a, b, c" "$(stat -c %i "$M/a" "$M/b" "$M/c" | sort -u | wc -l)" 1

log "chmod, write and truncate through one name show through the others"
chmod 600 "$M/b"
expect "mode of a after chmod b" "$(stat -c %a "$M/a")" 600
echo world >> "$M/c"
expect "size of a after a write to c" "$(stat -c %s "$M/a")" 12
expect "content of a after a write to c" "$(cat "$M/a")" "$(printf 'hello\nworld')"
truncate -s 3 "$M/b"
expect "a after truncating b" "$(stat -c %s "$M/a"):$(cat "$M/a")" "3:hel"

log "unlink one name: the others show the new count at once"
rm "$M/c"
expect "nlink of a, b after rm c" "$(links "$M/a" "$M/b")" "2 2 "
[ ! -e "$M/c" ] || fail "c still visible after rm"

log "names in two directories; the name used last is renamed, then unlinked"
mkdir "$M/d1" "$M/d2"
ln "$M/a" "$M/d1/x"
ln "$M/a" "$M/d2/y"
stat "$M/d2/y" >/dev/null                  # the client now reaches the file through d2/y
mv "$M/d2/y" "$M/d2/z"
chmod 640 "$M/d2/z"
expect "mode of d1/x after chmod of the renamed name" "$(stat -c %a "$M/d1/x")" 640
expect "host mode after chmod d2/z" "$(stat -c %a "$WORK/export/d1/x")" 640
rm "$M/d2/z"                               # the name last used is gone: others must still work
chmod 604 "$M/a"
expect "mode of b after chmod a" "$(stat -c %a "$M/b")" 604
echo again > "$M/d1/x"
expect "content of b after writing d1/x" "$(cat "$M/b")" again
expect "nlink of a, b, d1/x" "$(links "$M/a" "$M/b" "$M/d1/x")" "3 3 3 "

log "an open file keeps working while other names come and go"
exec 3<>"$M/b"
rm "$M/a"
ln "$M/b" "$M/e"
expect "nlink through the open name" "$(links "$M/b" "$M/e" "$M/d1/x")" "3 3 3 "
printf 'via fd' >&3
exec 3>&-
expect "content of d1/x after writing the fd" "$(head -c 6 "$M/d1/x")" "via fd"

log "after the kernel dropped its caches (FORGET), names are looked up afresh"
sync
echo 2 > /proc/sys/vm/drop_caches
expect "nlink after drop_caches" "$(links "$M/b" "$M/e" "$M/d1/x")" "3 3 3 "
chmod 666 "$M/e"
expect "mode of d1/x after chmod e" "$(stat -c %a "$M/d1/x")" 666
expect "host mode" "$(stat -c %a "$WORK/export/b")" 666

log "hard-linked symlinks are one inode too"
ln -s target "$M/s1"
ln -P "$M/s1" "$M/s2"
expect "nlink of both symlink names" "$(links "$M/s1" "$M/s2")" "2 2 "
rm "$M/s2"
expect "nlink of s1 after rm s2" "$(links "$M/s1")" "1 "
server_alive
log "ok"
