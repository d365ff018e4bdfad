#!/usr/bin/env bash
# Faults: the network to the server is cut for 10 s (veth down; the server runs in a
# network namespace made here). On a hard mount operations wait and then finish; on a
# `soft,timeo=3` mount they fail with ETIMEDOUT while the link is down; a process blocked
# on a hard mount dies at SIGKILL (FUSE interrupt), and `umount -l` works during the cut.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faultlib.sh"
command -v ip >/dev/null || { log "skip: no ip(8)"; exit 77; }
NS=qtfsft$$; A=qfa$$; B=qfb$$; NET=10.$((200 + $$ % 50)).$(($$ % 250)); SERVER_NS_PID=""
ip netns add "$NS" || { log "skip: cannot create network namespaces"; exit 77; }
net_cleanup() {
    fault_cleanup
    [ -n "$SERVER_NS_PID" ] && kill "$SERVER_NS_PID" 2>/dev/null
    ip link del "$A" 2>/dev/null; ip netns del "$NS" 2>/dev/null
    true
}
trap net_cleanup EXIT
ip link add "$A" type veth peer name "$B"
ip link set "$B" netns "$NS"
ip addr add "$NET.1/24" dev "$A"; ip link set "$A" up
ip netns exec "$NS" ip addr add "$NET.2/24" dev "$B"
ip netns exec "$NS" ip link set "$B" up
ip netns exec "$NS" ip link set lo up

mkdir -p "$WORK/export"
echo "hello through the cut" > "$WORK/export/f"
PORT=$(free_port)
ip netns exec "$NS" "$BIN/qtfs-server" --listen "$NET.2" --port "$PORT" --key "$KEY" --export "$WORK/export" >"$WORK/server.log" 2>&1 &
SERVER_NS_PID=$!
wait_for bash -c "exec 3<>/dev/tcp/$NET.2/$PORT" 2>/dev/null || fail "server in namespace $NS did not listen"
mnt() {  # mnt NAME OPTIONS: like mount_qtfs, against the namespaced server, no caching
    mkdir -p "$WORK/$1"
    "$BIN/qtfs-fuse" -f -o "server=$NET.2:$PORT,key=$KEY,entry_timeout=0,attr_timeout=0,noprefetch${2:+,$2}" "$WORK/export" "$WORK/$1" >"$WORK/fuse-$1.log" 2>&1 &
    FUSE_PIDS+=($!); MOUNTS+=("$WORK/$1")
    wait_for mountpoint -q "$WORK/$1" || fail "mount $1 failed: $(cat "$WORK/fuse-$1.log")"
}
mnt hard ""
mnt soft "soft,timeo=3"
mnt victim ""
for m in hard soft victim; do [ "$(cat "$WORK/$m/f")" = "hello through the cut" ] || fail "$m: cannot read before the cut"; done

log "cut: ip link set $A down"
ip link set "$A" down
CUT_AT=$(date +%s.%N)
( set +e; cat "$WORK/hard/f" > "$WORK/hard.out" 2>&1; echo $? > "$WORK/hard.rc" ) &
HARD=$!; BG_PIDS+=($!)
( set +e; stat -c %s "$WORK/hard/f" > "$WORK/hardstat.out" 2>&1; echo $? > "$WORK/hardstat.rc" ) &
HARDSTAT=$!; BG_PIDS+=($!)
( set +e; start=$(date +%s.%N); stat "$WORK/soft/f" > "$WORK/soft.out" 2>&1; echo $? > "$WORK/soft.rc"
  echo "$start $(date +%s.%N)" > "$WORK/soft.time" ) &
SOFT=$!; BG_PIDS+=($!)
stat "$WORK/victim/f" >/dev/null 2>&1 &
VICTIM=$!; BG_PIDS+=($!)

wait $SOFT || true
[ "$(ip -o link show "$A" | grep -c 'state DOWN')" = 1 ] || fail "the link came back before the soft operation ended"
[ "$(cat "$WORK/soft.rc")" != 0 ] || fail "soft mount: stat succeeded during the cut"
grep -q "timed out" "$WORK/soft.out" || fail "soft mount: expected ETIMEDOUT, got: $(cat "$WORK/soft.out")"
SOFT_SECS=$(awk '{printf "%.1f", $2 - $1}' "$WORK/soft.time")
log "soft,timeo=3: stat failed during the cut after ${SOFT_SECS}s: $(cat "$WORK/soft.out")"

kill -0 $HARD 2>/dev/null && kill -0 $HARDSTAT 2>/dev/null || fail "hard mount: an operation ended during the cut"
umount -l "$WORK/victim" || fail "umount -l failed during the cut"
kill -9 $VICTIM
wait_for bash -c "! kill -0 $VICTIM 2>/dev/null" || fail "a process blocked on a hard mount survived SIGKILL (stuck in the kernel: $(cat /proc/$VICTIM/stat 2>/dev/null | cut -d' ' -f3))"
log "umount -l worked and SIGKILL ended a blocked process during the cut"

while [ "$(awk -v t="$CUT_AT" -v now="$(date +%s.%N)" 'BEGIN{print (now - t < 10)}')" = 1 ]; do sleep 0.2; done
log "link up after 10 s"
ip link set "$A" up
wait $HARD $HARDSTAT || true
[ "$(cat "$WORK/hard.rc")" = 0 ] && [ "$(cat "$WORK/hard.out")" = "hello through the cut" ] || fail "hard mount: read after the cut: $(cat "$WORK/hard.out")"
[ "$(cat "$WORK/hardstat.rc")" = 0 ] || fail "hard mount: stat after the cut: $(cat "$WORK/hardstat.out")"
log "hard mount: waiting operations finished after the link came back"
[ "$(cat "$WORK/soft/f")" = "hello through the cut" ] || fail "soft mount unusable after the cut"
kill -0 "$SERVER_NS_PID" || fail "server died"
