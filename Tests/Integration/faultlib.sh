# Helpers for the fault tests (t80–t84): restarting the server on its port, counting its fds.
# Sourced after lib.sh.

# Processes a fault test started: on any exit they are killed, so nothing stays blocked on
# a hard mount whose server is gone for good (BG_PIDS: their children too).
FUSE_PIDS=(); BG_PIDS=()
fault_cleanup() {
    set +e
    local p
    for p in "${BG_PIDS[@]:-}"; do [ -n "$p" ] && { pkill -9 -P "$p"; kill -9 "$p"; } 2>/dev/null; done
    for p in "${FUSE_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    cleanup
    for p in "${FUSE_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    true
}
trap fault_cleanup EXIT

# restart_server EXPORT...: starts qtfs-server again on $PORT (after kill -9), sets SERVER_PID.
restart_server() {
    local args=() e i
    for e in "$@"; do args+=(--export "$e"); done
    for i in $(seq 1 100); do
        "$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --key "$KEY" "${args[@]}" >>"$WORK/server.log" 2>&1 &
        SERVER_PID=$!
        local j
        for j in $(seq 1 20); do
            (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true
        sleep 0.2   # the port may still be held by the dead process's sockets
    done
    fail "qtfs-server did not restart on $PORT"
}

# fd_count PID: open file descriptors of a process.
fd_count() { ls "/proc/$1/fd" | wc -l; }

# fuse_pid MOUNTPOINT: the qtfs-fuse process serving a mount.
fuse_pid() { pgrep -f -x "$BIN/qtfs-fuse .* $1" | head -1; }

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

# mount_fg HOSTPATH MOUNTPOINT [OPTIONS]: qtfs-fuse in the foreground (its log, including
# reconnect messages, goes to $WORK/fuse-NAME.log); waits until mounted.
mount_fg() {
    local src=$1 dst=$2 opts=${3:-}
    mkdir -p "$dst"
    "$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$PORT,key=$KEY${opts:+,$opts}" "$src" "$dst" >"$WORK/fuse-$(basename "$dst").log" 2>&1 &
    MOUNTS+=("$dst"); FUSE_PIDS+=($!)
    wait_for mountpoint -q "$dst" || fail "qtfs-fuse did not mount $src on $dst: $(cat "$WORK/fuse-$(basename "$dst").log")"
}

# client_ports PID: the local ports of PID's TCP connections to the server ($PORT).
client_ports() {
    ss -Htnp state established "( dport = :$PORT )" | grep "pid=$1," | awk '{print $3}' | sed 's/.*://'
}

# server_lets_go CLIENT_PORT...: true once the server has closed its side of each of these
# connections (none left established or waiting for the server to close it).
server_lets_go() {
    local p
    for p in "$@"; do
        [ -z "$(ss -Htn state established state close-wait "( sport = :$PORT and dport = :$p )")" ] || return 1
    done
}

# settled_fd_count: the server's fd count once it has finished starting (its control socket
# is there: the last thing it opens) and closed the connection start_server probed with.
settled_fd_count() {
    local sock=${QTFS_CONTROL_DIR:-/run/qtfs}/server-$SERVER_PID.sock
    wait_for test -S "$sock" || fail "qtfs-server $SERVER_PID never created its control socket $sock"
    wait_for eval '[ -z "$(ss -Htn state established state close-wait "( sport = :$PORT )")" ]' ||
        fail "qtfs-server kept the probe connection open"
    fd_count "$SERVER_PID"
}
