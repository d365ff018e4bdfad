#!/usr/bin/env bash
# Spliced READ answers (Sources/QtfsServerCore/Splicer.swift): READs above 128 KiB of
# tmpfs files go from the file's pages to the socket through a pipe, never through a
# buffer of the server. The bytes must be exactly the file's, whatever the offsets and
# sizes; concurrent readers must not mix; a file that shrinks under a read must cost a
# retry, not wrong data or a dead server; a client killed mid-read must not hurt others.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faultlib.sh"
mkdir -p "$WORK/tmp"
mount -t tmpfs -o size=1g qtfs-splice "$WORK/tmp" || { log "skip: cannot mount tmpfs"; exit 77; }
trap 'fault_cleanup; umount -l "$WORK/tmp" 2>/dev/null || true' EXIT
# Sealed answers are copied (they must be encrypted): only plaintext connections splice.
SERVER_ARGS="--crypt none" start_server "$WORK/tmp"
mount_fg "$WORK/tmp" "$WORK/m" crypt=none

log "256 MiB file: dd with 1 MiB blocks and cat give the host's bytes"
head -c 268435456 /dev/urandom > "$WORK/tmp/big"
SUM=$(sha256sum < "$WORK/tmp/big" | cut -d' ' -f1)
[ "$(dd if="$WORK/m/big" bs=1M status=none | sha256sum | cut -d' ' -f1)" = "$SUM" ] || fail "dd through the mount: other bytes"
echo 3 > /proc/sys/vm/drop_caches
[ "$(cat "$WORK/m/big" | sha256sum | cut -d' ' -f1)" = "$SUM" ] || fail "cat through the mount: other bytes"

log "O_DIRECT reads at odd offsets and sizes, across the end of the file"
python3 - "$WORK/m/big" "$WORK/tmp/big" <<'EOF' || fail "direct reads"
import os, random, sys
mnt, host = sys.argv[1], sys.argv[2]
size = os.path.getsize(host)
r = random.Random(7)
fd = os.open(mnt, os.O_RDONLY | os.O_DIRECT)
with open(host, "rb") as h:
    for i in range(300):
        n = r.choice([129 << 10, 200 << 10, (1 << 20) - 1, 1 << 20, r.randrange(130 << 10, 1 << 20)])
        off = r.randrange(0, size) if i % 10 else size - r.randrange(1, n)
        got = os.pread(fd, n, off)
        h.seek(off)
        if got != h.read(n):
            sys.exit(f"pread {n} at {off}: {len(got)} bytes that differ from the host's")
    if os.pread(fd, 1 << 20, size) != b"":
        sys.exit("a read at the end of the file returned data")
os.close(fd)
EOF

log "four readers at once, two on the same file"
head -c 67108864 /dev/urandom > "$WORK/tmp/other"
OSUM=$(sha256sum < "$WORK/tmp/other" | cut -d' ' -f1)
echo 3 > /proc/sys/vm/drop_caches
READERS=()
for f in big big other other; do
    ( [ "$(dd if="$WORK/m/$f" bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1)" = "$([ $f = big ] && echo "$SUM" || echo "$OSUM")" ] \
        || { echo "$f" >> "$WORK/mixed"; } ) &
    READERS+=($!)
done
wait "${READERS[@]}"   # not a bare wait: qtfs-fuse runs in the background too
[ -e "$WORK/mixed" ] && fail "concurrent readers got other bytes: $(cat "$WORK/mixed")"

log "a file that shrinks and grows on the host while the DPU reads it: only its bytes, no errors"
# attr_timeout=0 and an fstat before each read: the kernel then asks for the size every
# time, so READs go out for a 64 MiB file that the host cuts to 1 MiB meanwhile.
mount_fg "$WORK/tmp" "$WORK/m0" attr_timeout=0,entry_timeout=0,crypt=none
head -c 67108864 /dev/zero > "$WORK/tmp/flux"
python3 -c '
import os, sys, time
end = time.time() + 5
while time.time() < end:
    os.truncate(sys.argv[1], 1 << 20); os.truncate(sys.argv[1], 64 << 20)' "$WORK/tmp/flux" & FLUX=$!
python3 - "$WORK/m0/flux" <<'EOF' || fail "reads of a shrinking file"
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
end, i = time.time() + 4, 0
while time.time() < end:
    os.fstat(fd)
    got = os.pread(fd, 1 << 20, (i % 63 + 1) << 20)
    if got.count(0) != len(got):
        sys.exit(f"read {i}: bytes that were never in the file")
    i += 1
os.close(fd)
EOF
wait $FLUX
server_alive
n=$(grep -c "spliced READ cannot deliver" "$WORK/server.log" || true)
log "the race closed $n connection(s), each retried by the client without an error"
[ "$n" -gt 0 ] || fail "the host's truncations never hit a spliced READ (the close-and-retry path was not exercised)"

log "a client killed in the middle of a read: the server serves the next one"
# The reader reads the big file over and over; it is killed with its mount while one of its
# READs waits for the server's answer.
python3 - "$WORK/m/big" "$WORK/reading" <<'EOF' 2>/dev/null &
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
for i in range(1 << 30):
    os.pread(fd, 1 << 20, (i % 256) << 20)
    if i == 16: open(sys.argv[2], "w").close()
EOF
READER=$!; BG_PIDS+=($READER)
wait_for test -e "$WORK/reading" || fail "the reader read nothing through the mount"
wait_for sleeping_in 'fuse_direct_IO|request_wait_answer' "$READER" || fail "the reader never waited for a READ"
PORTS=$(client_ports "${FUSE_PIDS[0]}")
[ -n "$PORTS" ] || fail "no connection of qtfs-fuse ${FUSE_PIDS[0]} to port $PORT"
kill -9 "${FUSE_PIDS[0]}"
wait "$READER" 2>/dev/null || true
# shellcheck disable=SC2086
wait_for server_lets_go $PORTS || fail "the server still holds the killed client's connections"
server_alive
umount -l "$WORK/m" 2>/dev/null || true
mount_fg "$WORK/tmp" "$WORK/m2" crypt=none
[ "$(dd if="$WORK/m2/big" bs=1M status=none | sha256sum | cut -d' ' -f1)" = "$SUM" ] || fail "read after a killed client: other bytes"
server_alive
log "ok"
