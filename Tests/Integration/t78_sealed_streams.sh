#!/usr/bin/env bash
# Sealed relays and remote exec streams on the wire (docs/protocol.md, "Relays on a sealed
# connection"). Through a tap that records every byte between clients and server
# (byte_tap.py): the bytes of a unix socket bridge (both ways: unix_bridge and unix_serve)
# of a remote program's stdin and stdout, and of a socket qtfs-run connects to through a
# qtfs mount, are not in the capture with the default (aead), and are with crypt=none on
# both ends (so the check can fail). A flipped bit in
# a sealed STREAM frame resets the relay: no altered byte reaches the program, and the
# side that found it logs it; one in a remote exec frame ends qtfs-rexec with 255 and the
# host program is killed.
source "$(dirname "$0")/lib.sh"
EXP=$WORK/export H=$WORK/host D=$WORK/dpu
mkdir -p "$EXP/sock" "$H" "$D"
export H D
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; cleanup' EXIT
TAP=$(dirname "$0")/byte_tap.py
MARK=relayed-marker-$$-$RANDOM
python3 "$(dirname "$0")/unix_echo.py" "$H/echo.sock" host & PIDS+=($!)
python3 "$(dirname "$0")/unix_echo.py" "$D/echo.sock" dpu & PIDS+=($!)
python3 "$(dirname "$0")/unix_echo.py" "$EXP/sock/echo.sock" exported & PIDS+=($!)
printf '%s\n' /bin/sh /usr/bin/cat /bin/sleep > "$WORK/rexec-whitelist"
wait_for test -S "$H/echo.sock" -a -S "$D/echo.sock" -a -S "$EXP/sock/echo.sock" || fail "the echo servers did not start"

# serve NAME CRYPT: a qtfs-server with that --crypt on a free port (SPORT), log NAME.log.
serve() {
    SPORT=$(free_port)
    "$BIN/qtfs-server" --listen 127.0.0.1 --port "$SPORT" --key "$KEY" --crypt "$2" --export "$EXP" \
        --unix-connect "$H/" --unix-connect "$EXP/sock/" --unix-listen "$H/from-dpu-$1.sock" --rexec-whitelist "$WORK/rexec-whitelist" >"$WORK/$1.log" 2>&1 &
    PIDS+=($!)
    wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$SPORT" 2>/dev/null || fail "qtfs-server $1 did not listen"
}
# tap NAME [flip DIR KIND]: byte_tap.py in front of the last server (TPORT), capture NAME.capture.
tap() {
    local name=$1; shift
    TPORT=$(free_port)
    python3 "$TAP" "$TPORT" "$SPORT" "$WORK/$name.capture" "$@" >"$WORK/$name.tap" 2>&1 & PIDS+=($!)
    wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$TPORT" 2>/dev/null || fail "tap $name did not listen"
}
# bridge NAME CRYPT: qtfs-fuse through the tap with a bridge each way (log fuse-NAME.log).
bridge() {
    mkdir -p "$WORK/mnt-$1"
    "$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$TPORT,key=$KEY,crypt=$2,unix_bridge=$D/to-host-$1.sock:$H/echo.sock,unix_serve=$H/from-dpu-$1.sock:$D/echo.sock" \
        "$EXP" "$WORK/mnt-$1" >"$WORK/fuse-$1.log" 2>&1 &
    PIDS+=($!); MOUNTS+=("$WORK/mnt-$1")
    wait_for mountpoint -q "$WORK/mnt-$1" || fail "qtfs-fuse $1 did not mount: $(cat "$WORK/fuse-$1.log")"
}
# echo_through SOCKET TAG: the marker sent and answered through a bridged socket.
echo_through() {
    timeout 20 python3 - "$1" "$2" "$MARK" <<'PY'
import socket, sys
path, tag, mark = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
s = socket.socket(socket.AF_UNIX); s.settimeout(15); s.connect(path)
s.sendall(mark); s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(65536)
    if not b: break
    got += b
assert got == tag + b":" + mark, got
PY
}
# rexec_through CRYPT: the marker into a host program's stdin and back from its stdout.
rexec_through() {
    local out
    out=$(printf '%s' "$MARK" | timeout 20 "$BIN/qtfs-rexec" -s "127.0.0.1:$TPORT" -k "$KEY" --crypt "$1" /usr/bin/cat) \
        || fail "qtfs-rexec --crypt $1 failed"
    [ "$out" = "$MARK" ] || fail "qtfs-rexec --crypt $1 gave '$out'"
}
# run_through CRYPT: under qtfs-run, a connect(2) to the socket in the export seen through
# the qtfs mount reaches the host's socket; the marker goes there and back.
run_through() {
    local out
    out=$(timeout 30 "$BIN/qtfs-run" -s "127.0.0.1:$TPORT" -k "$KEY" --crypt "$1" -- python3 -c "
import socket, sys
c = socket.socket(socket.AF_UNIX); c.settimeout(15); c.connect(sys.argv[1])
c.sendall(sys.argv[2].encode()); c.shutdown(socket.SHUT_WR)
print(c.recv(1000).decode())" "$WORK/mnt-$1/sock/echo.sock" "$MARK") || fail "qtfs-run --crypt $1 failed: $out"
    [ "$out" = "exported:$MARK" ] || fail "qtfs-run --crypt $1: the socket answered '$out'"
}
count() { grep -o -a -F "$1" "$2" | wc -l; }

for crypt in aead none; do
    log "crypt $crypt on both ends: a bridge each way and a remote program's streams through the tap"
    serve "$crypt" "$crypt"; tap "$crypt"; bridge "$crypt" "$crypt"
    echo_through "$D/to-host-$crypt.sock" host || fail "DPU -> host bridge, crypt $crypt"
    echo_through "$H/from-dpu-$crypt.sock" dpu || fail "host -> DPU bridge, crypt $crypt"
    rexec_through "$crypt"
    run_through "$crypt"
done
[ -s "$WORK/aead.capture" ] || fail "the tap captured nothing"
[ "$(count "$MARK" "$WORK/aead.capture")" = 0 ] || fail "relayed bytes are visible on the wire with aead"
# Each way of each bridge, of the remote program and of qtfs-run's socket: out and back.
[ "$(count "$MARK" "$WORK/none.capture")" -ge 8 ] || fail "the crypt=none capture does not show the relayed bytes ($(count "$MARK" "$WORK/none.capture") times)"

log "a flipped bit in a sealed STREAM frame from the server resets the DPU's relay"
serve flip aead; tap flip flip s2c 3; bridge flip aead
timeout 20 python3 - "$D/to-host-flip.sock" <<'PY' || fail "the altered relay did not reset cleanly"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(15); s.connect(sys.argv[1])
s.sendall(b"altered on the way back")
try:
    got = s.recv(65536)
except ConnectionResetError:
    got = b""
assert got == b"", ("bytes of an altered frame reached the program", got)
PY
grep -q "flipped s2c kind=3" "$WORK/flip.tap" || fail "the tap did not flip a STREAM frame: $(cat "$WORK/flip.tap")"
grep -q "qtfs relay with .*sealed frame #[0-9]* failed authentication.*relay reset" "$WORK/fuse-flip.log" \
    || fail "qtfs-fuse did not log the reset relay: $(cat "$WORK/fuse-flip.log")"
echo_through "$D/to-host-flip.sock" host 2>/dev/null && fail "a second connection was not altered too (the tap flips every one)"
mountpoint -q "$WORK/mnt-flip" || fail "the mount went away with the relay"

log "a flipped bit in a sealed STREAM frame from the DPU resets the server's relay"
tap flip2 flip c2s 3
mkdir -p "$WORK/mnt-flip2"
"$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$TPORT,key=$KEY,unix_bridge=$D/to-host-flip2.sock:$H/echo.sock" "$EXP" "$WORK/mnt-flip2" \
    >"$WORK/fuse-flip2.log" 2>&1 & PIDS+=($!); MOUNTS+=("$WORK/mnt-flip2")
wait_for mountpoint -q "$WORK/mnt-flip2" || fail "qtfs-fuse flip2 did not mount"
echo_through "$D/to-host-flip2.sock" host 2>/dev/null && fail "an altered request reached the host socket's server"
grep -q "qtfs relay with .*sealed frame #[0-9]* failed authentication.*relay reset" "$WORK/flip.log" \
    || fail "qtfs-server did not log the reset relay: $(tail -5 "$WORK/flip.log")"

log "a flipped bit in a remote exec frame: qtfs-rexec exits 255 and the host program is killed"
tap rexec-s2c flip s2c 2
NAP=29.$$   # a sleep this test alone runs
set +e; out=$(timeout 20 "$BIN/qtfs-rexec" -s "127.0.0.1:$TPORT" -k "$KEY" /bin/sh -c "echo hello; sleep $NAP" </dev/null 2>&1); rc=$?; set -e
[ "$rc" = 255 ] || fail "qtfs-rexec with an altered frame exited $rc: $out"
has "tampered with" <<<"$out" || fail "qtfs-rexec does not say the connection was tampered with: $out"
has hello <<<"$out" && fail "the altered output reached the DPU: $out"
wait_for bash -c "! pgrep -f '[s]leep $NAP' >/dev/null" || fail "the host program outlived its altered connection"
tap rexec-c2s flip c2s 2
set +e; out=$(printf 'stdin data' | timeout 20 "$BIN/qtfs-rexec" -s "127.0.0.1:$TPORT" -k "$KEY" /usr/bin/cat 2>&1); rc=$?; set -e
[ "$rc" = 255 ] || fail "qtfs-rexec whose stdin frame was altered exited $rc: $out"
grep -q "remote exec: bad frame from the DPU: sealed frame #[0-9]* failed authentication" "$WORK/flip.log" \
    || fail "qtfs-server did not log the altered remote exec frame: $(tail -5 "$WORK/flip.log")"
log "PASS"
