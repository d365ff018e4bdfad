#!/usr/bin/env bash
# FUSE over io_uring (docs/client.md): with the kernel's enable_uring on, a mount made with
# -o uring answers its requests through the ring (qtinfo shows the loop "io_uring" and a
# count of ring-answered requests that grows with every uncached stat), real tools get the
# right bytes through it, its queues grow while requests wait long (readers blocked on a
# host fifo), forgets come gathered and a signal still interrupts a blocked read, and a
# -o nouring mount beside it answers none through the ring.
# With enable_uring off, -o uring falls back to /dev/fuse with one log line and works.
# The parameter is put back as it was, whatever happens.
source "$(dirname "$0")/lib.sh"
PARAM=/sys/module/fuse/parameters/enable_uring
[ -w "$PARAM" ] || fail "$PARAM is missing or not writable: run as root on a kernel built with CONFIG_FUSE_IO_URING (6.14+)"
ORIG=$(cat "$PARAM")
restore_param() { echo "$ORIG" > "$PARAM" || true; cleanup; }
trap restore_param EXIT
export QTFS_CONTROL_DIR=$WORK/ctl      # private: other qtfs processes on this machine stay out
Q="$BIN/qtinfo"

# status MOUNTPOINT EXPR: EXPR evaluated on the mount's qtinfo status (s).
status() {
    "$Q" --status --json -C "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)["components"][0]["status"]
print(eval(sys.argv[1]))' "$2"
}
# mount_fg SRC DST OPTS: a foreground qtfs-fuse (its log lines stay in fuse-DST.log).
mount_fg() {
    mkdir -p "$2"
    "$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$PORT,key=$KEY,$3" "$1" "$2" >"$WORK/fuse-$(basename "$2").log" 2>&1 &
    MOUNTS+=("$2")
    local i
    for i in $(seq 1 100); do mountpoint -q "$2" && return 0; sleep 0.1; done
    fail "qtfs-fuse did not mount $2: $(cat "$WORK/fuse-$(basename "$2").log")"
}
wait_control() {  # the control socket appears just after the mount
    local i
    for i in $(seq 1 50); do "$Q" --status -C "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
    fail "no qtinfo status for $1"
}
# Every stat reaches qtfs-fuse: no attribute or name caching.
STRICT=attr_timeout=0,entry_timeout=0

mkdir -p "$WORK/export/tree" "$WORK/local"
head -c 5000000 /dev/urandom > "$WORK/big"
start_server "$WORK/export"

log "enable_uring=Y: one mount with -o uring, one with -o nouring"
echo Y > "$PARAM"
mount_fg "$WORK/export" "$WORK/ring" "uring,$STRICT"
mount_fg "$WORK/export" "$WORK/dev" "nouring,$STRICT"
wait_control "$WORK/ring"; wait_control "$WORK/dev"
[ "$(status "$WORK/ring" 's["requestLoop"]')" = io_uring ] || fail "the -o uring mount does not use the ring: $(cat "$WORK/fuse-ring.log")"
[ "$(status "$WORK/dev" 's["requestLoop"]')" = /dev/fuse ] || fail "the -o nouring mount says it uses the ring"
"$Q" --status -C "$WORK/ring" | has "request loop io_uring" || fail "qtinfo's text does not name the ring"

log "every uncached stat is one more request answered through the ring"
before=$(status "$WORK/ring" 's["uringRequests"]')
touch "$WORK/export/probe"
for i in $(seq 1 200); do stat "$WORK/ring/probe" >/dev/null; done
after=$(status "$WORK/ring" 's["uringRequests"]')
[ $((after - before)) -ge 200 ] || fail "200 stats went through the ring only $((after - before)) times"

log "real tools through the ring mount: cp, cat, md5sum, tar, find, stat, mkdir, rm"
M=$WORK/ring
cp "$WORK/big" "$M/big"
cmp "$WORK/big" "$WORK/export/big" || fail "cp into the mount: the host has other bytes"
[ "$(cat "$M/big" | md5sum)" = "$(md5sum < "$WORK/big")" ] || fail "cat through the mount: other bytes"
[ "$(stat -c '%s %a' "$M/big")" = "$(stat -c '%s %a' "$WORK/big")" ] || fail "stat size/mode differ"
tar -C "$REPO" -cf "$WORK/src.tar" Sources/CFuse Sources/QtfsClientFuse docs
tar -C "$M/tree" -xf "$WORK/src.tar"
tar -C "$WORK/local" -xf "$WORK/src.tar"
diff -r "$WORK/local" "$M/tree" || fail "diff -r after tar extract into the mount"
diff -r "$WORK/local" "$WORK/export/tree" || fail "the host's tree differs from the one written"
[ "$(cd "$M/tree" && find . | sort)" = "$(cd "$WORK/local" && find . | sort)" ] || fail "find differs"
(cd "$M/tree" && find . -type f -exec md5sum {} + | sort -k2) > "$WORK/remote.md5"
(cd "$WORK/local" && find . -type f -exec md5sum {} + | sort -k2) > "$WORK/local.md5"
diff "$WORK/local.md5" "$WORK/remote.md5" || fail "md5sums through the mount differ"
mkdir -p "$M/a/b/c" && echo hi > "$M/a/b/c/f"
[ "$(cat "$WORK/export/a/b/c/f")" = hi ] || fail "mkdir -p and a write did not reach the host"
rm -r "$M/a" "$M/tree" "$M/big"
[ -z "$(ls "$WORK/export" | grep -v probe)" ] || fail "rm -r left $(ls "$WORK/export")"
served=$(status "$WORK/ring" 's["uringRequests"]')
[ "$served" -gt $((after + 1000)) ] || fail "the tools' requests did not go through the ring ($((served - after)))"

log "40 readers blocked on host fifos hold 40 ring entries: stat and ls still answer"
mkdir "$WORK/export/fifos"
readers=()
for i in $(seq 1 40); do
    mkfifo "$WORK/export/fifos/f$i"
    timeout 60 cat "$M/fifos/f$i" > "$WORK/reader$i.out" & readers+=($!)
done
sleep 2
timeout 10 stat "$M/probe" >/dev/null || fail "stat hangs while 40 readers are blocked: the ring queues did not grow"
timeout 10 ls "$M" >/dev/null || fail "ls hangs while 40 readers are blocked"
for i in $(seq 1 40); do echo "to $i" > "$WORK/export/fifos/f$i"; done   # the host's writers
for p in "${readers[@]}"; do wait "$p" || fail "a blocked fifo reader failed or timed out"; done
for i in $(seq 1 40); do [ "$(cat "$WORK/reader$i.out")" = "to $i" ] || fail "fifo $i read '$(cat "$WORK/reader$i.out")'"; done
rm -r "$WORK/export/fifos"

log "forgets come gathered: removing 400 files through the ring costs few /dev/fuse reads"
# With the ring serving requests only FORGETs and INTERRUPTs come through /dev/fuse; one
# thread reads them, every 10 ms at most, so a burst of forgets arrives in a few batches.
forget_reads() { echo $(( $(op_count "$M" forget) + $(op_count "$M" forget_multi) )); }
mkdir "$M/many" && (cd "$M/many" && touch $(seq -f 'f%g' 1 400))
[ "$(ls "$WORK/export/many" | wc -l)" = 400 ] || fail "touch of 400 files through the ring mount"
before=$(forget_reads)
rm -r "$M/many"
sleep 1   # the kernel queues the forgets after rm returns
reads=$(( $(forget_reads) - before ))
[ "$reads" -ge 1 ] || fail "no FORGET reached qtfs-fuse after 400 files were removed"
[ "$reads" -le 100 ] || fail "400 forgotten files took $reads /dev/fuse reads: the forgets were not gathered"

log "a signal interrupts a fifo read blocked in a ring entry (the INTERRUPT comes through /dev/fuse)"
mkfifo "$WORK/export/slow"
interrupted_fifo_read "$WORK/export/slow" "$M/slow" || fail "a signal did not interrupt a blocked read through the ring mount"
rm "$WORK/export/slow"

log "the -o nouring mount answered nothing through the ring"
for i in $(seq 1 50); do stat "$WORK/dev/probe" >/dev/null; done
[ "$(status "$WORK/dev" 's["uringRequests"]')" = 0 ] || fail "the -o nouring mount counts ring requests"

log "unmounting a ring mount ends its qtfs-fuse"
pid=$(status "$WORK/ring" 's["pid"]')
fusermount3 -u "$WORK/ring"
for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "qtfs-fuse $pid still runs 5 s after its ring mount was unmounted"

log "enable_uring=N: -o uring falls back to /dev/fuse, says so once, and works"
echo N > "$PARAM"
mount_fg "$WORK/export" "$WORK/fallback" "uring,$STRICT"
wait_control "$WORK/fallback"
[ "$(status "$WORK/fallback" 's["requestLoop"]')" = /dev/fuse ] || fail "fallback mount claims the ring"
cp "$WORK/big" "$WORK/fallback/big2"
cmp "$WORK/big" "$WORK/export/big2" || fail "cp through the fallback mount: other bytes"
[ "$(status "$WORK/fallback" 's["uringRequests"]')" = 0 ] || fail "fallback mount counts ring requests"
[ "$(grep -c "did not offer" "$WORK/fuse-fallback.log")" = 1 ] || fail "no single fallback line: $(cat "$WORK/fuse-fallback.log")"
log "PASS"
