#!/usr/bin/env bash
# `mount -t qtfs` through the installed /sbin/mount.qtfs helper, `umount`, and an fstab
# line with _netdev; `make install` / `make uninstall` around it.
source "$(dirname "$0")/lib.sh"
installed_here=0
if [ ! -e /sbin/mount.qtfs ]; then
    make -C "$REPO" install-bin BUILD_DIR="$BIN" >/dev/null
    installed_here=1
fi
uninstall() { [ "$installed_here" = 1 ] && make -C "$REPO" uninstall >/dev/null || true; }
trap 'cleanup; uninstall' EXIT

"$BIN/qtfs-fuse" --help | grep -q "server=" || fail "qtfs-fuse --help does not document server="
mkdir -p "$WORK/export/data" "$WORK/mnt" "$WORK/mnt2"
echo "from host" > "$WORK/export/data/hello"
start_server "$WORK/export"

mount -t qtfs -o "server=127.0.0.1:$PORT,key=$KEY" "$WORK/export/data" "$WORK/mnt"
MOUNTS+=("$WORK/mnt")
[ "$(cat "$WORK/mnt/hello")" = "from host" ] || fail "mount -t qtfs: content"
grep -q " $WORK/mnt fuse" /proc/mounts || fail "mount not in /proc/mounts"
umount "$WORK/mnt"
! mountpoint -q "$WORK/mnt" || fail "umount left the mount"

printf '%s %s qtfs server=127.0.0.1:%s,key=%s,_netdev 0 0\n' "$WORK/export/data" "$WORK/mnt2" "$PORT" "$KEY" > "$WORK/fstab"
mount -T "$WORK/fstab" "$WORK/mnt2"
MOUNTS+=("$WORK/mnt2")
[ "$(cat "$WORK/mnt2/hello")" = "from host" ] || fail "fstab mount: content"
umount "$WORK/mnt2"

# A mount that cannot work must say why and fail.
if out=$(mount -t qtfs -o server=127.0.0.1:1 "$WORK/export/data" "$WORK/mnt" 2>&1); then
    fail "mount to a closed port succeeded"
fi
echo "$out" | grep -qi "connect" || fail "unhelpful error for a closed port: $out"
