#!/usr/bin/env bash
# The lookup prefetch (docs/client.md, "Lookup prefetch") with the default options, counted
# in the server's own statistics:
#   - a small directory is answered from one listing: 100 stats, a handful of LOOKUPs;
#   - a directory of 3,000 entries (more than the first chunk the asking lookup waits
#     for) is read on in the background, and its snapshot then answers;
#   - a create loop in a directory of thousands of entries does not start a listing
#     again and again (its creates are replayed onto the listing in flight);
#   - a directory of 100,000 entries (over the 65,536 limit, as its size of 2,000,040
#     bytes on tmpfs says) is never listed; lookups there go to the server and find the
#     right files. (One that must be read to be found too big is DirPrefetchTests' case.)
source "$(dirname "$0")/lib.sh"
export QTFS_CONTROL_DIR=$WORK/ctl      # private: other qtfs processes on this machine stay out
mount_tmpfs "$WORK/export"
python3 - "$WORK/export" <<'EOF'
import os, sys
for d, n in (("small", 100), ("mid", 3000), ("huge", 100000)):
    os.mkdir(os.path.join(sys.argv[1], d))
    for i in range(n):
        os.close(os.open(os.path.join(sys.argv[1], d, "f%06d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
EOF
start_server "$WORK/export"
mount_qtfs "$WORK/export" "$WORK/mnt"
M=$WORK/mnt

# count OP: how many OP requests the server has answered so far.
count() { op_count server "$1"; }
# stat_names DIR FIRST STEP N: stat N names of DIR (f<FIRST>, f<FIRST+STEP>, ...) in one process.
stat_names() {
    python3 - "$@" <<'EOF'
import os, sys
d, first, step, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(first, first + step * n, step):
    st = os.stat(os.path.join(d, "f%06d" % i))
    assert st.st_size == 0 and st.st_mode & 0o777 == 0o644, (i, st)
EOF
}
# lookups_sent DIR FIRST STEP N: the LOOKUPs the server answered for stat_names DIR FIRST STEP N.
lookups_sent() {
    local before
    before=$(count lookup)
    stat_names "$@"
    echo $(( $(count lookup) - before ))
}
# listing_settled: the server's READDIR count stays put for a second (a fetch has ended).
listing_settled() {
    local a b
    a=$(count readdir); sleep 1; b=$(count readdir)
    [ "$a" = "$b" ]
}

log "a small directory is answered from one listing"
n=$(lookups_sent "$M/small" 0 1 100)
[ "$n" -le 5 ] || fail "100 stats in a 100-entry directory sent $n LOOKUPs: no snapshot answered them"

log "a 3,000-entry directory is read on in the background, then answers"
stat_names "$M/mid" 0 1 2
wait_for listing_settled || fail "the listing of mid never finished"
n=$(lookups_sent "$M/mid" 2 1 2998)
[ "$n" -le 100 ] || fail "2,998 stats after mid's listing sent $n LOOKUPs: the background listing was not installed"

log "a create loop in a growing directory does not list it again on every create"
# Past the first 64 KiB a listing goes on in the background while the creates go on;
# they are replayed onto it. Cutting it instead made every second create start a new one.
mkdir "$WORK/export/grow"
lists=$(count readdir)
python3 - "$M/grow" <<'EOF'
import os, sys
for i in range(5000):
    os.close(os.open(os.path.join(sys.argv[1], "c%06d" % i), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
EOF
made=$(( $(count readdir) - lists ))
log "5,000 creates: $made READDIRs"
[ "$made" -le 100 ] || fail "5,000 creates in one directory sent $made READDIRs: its listing was started again and again"
[ "$(ls "$M/grow" | wc -l)" = 5000 ] || fail "the grow directory does not list the 5,000 files created"

log "a 100,000-entry directory is not listed: its size says it is over the limit"
# Mounted by itself, so that no other directory's listing (the export root's, refreshed
# when its snapshot ages) moves the READDIR count.
mount_qtfs "$WORK/export/huge" "$WORK/huge"
lists=$(count readdir)
n=$(lookups_sent "$WORK/huge" 5 20000 5)
[ "$n" -ge 5 ] || fail "5 stats in the huge directory sent only $n LOOKUPs: something answered from a listing over the limit"
n=$(lookups_sent "$WORK/huge" 7 9000 10)
[ "$n" -ge 10 ] || fail "10 stats in the huge directory sent only $n LOOKUPs: something answered from a listing over the limit"
sleep 1
[ "$(count readdir)" = "$lists" ] ||
    fail "misses in the huge directory read its listing ($lists READDIRs before, $(count readdir) after)"
server_alive
log "PASS"
