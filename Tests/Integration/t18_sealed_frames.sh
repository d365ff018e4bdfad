#!/usr/bin/env bash
# Sealed frames (docs/protocol.md, "Sealed frames") between qtfs-fuse and qtfs-server,
# with a man in the middle (mitm_relay.py) on loopback: a capture of a read shows none of
# the file's bytes with aead and shows them with crypt=none on both ends; a flipped bit,
# a dropped, reordered, replayed or injected frame (each way) is detected, the connection
# closes with a log line on both sides, the programs reading through the mount only ever
# see the host's bytes, and a hard mount carries on after the reconnect; a soft mount
# gives up (ETIMEDOUT) while every connection is being tampered with; wrong key, no key,
# crypt=none against a sealing server and a downgrade (suite bits stripped from either
# HELLO) are refused. qtinfo shows each connection's mode.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faultlib.sh"
export QTFS_CONTROL_DIR=$WORK/ctl
RELAY=$(dirname "$0")/mitm_relay.py
mkdir -p "$WORK/export"
MARK="qtfs-sealed-frames-known-text-$RANDOM$RANDOM"
for i in $(seq 1 400); do echo "$MARK line $i"; done > "$WORK/export/known.txt"
head -c 8388608 /dev/urandom > "$WORK/export/big"
BIG_SUM=$(sha256sum < "$WORK/export/big" | cut -d' ' -f1)
for i in 1 2; do seq 1 5000 > "$WORK/export/small$i"; done
start_server "$WORK/export"

# start_relay NAME SERVER_PORT: a relay in front of that server; sets RPORT and CPORT.
start_relay() {
    RPORT=$(free_port); CPORT=$(free_port)
    python3 "$RELAY" "$RPORT" "$2" "$CPORT" "$WORK/$1.capture" > "$WORK/$1.log" 2>&1 &
    BG_PIDS+=($!)
    wait_for grep -q listening "$WORK/$1.log" || fail "relay $1 did not start: $(cat "$WORK/$1.log")"
}
# relay_cmd CPORT COMMAND: arms a tampering (mitm_relay.py's commands).
relay_cmd() {
    local reply
    exec 7<>"/dev/tcp/127.0.0.1/$1"
    echo "$2" >&7; read -r reply <&7; exec 7>&-
    [ "$reply" = ok ] || fail "relay did not take '$2'"
}
# mount_via PORT DIR OPTIONS: a foreground qtfs-fuse (log in $WORK/fuse-DIR.log).
mount_via() {
    mkdir -p "$WORK/$2"
    "$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$1,key=$KEY,conns=1,$3" "$WORK/export" "$WORK/$2" >"$WORK/fuse-$2.log" 2>&1 &
    MOUNTS+=("$WORK/$2"); FUSE_PIDS+=($!)
    wait_for mountpoint -q "$WORK/$2" || fail "qtfs-fuse did not mount $2: $(cat "$WORK/fuse-$2.log")"
}
# modes COMPONENT-PREFIX: the crypt field of each of its connections, sorted, space-separated.
modes() {
    "$BIN/qtinfo" --all --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print(" ".join(sorted(c.get("crypt") or "-" for x in doc["components"] if x["name"].startswith(sys.argv[1])
                      for c in x["status"]["connections"] if c["state"] == "active")))' "$1"
}
count() { grep -acF -- "$1" "$2" 2>/dev/null || true; }
# grows PATTERN FILE N: more than N lines of FILE have PATTERN (for wait_for: re-evaluated).
grows() { [ "$(count "$1" "$2")" -gt "$3" ]; }
lines_above() { [ "$(wc -l < "$1")" -gt "$2" ]; }
AES=$(grep -qw aes /proc/cpuinfo && echo aes-256-gcm || echo chacha20-poly1305)

log "aead (the default with a key): a read through the relay shows none of the file's bytes"
start_relay r1 "$PORT"; R1=$RPORT; C1=$CPORT
mount_via "$R1" hard attr_timeout=0,entry_timeout=0
cmp "$WORK/hard/known.txt" "$WORK/export/known.txt" || fail "known.txt read through the mount differs"
[ "$(count "$MARK" "$WORK/r1.capture")" = 0 ] || fail "the capture of an aead connection shows the file's text"
[ -s "$WORK/r1.capture" ] || fail "the relay captured nothing"
[ "$(modes fuse-)" = "$AES" ] || fail "qtinfo: the mount's connection reads '$(modes fuse-)', expected $AES"
[ "$(modes server-)" = "$AES" ] || fail "qtinfo: the server's connection reads '$(modes server-)', expected $AES"

log "tampering, each way: detected, closed and logged on both sides, reconnected; readers see only the host's bytes"
M=$WORK/hard
( while :; do sha256sum < "$M/big" | cut -d' ' -f1 >> "$WORK/sums"; done ) 2>>"$WORK/reader.err" &
BG_PIDS+=($!)
for i in 1 2; do ( while :; do cmp -s "$M/small$i" "$WORK/export/small$i" || echo "small$i differs" >> "$WORK/bad"; done ) 2>>"$WORK/reader.err" & BG_PIDS+=($!); done
wait_for test -s "$WORK/sums" || fail "the reader made no progress"
for fault in flip drop reorder replay inject; do
    for dir in c2s s2c; do
        applied=$(count "applied $fault $dir" "$WORK/r1.log")
        srv_open=$(count "sealed frame failed to open" "$WORK/server.log")
        cli_open=$(count "failed to open" "$WORK/fuse-hard.log")
        srv_closed=$(count "connection closed" "$WORK/server.log")
        reconnected=$(count "reconnected to" "$WORK/fuse-hard.log")
        relay_cmd "$C1" "$fault $dir"
        wait_for grows "applied $fault $dir" "$WORK/r1.log" "$applied" || fail "$fault $dir: the relay never applied it"
        if [ "$dir" = c2s ]; then
            wait_for grows "sealed frame failed to open" "$WORK/server.log" "$srv_open" || fail "$fault $dir: the server did not detect it"
        else
            wait_for grows "failed to open" "$WORK/fuse-hard.log" "$cli_open" || fail "$fault $dir: the client did not detect it"
        fi
        wait_for grows "connection closed" "$WORK/server.log" "$srv_closed" || fail "$fault $dir: the server did not log the closed connection"
        wait_for grows "reconnected to" "$WORK/fuse-hard.log" "$reconnected" || fail "$fault $dir: the client did not log a reconnect"
        sums=$(wc -l < "$WORK/sums")
        wait_for lines_above "$WORK/sums" "$((sums + 1))" || fail "$fault $dir: reads did not carry on after the reconnect"
        log "  $fault $dir: $(grep "applied $fault $dir" "$WORK/r1.log" | tail -1 | cut -d' ' -f4-), detected, reconnected"
    done
done
kill "${BG_PIDS[@]:1}" 2>/dev/null; wait "${BG_PIDS[@]:1}" 2>/dev/null || true
BG_PIDS=("${BG_PIDS[0]}")
[ ! -e "$WORK/bad" ] || fail "a reader saw altered bytes: $(sort -u "$WORK/bad" | head -3)"
[ ! -s "$WORK/reader.err" ] || fail "a reader got an error on the hard mount: $(head -3 "$WORK/reader.err")"
[ "$(sort -u "$WORK/sums")" = "$BIG_SUM" ] || fail "a read of big gave other bytes: $(sort -u "$WORK/sums" | grep -v "$BIG_SUM" | head -2)"
log "  $(wc -l < "$WORK/sums") reads of big, all with the host's checksum"

log "soft mount: one tampered frame costs a reconnect; tampering with every connection gives ETIMEDOUT"
mount_via "$R1" soft soft,timeo=3,attr_timeout=0,entry_timeout=0
relay_cmd "$C1" "flip c2s"
cmp -s "$WORK/soft/small1" "$WORK/export/small1" || fail "soft mount: a read after one tampered frame failed"
relay_cmd "$C1" "flip-all c2s"
stat "$WORK/hard/known.txt" >/dev/null 2>"$WORK/hard-stat.err" &
HARD_STAT=$!
start=$(date +%s)
if stat "$WORK/soft/known.txt" > /dev/null 2> "$WORK/soft.err"; then fail "soft mount: stat succeeded while every connection was tampered with"; fi
grep -q "Connection timed out" "$WORK/soft.err" || fail "soft mount: not ETIMEDOUT: $(cat "$WORK/soft.err")"
log "  soft stat failed after $(( $(date +%s) - start )) s: $(cat "$WORK/soft.err")"
kill -0 "$HARD_STAT" 2>/dev/null || fail "hard mount: stat did not wait while every connection was tampered with"
relay_cmd "$C1" stop
wait "$HARD_STAT" || fail "hard mount: stat failed after the tampering stopped: $(cat "$WORK/hard-stat.err")"
cmp "$WORK/hard/known.txt" "$WORK/export/known.txt" || fail "hard mount: known.txt differs after the tampering stopped"

# refused PORT NAME OPTIONS TEXT: qtfs-fuse with these options must fail, saying TEXT.
refused() {
    mkdir -p "$WORK/$2"
    if timeout 20 "$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$1,$3" "$WORK/export" "$WORK/$2" > "$WORK/$2.out" 2>&1; then
        fail "$2: qtfs-fuse mounted"
    fi
    mountpoint -q "$WORK/$2" && fail "$2: mounted"
    grep -q -- "$4" "$WORK/$2.out" || fail "$2: the error does not say '$4': $(cat "$WORK/$2.out")"
}
log "refused: wrong key, no key, crypt=none against a sealing server, suite bits stripped from either HELLO"
"$BIN/qtfs-server" --generate-key "$WORK/other.key" > /dev/null
refused "$PORT" wrongkey "key=$WORK/other.key" "key files differ"
refused "$PORT" nokey "conns=1" "key=FILE"
grep -q "offers no cipher suite" "$WORK/server.log" || fail "no key: the server did not log the refusal"
refused "$PORT" plain "key=$KEY,crypt=none" "requires sealed frames"
relay_cmd "$C1" "strip c2s"
refused "$R1" strip-c2s "key=$KEY" "altered"
relay_cmd "$C1" "strip s2c"
refused "$R1" strip-s2c "key=$KEY" "no cipher suite"
[ "$(grep -c "applied strip" "$WORK/r1.log")" = 2 ] || fail "the relay did not strip both HELLOs"

log "crypt=none on both ends: the same read shows the file's bytes in the capture"
mv "$WORK/server.log" "$WORK/server-sealed.log"   # the first server keeps writing there
BG_PIDS+=("$SERVER_PID")
SERVER_ARGS="--crypt none" start_server "$WORK/export"
grep -q "crypt none: frames travel in plaintext" "$WORK/server.log" || fail "no warning at start for --crypt none"
start_relay r2 "$PORT"
mount_via "$RPORT" plainmnt crypt=none
cmp "$WORK/plainmnt/known.txt" "$WORK/export/known.txt" || fail "known.txt through the crypt=none mount differs"
[ "$(count "$MARK" "$WORK/r2.capture")" -gt 0 ] || fail "the capture of a crypt=none connection does not show the file's text"
[ "$(modes "fuse-$(fuse_pid "$WORK/plainmnt")")" = none ] || fail "qtinfo: the crypt=none mount reads '$(modes "fuse-$(fuse_pid "$WORK/plainmnt")")'"
refused "$PORT" aead-vs-none "key=$KEY" "no cipher suite"
log ok
