#!/usr/bin/env bash
# Write-behind (Sources/QtfsClient/WriteBehind.swift): writes of 64 KiB or more are answered
# before the host has them. Programs must not be able to tell: whatever they do next
# through the mount sees the data, overlapping writes land in order, and a failure is
# reported at the latest by close().
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/export" "$WORK/small"
mount -t tmpfs -o size=8m qtfs-wb-small "$WORK/small" || { log "skip: cannot mount tmpfs"; exit 77; }
trap 'cleanup; umount -l "$WORK/small" 2>/dev/null || true' EXIT
start_server "$WORK/export" "$WORK/small"
mount_qtfs "$WORK/export" "$WORK/m"
mount_qtfs "$WORK/small" "$WORK/full"
mount_qtfs "$WORK/export" "$WORK/sync" no_write_behind

log "read after write: size, content through a second descriptor, and the host copy, after every 1 MiB write"
python3 - "$WORK/m/stream" "$WORK/export/stream" <<'EOF' || fail "a write answered early was not visible to the next request"
import os, sys
mnt, host = sys.argv[1], sys.argv[2]
fd = os.open(mnt, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(48):
    chunk = os.urandom(1 << 20)
    assert os.write(fd, chunk) == len(chunk)
    size = (i + 1) << 20
    if os.stat(mnt).st_size != size:
        sys.exit(f"stat after write {i}: size {os.stat(mnt).st_size}, expected {size}")
    r = os.open(mnt, os.O_RDONLY | os.O_DIRECT) if i % 2 else os.open(mnt, os.O_RDONLY)
    got = os.pread(r, len(chunk), size - len(chunk)); os.close(r)
    if got != chunk:
        sys.exit(f"read after write {i} through the mount: other data")
    with open(host, "rb") as h:   # the stat above waited for the write: the host has it
        h.seek(size - len(chunk))
        if h.read(len(chunk)) != chunk:
            sys.exit(f"host copy after write {i} and a stat: other data")
os.close(fd)
EOF

log "overlapping writes in a row land in order (on tmpfs, where the host writes up to 128 KiB at once"
log "and larger ones on io_uring's threads); two files written in turn both end complete"
python3 - "$WORK/m" "$WORK/export" "$WORK/full" "$WORK/small" <<'EOF' || fail "overlapping or interleaved writes"
import os, sys
mnt, host, tmnt, thost = sys.argv[1:5]
fd = os.open(f"{tmnt}/overlap", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
expect = bytearray(2 << 20)
# 1 MiB and 64 KiB writes: the host may run writes of different sizes on different threads
writes = [(0, 1 << 20, b"A"), (512 << 10, 1 << 20, b"B"), (256 << 10, 64 << 10, b"C"), (1 << 20, 1 << 20, b"D"),
          (768 << 10, 1 << 20, b"E"), (800 << 10, 64 << 10, b"F")] * 20
for off, n, byte in writes:
    os.pwrite(fd, byte * n, off)
    expect[off:off + n] = byte * n
os.close(fd)
if open(f"{thost}/overlap", "rb").read() != bytes(expect):
    sys.exit("overlapping writes: the host file is not the last writer's data")
a = os.open(f"{mnt}/a", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
b = os.open(f"{mnt}/b", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
da, db = os.urandom(16 << 20), os.urandom(16 << 20)
for i in range(0, 16 << 20, 256 << 10):
    os.write(a, da[i:i + (256 << 10)]); os.write(b, db[i:i + (256 << 10)])
os.close(a); os.close(b)
if open(f"{host}/a", "rb").read() != da or open(f"{host}/b", "rb").read() != db:
    sys.exit("two files written in turn: a host copy differs")
EOF

rm -f "$WORK/full/overlap"
log "disk full, no fsync: the error reaches the program by close() at the latest"
python3 - "$WORK/full/big" <<'EOF' || fail "ENOSPC was lost"
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
try:
    for i in range(16):
        os.write(fd, os.urandom(1 << 20))
    os.close(fd)
except OSError as e:
    if e.errno != errno.ENOSPC:
        sys.exit(f"expected ENOSPC, got {e}")
    print(f"ENOSPC reported: {e}", file=sys.stderr)
else:
    sys.exit("16 MiB written to an 8 MiB export and closed without an error")
EOF
rm -f "$WORK/full/big" "$WORK/full/overlap"
if dd if=/dev/zero of="$WORK/full/dd" bs=1M count=16 status=none 2> "$WORK/dd.err"; then
    fail "dd of 16 MiB into 8 MiB (no fsync) succeeded"
fi
grep -q "No space left on device" "$WORK/dd.err" || fail "dd: expected ENOSPC, got: $(cat "$WORK/dd.err")"
rm -f "$WORK/full/dd"
head -c 3145728 /dev/urandom > "$WORK/three"
cp "$WORK/three" "$WORK/full/three" || fail "3 MiB into the emptied 8 MiB export"
cmp "$WORK/three" "$WORK/small/three" || fail "host copy of the 3 MiB file differs"

log "no_write_behind: the same stream, every write waited for"
head -c 33554432 /dev/urandom > "$WORK/src"
cp "$WORK/src" "$WORK/sync/copy" && cmp "$WORK/src" "$WORK/export/copy" || fail "copy through a no_write_behind mount"
cp "$WORK/src" "$WORK/m/copy2" && cmp "$WORK/src" "$WORK/export/copy2" || fail "copy through the default mount"
server_alive
log "ok"
