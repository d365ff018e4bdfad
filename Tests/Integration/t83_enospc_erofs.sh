#!/usr/bin/env bash
# Faults: a full disk and read-only exports. ENOSPC and EROFS reach the caller through the
# mount, and data the client was told was written is intact afterwards.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faultlib.sh"
mkdir -p "$WORK/small" "$WORK/data" "$WORK/robind"
mount -t tmpfs -o size=8m qtfs-faults-small "$WORK/small" || { log "skip: cannot mount tmpfs"; exit 77; }
echo "kept" > "$WORK/data/old"
mount --bind "$WORK/data" "$WORK/robind" && mount -o remount,bind,ro "$WORK/robind" || fail "read-only bind mount"
umount_extra() { umount -l "$WORK/robind" 2>/dev/null; umount -l "$WORK/small" 2>/dev/null; fault_cleanup; }
trap umount_extra EXIT
start_server "$WORK/small" "$WORK/data:ro" "$WORK/robind"
mount_fg "$WORK/small" "$WORK/full"
mount_fg "$WORK/data" "$WORK/ro"
mount_fg "$WORK/robind" "$WORK/rob"

log "disk full: a 3 MiB file is written and synced, then a 16 MiB one does not fit"
head -c 3145728 /dev/urandom > "$WORK/a.src"
dd if="$WORK/a.src" of="$WORK/full/a" bs=64k conv=fsync status=none || fail "writing 3 MiB to an 8 MiB export"
if dd if=/dev/urandom of="$WORK/full/b" bs=1M count=16 conv=fsync 2> "$WORK/dd.err"; then fail "16 MiB fit into 8 MiB"; fi
grep -q "No space left on device" "$WORK/dd.err" || fail "expected ENOSPC, dd said: $(cat "$WORK/dd.err")"
if echo more >> "$WORK/full/b" 2> "$WORK/append.err"; then
    fail "appending to a full file system succeeded"
fi
grep -q "No space left on device" "$WORK/append.err" || fail "expected ENOSPC on append: $(cat "$WORK/append.err")"
cmp "$WORK/a.src" "$WORK/full/a" || fail "data acknowledged before the disk filled differs (through the mount)"
cmp "$WORK/a.src" "$WORK/small/a" || fail "data acknowledged before the disk filled differs (on the host)"
rm "$WORK/full/b"
echo "fits again" > "$WORK/full/c" || fail "writing after freeing space"
[ "$(cat "$WORK/small/c")" = "fits again" ] || fail "host does not see the write after freeing space"

for m in ro rob; do
    log "read-only export ($m): EROFS for changes, reads work"
    for what in "touch $WORK/$m/new" "mkdir $WORK/$m/dir" "rm $WORK/$m/old" "mv $WORK/$m/old $WORK/$m/old2" \
                "chmod 600 $WORK/$m/old" "ln -s x $WORK/$m/link"; do
        if $what 2> "$WORK/ro.err"; then fail "$m: '$what' succeeded on a read-only export"; fi
        grep -q "Read-only file system" "$WORK/ro.err" || fail "$m: '$what': expected EROFS, got: $(cat "$WORK/ro.err")"
    done
    if sh -c "echo x >> $WORK/$m/old" 2> "$WORK/ro.err"; then fail "$m: appending succeeded on a read-only export"; fi
    grep -q "Read-only file system" "$WORK/ro.err" || fail "$m: write open: expected EROFS, got: $(cat "$WORK/ro.err")"
    [ "$(cat "$WORK/$m/old")" = "kept" ] || fail "$m: reading a file on a read-only export"
done
[ "$(cat "$WORK/data/old")" = "kept" ] || fail "file on the read-only export changed"
server_alive
