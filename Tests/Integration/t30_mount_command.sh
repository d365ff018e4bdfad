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

"$BIN/qtfs-fuse" --help | has "server=" || fail "qtfs-fuse --help does not document server="
mkdir -p "$WORK/export/data" "$WORK/mnt" "$WORK/mnt2"
echo "from host" > "$WORK/export/data/hello"
start_server "$WORK/export"

mount -t qtfs -o "server=127.0.0.1:$PORT,key=$KEY" "$WORK/export/data" "$WORK/mnt"
MOUNTS+=("$WORK/mnt")
[ "$(cat "$WORK/mnt/hello")" = "from host" ] || fail "mount -t qtfs: content"
grep -q " $WORK/mnt fuse" /proc/mounts || fail "mount not in /proc/mounts"
umount "$WORK/mnt"
! mountpoint -q "$WORK/mnt" || fail "umount left the mount"

# A host path with symlinks in it (Debian's /var/run -> /run) is followed while each step
# stays inside an export; a symlink leading out of the exports is still refused. qtfs-fuse
# directly: mount(8) would resolve the symlinks itself (they exist on this machine too).
mkdir -p "$WORK/export/run/containerd" "$WORK/export/var" "$WORK/outside" "$WORK/mnt3"
echo "through the link" > "$WORK/export/run/containerd/hello"
echo "secret" > "$WORK/outside/secret"
ln -s "$WORK/export/run" "$WORK/export/var/run"      # absolute, as on Debian
ln -s ../run/containerd "$WORK/export/var/cd"        # relative
ln -s "$WORK/outside" "$WORK/export/out"
ln -s ../../outside "$WORK/export/var/up"
for path in var/run/containerd var/cd; do
    mount_qtfs "$WORK/export/$path" "$WORK/mnt3"
    [ "$(cat "$WORK/mnt3/hello")" = "through the link" ] || fail "mount of $path (symlinks followed): content"
    umount "$WORK/mnt3"
done
for path in out var/up var/up/secret; do
    if out=$(timeout 30 "$BIN/qtfs-fuse" -o "server=127.0.0.1:$PORT,key=$KEY" "$WORK/export/$path" "$WORK/mnt3" 2>&1); then
        fail "mount of $path, a symlink leading out of the export, succeeded"
    fi
    ! mountpoint -q "$WORK/mnt3" || fail "refused mount of $path left a mount"
    echo "$out" | grep -q "refused to mount host path $WORK/export/$path: not inside" ||
        fail "refused mount of $path: unhelpful error: $out"
done

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
