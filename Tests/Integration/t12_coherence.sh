#!/usr/bin/env bash
# Coherence with the DEFAULT mount options (what users get): a change made on the host is
# seen through the mount within the bound docs/client.md documents (entry_timeout and
# attr_timeout, 1 s by default; "Caching"), also for a lookup answered from a directory
# snapshot (DirPrefetch); a change made through one name of a hard-linked file is seen at
# once through its other names. Each case first makes the mount cache what it will change.
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/export"
H=$WORK/export
start_server "$H"
mount_qtfs "$H" "$WORK/mnt"
M=$WORK/mnt

BOUND_MS=1000   # docs/client.md: entry_timeout=1, attr_timeout=1
MARGIN_MS=500   # polling and scheduling on a busy machine
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# seen SINCE_MS WHAT COMMAND...: polls COMMAND until it succeeds; fails when that takes
# longer than the bound plus the margin, counted from SINCE_MS (when the host changed).
seen() {
    local since=$1 what=$2; shift 2
    local t
    until "$@" >/dev/null 2>&1; do
        t=$(( $(now_ms) - since ))
        [ "$t" -le $((BOUND_MS + MARGIN_MS)) ] || fail "$what: not seen through the mount after $t ms (bound $BOUND_MS ms)"
        sleep 0.02
    done
    log "$what: seen after $(( $(now_ms) - since )) ms"
}
content_is() { [ "$(cat "$1")" = "$2" ]; }
mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }
gone() { [ ! -e "$1" ]; }
listed() { ls "$1" | has -x "$2"; }

log "host write, same size and new size, of a file the mount has cached"
echo one > "$H/f"
cat "$M/f" "$M/f" >/dev/null                # second open keeps the cached pages
echo ONE > "$H/f"; t=$(now_ms)
seen "$t" "same-size host write" content_is "$M/f" ONE
echo one-two-three > "$H/f"; t=$(now_ms)
seen "$t" "growing host write" content_is "$M/f" one-two-three

log "host truncate"
stat "$M/f" >/dev/null; cat "$M/f" >/dev/null
truncate -s 3 "$H/f"; t=$(now_ms)
seen "$t" "host truncate" content_is "$M/f" one

log "host chmod"
stat "$M/f" >/dev/null
chmod 600 "$H/f"; t=$(now_ms)
seen "$t" "host chmod" mode_is "$M/f" 600

log "host rename and unlink of names the mount has looked up"
echo r > "$H/r1"; echo u > "$H/u"
stat "$M/r1" "$M/u" >/dev/null; stat "$M/r2" >/dev/null 2>&1 || true   # r2: a cached negative entry
mv "$H/r1" "$H/r2"; rm "$H/u"; t=$(now_ms)
seen "$t" "host rename (old name gone)" gone "$M/r1"
seen "$t" "host rename (new name there)" content_is "$M/r2" r
seen "$t" "host unlink" gone "$M/u"

log "directories whose listings were prefetched for lookups: new file, chmod"
mkdir "$H/pd" "$H/pa"
for i in $(seq 1 20); do echo "$i" > "$H/pd/f$i"; echo "$i" > "$H/pa/f$i"; done
t=$(now_ms)
seen "$t" "new host directories" stat "$M/pd" "$M/pa"
ls "$M/pd" >/dev/null                                # pd's listing is in the kernel's cache
# Two lookup misses in a directory fetch its snapshot (pa's files stay unknown to the kernel).
stat "$M/pd/miss1" "$M/pd/miss2" "$M/pa/miss1" "$M/pa/miss2" >/dev/null 2>&1 || true
echo new > "$H/pd/new"; chmod 600 "$H/pa/f7"; t=$(now_ms)
# Late in the snapshots' life, ask: answered from them (absent, old mode). The kernel may
# cache those answers only for the rest of the snapshot's life.
sleep 0.9
stat "$M/pd/new" >/dev/null 2>&1 || true
stat "$M/pa/f7" >/dev/null
seen "$t" "new host file in a prefetched directory (lookup)" content_is "$M/pd/new" new
seen "$t" "new host file in a prefetched directory (listing)" listed "$M/pd" new
seen "$t" "host chmod of a file in a prefetched directory" mode_is "$M/pa/f7" 600

log "hard links: a change through one name is seen at once through the others"
echo data > "$M/h1"
mkdir "$M/hd"
stat "$M/h1" >/dev/null
ln "$M/h1" "$M/hd/h2"
[ "$(stat -c %h "$M/h1")" = 2 ] || fail "nlink of h1 right after ln: $(stat -c %h "$M/h1")"
chmod 640 "$M/hd/h2"
mode_is "$M/h1" 640 || fail "mode of h1 right after chmod of its link: $(stat -c %a "$M/h1")"
echo more >> "$M/h1"
content_is "$M/hd/h2" "$(printf 'data\nmore')" || fail "content of the link right after a write to h1"
truncate -s 2 "$M/hd/h2"
[ "$(stat -c %s "$M/h1")" = 2 ] || fail "size of h1 right after truncating its link: $(stat -c %s "$M/h1")"
rm "$M/hd/h2"
[ "$(stat -c %h "$M/h1")" = 1 ] || fail "nlink of h1 right after rm of its link: $(stat -c %h "$M/h1")"
log "small files read whole at their open: the pages come with the open (PageStore)"
mkdir "$H/small"
for i in $(seq 40); do head -c $((i * 100)) /dev/urandom > "$H/small/f$i"; done
sleep 1.2                                      # past the attribute timeout
reads=$(op_count "$M" read)
for i in $(seq 40); do
    cmp -s "$H/small/f$i" "$M/small/f$i" || fail "small/f$i read through the mount differs from the host"
done
r=$(( $(op_count "$M" read) - reads ))
[ "$r" = 0 ] || fail "40 small files read whole made $r READ requests (their pages came with the open)"
echo changed-on-the-host > "$H/small/f7"; t=$(now_ms)
seen "$t" "host rewrite of a file whose pages came with its open" content_is "$M/small/f7" changed-on-the-host
log "a file open for writing here: another open of it reads what was written"
exec 7<>"$M/small/f8"
printf 'WRITTEN' >&7
[ "$(head -c 7 "$M/small/f8")" = WRITTEN ] || fail "an open for reading beside a writer does not see the write"
exec 7>&-
server_alive
log "ok"
