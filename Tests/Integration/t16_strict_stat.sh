#!/usr/bin/env bash
# A strict mount (entry and attribute timeouts 0): stat(2) costs one round trip, the
# LOOKUP, whose attributes answer the GETATTR the kernel sends next in the same call
# (docs/client.md, "Strict mounts"); and every stat still sees the host as it is now:
# changes made on the host and through the mount right before each stat.
source "$(dirname "$0")/lib.sh"
export QTFS_CONTROL_DIR=$WORK/ctl      # private: other qtfs processes on this machine stay out
mount_tmpfs "$WORK/export"
printf 0123456789 >"$WORK/export/f"
start_server "$WORK/export"
mount_qtfs "$WORK/export" "$WORK/mnt" "entry_timeout=0,attr_timeout=0"
H=$WORK/export/f M=$WORK/mnt/f

# count OP: how many OP requests the server has answered so far.
count() { op_count server "$1"; }

log "200 stats: a LOOKUP each, the GETATTRs answered from them"
lookups=$(count lookup) getattrs=$(count getattr)
python3 -c 'import os, sys; [os.stat(sys.argv[1]) for _ in range(200)]' "$M"
l=$(( $(count lookup) - lookups )) g=$(( $(count getattr) - getattrs ))
[ "$l" -ge 200 ] || fail "200 stats on a strict mount sent only $l LOOKUPs: something kept the name"
# A GETATTR that comes more than a millisecond after its LOOKUP (a busy machine) still goes out.
[ "$g" -lt 100 ] || fail "200 stats sent $g GETATTRs: the LOOKUP's attributes did not answer them"
log "  $l LOOKUPs, $g GETATTRs"

log "host changes right before each stat are seen"
for i in $(seq 1 30); do
    printf x >>"$H"
    chmod "$(printf '%o' $(( 0600 + i % 2 * 0044 )))" "$H"
    want="$(( 10 + i )) $(printf '%o' $(( 0600 + i % 2 * 0044 )))"
    got=$(stat -c '%s %a' "$M")
    [ "$got" = "$want" ] || fail "round $i: stat through the mount says '$got', the host has '$want'"
done

log "changes through the mount right before each stat are seen"
for i in $(seq 1 30); do
    truncate -s "$i" "$M"
    [ "$(stat -c %s "$M")" = "$i" ] || fail "round $i: size after truncate to $i is $(stat -c %s "$M")"
    printf yy >>"$M"
    [ "$(stat -c %s "$M")" = "$(( i + 2 ))" ] || fail "round $i: size after appending 2 bytes is $(stat -c %s "$M")"
    chmod 0640 "$M"; [ "$(stat -c %a "$M")" = 640 ] || fail "round $i: mode after chmod 640 is $(stat -c %a "$M")"
    chmod 0600 "$M"; [ "$(stat -c %a "$M")" = 600 ] || fail "round $i: mode after chmod 600 is $(stat -c %a "$M")"
done
log "a deep path: the walk's later components are looked up ahead, and host changes still show"
mkdir -p "$WORK/export/a/b/c/d"; printf deep >"$WORK/export/a/b/c/d/e"
# ahead: kernel LOOKUPs answered with lookups sent ahead (qtinfo --status).
ahead() {
    "$BIN/qtinfo" --status --json -C "$WORK/mnt" | python3 -c '
import json, sys
print(json.load(sys.stdin)["components"][0]["status"].get("lookupsAhead") or 0)'
}
before=$(ahead) lookups=$(count lookup)
python3 -c 'import os, sys; [os.stat(sys.argv[1]) for _ in range(100)]' "$WORK/mnt/a/b/c/d/e"
n=$(( $(ahead) - before )) l=$(( $(count lookup) - lookups ))
[ "$l" -ge 500 ] || fail "100 stats of a 5-component path sent the host $l LOOKUPs: something kept names"
[ "$n" -ge 200 ] || fail "100 stats of a 5-component path: only $n LOOKUPs answered ahead (want most of 400)"
log "  $l LOOKUPs, $n of the kernel's answered ahead"
for i in $(seq 1 10); do   # each stat right after a host change: renamed away, back, replaced
    mv "$WORK/export/a/b" "$WORK/export/a/x"
    stat "$WORK/mnt/a/b/c/d/e" >/dev/null 2>&1 && fail "round $i: a/b renamed away on the host, still found"
    mv "$WORK/export/a/x" "$WORK/export/a/b"
    [ "$(stat -c %s "$WORK/mnt/a/b/c/d/e")" = 4 ] || fail "round $i: a/b back on the host, not found"
    rm "$WORK/export/a/b/c/d/e"; printf "%s-longer" "$i" >"$WORK/export/a/b/c/d/e"
    [ "$(stat -c %s "$WORK/mnt/a/b/c/d/e")" = $(( ${#i} + 7 )) ] || fail "round $i: e replaced on the host, not seen"
    printf deep >"$WORK/export/a/b/c/d/e"
done

log "files created and written here: the kernel's capability question is answered here"
xattrs=$(count getxattr)
for i in $(seq 20); do echo "$i" > "$WORK/mnt/new$i"; done
x=$(( $(count getxattr) - xattrs ))
[ "$x" = 0 ] || fail "20 files created and written asked the host $x times for security.capability"
[ "$(cat "$WORK/export/new20")" = 20 ] || fail "new20 did not reach the host"
# A capability set through the mount while the creating handle is still open is seen.
python3 - "$WORK/mnt/capped" <<'PY' || fail "a capability set on a file created and still open here is not read back"
import os, struct, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o755)
os.write(fd, b"x")
cap = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)   # v2, effective, CAP_NET_RAW
os.setxattr(sys.argv[1], "security.capability", cap)
assert os.getxattr(sys.argv[1], "security.capability") == cap
os.close(fd)
PY
server_alive
log "PASS"
