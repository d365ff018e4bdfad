#!/usr/bin/env bash
# The DPU side's configuration file (docs/client.md, "Client configuration"): qtfs-fuse
# (and mount.qtfs), qtfs-rexec and qtinfo ping take server, port, key_file and conns from it
# when their command line names none; the command line and CMD_NET_ADDR override it; a mistake in it
# names the file and line.
source "$(dirname "$0")/lib.sh"
EXP=$WORK/export
mkdir -p "$EXP" "$WORK/m1" "$WORK/m2"
echo "via config" >"$EXP/hello"
echo /usr/bin/true >"$WORK/rexec-whitelist"
SERVER_ARGS="--rexec-whitelist $WORK/rexec-whitelist" start_server "$EXP"
export QTFS_CLIENT_CONF=$WORK/client.conf
write_conf() { printf '%s\n' "$@" >"$QTFS_CLIENT_CONF"; }
# fuse_mount DIR [ARGS...]: qtfs-fuse of the export on DIR with only ARGS as options.
fuse_mount() {
    local dir=$1; shift
    "$BIN/qtfs-fuse" "$@" "$EXP" "$dir" >"$WORK/fuse-$(basename "$dir").log" 2>&1 &
    MOUNTS+=("$dir")
    wait_for mountpoint -q "$dir" || fail "qtfs-fuse $* did not mount: $(cat "$WORK/fuse-$(basename "$dir").log")"
}

log "qtfs-fuse with no server= or key=: both, and conns, from the configuration"
write_conf "# the test server" "server = 127.0.0.1" "port = $PORT   # server names no port" \
    "key_file = $KEY" "conns = 2"
fuse_mount "$WORK/m1"
[ "$(cat "$WORK/m1/hello")" = "via config" ] || fail "read through the configured mount"
fuse_pid=$(pgrep -f "qtfs-fuse $EXP $WORK/m1")
conns=$(ss -Htnp state established "( dport = :$PORT )" | grep -c "pid=$fuse_pid,")
[ "$conns" = 2 ] || fail "conns = 2 in the configuration gave $conns connections"

log "qtfs-rexec with no -s or -k: from the configuration; CMD_NET_ADDR overrides it"
"$BIN/qtfs-rexec" /usr/bin/true || fail "qtfs-rexec with the configured server and key"
out=$(CMD_NET_ADDR=tcp://127.0.0.1:1 "$BIN/qtfs-rexec" /usr/bin/true 2>&1) && fail "CMD_NET_ADDR did not override"
has "127.0.0.1:1" <<<"$out" || fail "CMD_NET_ADDR's server not used: $out"

log "qtinfo ping with no -s or -k: the configured server, authenticated with the configured key"
out=$("$BIN/qtinfo" ping -c 1 2>&1) || fail "qtinfo ping with the configuration: $out"
has "127.0.0.1:$PORT: " <<<"$out" && has "key accepted" <<<"$out" || fail "qtinfo ping did not use the configuration: $out"
(umask 077; od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$WORK/other.key")
out=$("$BIN/qtinfo" ping -c 1 -k "$WORK/other.key" 2>&1) && fail "qtinfo ping accepted a server that does not hold our key"
has "the key files differ" <<<"$out" || fail "a wrong key's error does not say so: $out"

log "the command line overrides the configuration"
write_conf "server = 127.0.0.1:1" "key_file = /nonexistent/key"
fuse_mount "$WORK/m2" -o "server=127.0.0.1:$PORT,key=$KEY"
[ "$(cat "$WORK/m2/hello")" = "via config" ] || fail "read through the overriding mount"
"$BIN/qtfs-rexec" -s "127.0.0.1:$PORT" -k "$KEY" /usr/bin/true || fail "qtfs-rexec -s -k over the configuration"
"$BIN/qtinfo" ping -c 1 -s "127.0.0.1:$PORT" -k "$KEY" >/dev/null || fail "qtinfo ping -s -k over the configuration"

log "a mistake names the file and line; a named file that is missing is an error; QTFS_CLIENT_CONF= means none"
write_conf "server = 127.0.0.1" "bogus = 1"
for cmd in "$BIN/qtfs-fuse $EXP $WORK/m3" "$BIN/qtfs-rexec /usr/bin/true" "$BIN/qtinfo ping -c 1"; do
    out=$($cmd 2>&1) && fail "$cmd accepted a bad configuration"
    has "$QTFS_CLIENT_CONF:2: unknown setting 'bogus'" <<<"$out" || fail "$cmd: $out"
done
out=$(QTFS_CLIENT_CONF=$WORK/missing.conf "$BIN/qtfs-rexec" /usr/bin/true 2>&1) && fail "a missing named file was accepted"
has "cannot read the client configuration $WORK/missing.conf" <<<"$out" || fail "missing file: $out"
out=$(QTFS_CLIENT_CONF= "$BIN/qtfs-rexec" -k "$KEY" /usr/bin/true 2>&1) && fail "QTFS_CLIENT_CONF= still used the file"
has "127.0.0.1:12345" <<<"$out" || fail "QTFS_CLIENT_CONF= did not fall back to the built-in server: $out"
log "PASS"
