#!/usr/bin/env bash
# A user allowed to write a setuid/setgid file another user owns writes and truncates it
# through the mount, and the setuid bit (and setgid when group-executable or the writer is
# not in the file's group) is cleared, as on a local file system; root keeps them
# (CAP_FSETID). Compared with a tmpfs directory (the export is a tmpfs too), through the
# mount and on the host. It used to fail with EPERM (write(2) and truncate). The kernel
# leaves this to the file system (FUSE_HANDLE_KILLPRIV_V2), so it asks for
# security.capability before the first write to a file only.
source "$(dirname "$0")/lib.sh"
chmod 755 "$WORK"
mount_tmpfs "$WORK/local" "$WORK/export"
start_server "$WORK/export"
mount_qtfs "$WORK/export" "$WORK/mnt"
M=$WORK/mnt

# Prepares DIR/FILE owned by uid 1234 with MODE, then as WHO writes or truncates it;
# prints the call's result and the mode afterwards, seen in DIR and, for the mount, on the host.
setid_case() {
    local dir=$1 file=$2 mode=$3 who=$4 how=$5 r
    printf 'content' > "$dir/$file"
    chown 1234:1234 "$dir/$file"
    chmod "$mode" "$dir/$file"
    stat -c %a "$dir/$file" >/dev/null      # the mount caches the setid mode first
    local as=(setpriv --reuid="$who" --regid="$who" --clear-groups)
    case $how in
        write) r=$("${as[@]}" sh -c "printf x >> '$dir/$file'" 2>&1) && r=ok ;;
        truncate) r=$("${as[@]}" truncate -s 2 "$dir/$file" 2>&1) && r=ok ;;
    esac
    echo "$file $how as $who: ${r##*: } mode $(stat -c %a "$dir/$file") size $(stat -c %s "$dir/$file")"
}

log "writes and truncates of setuid/setgid files by another user, and by root"
for dir in "$WORK/local" "$M"; do
    out=$WORK/setid.$(basename "$dir")
    : > "$out"
    for mode in 4777 2777 6777 2767; do
        for how in write truncate; do
            setid_case "$dir" "f$mode-$how-nobody" "$mode" 65534 "$how" >> "$out"
            setid_case "$dir" "f$mode-$how-root" "$mode" 0 "$how" >> "$out"
        done
    done
done
log "a setgid directory others may write: chmod g-s by another user stays EPERM"
for dir in "$WORK/local" "$M"; do
    mkdir "$dir/sgid-dir"
    chown 1234:1234 "$dir/sgid-dir"
    chmod 2777 "$dir/sgid-dir"
    r=$(setpriv --reuid=65534 --regid=65534 --clear-groups chmod g-s "$dir/sgid-dir" 2>&1) && r=ok
    echo "chmod g-s: ${r##*: } mode $(stat -c %a "$dir/sgid-dir")" >> "$WORK/setid.$(basename "$dir")"
done
grep -q "f4777-write-nobody write as 65534: ok mode 777 size 8" "$WORK/setid.local" \
    || fail "local reference unexpected: $(cat "$WORK/setid.local")"
diff "$WORK/setid.local" "$WORK/setid.mnt" || fail "setid files: the mount differs from tmpfs (< local, > mount)"
for f in "$WORK"/export/f*; do
    [ "$(stat -c %a "$f")" = "$(stat -c %a "$WORK/local/$(basename "$f")")" ] || fail "host mode of $(basename "$f") differs from tmpfs"
done
log "the kernel leaves clearing privileges to the file system (FUSE_HANDLE_KILLPRIV_V2):"
log "it reads security.capability before the first write to a file, not before each"
printf 'start' > "$M/many-writes"
before=$(op_count "$M" getxattr)
dd if=/dev/zero of="$M/many-writes" bs=512 count=200 conv=notrunc status=none || fail "200 writes through the mount"
asked=$(( $(op_count "$M" getxattr) - before ))
[ "$asked" -le 2 ] || fail "200 write(2) calls to one file made $asked getxattr requests (expected at most 2: SB_NOSEC)"
[ "$(stat -c %s "$WORK/export/many-writes")" = 102400 ] || fail "the 200 writes did not all reach the host"
server_alive
log "ok"
