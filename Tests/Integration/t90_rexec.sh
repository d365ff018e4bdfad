#!/usr/bin/env bash
# Remote exec (docs/rexec.md): qtfs-rexec on the "DPU" (its own network namespace made by
# this test; pid and mount namespaces where the check is about them) runs programs on
# the "host" through qtfs-server, with stdio, environment, cwd, umask, user, exit status,
# signals and lifetime kept, and the whitelist enforced.
source "$(dirname "$0")/lib.sh"
HOST_NS=qtfs-rh-$$; DPU_NS=qtfs-rd-$$; HOST_IP=10.232.$((RANDOM % 200)).1; DPU_IP=${HOST_IP%.1}.2
netns_cleanup() {
    local rc=$?
    [ "$rc" = 0 ] || tail -20 "$WORK/server.log" >&2
    [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null
    cleanup
    ip netns del "$HOST_NS" 2>/dev/null; ip netns del "$DPU_NS" 2>/dev/null
    true
}
trap netns_cleanup EXIT
ip netns add "$HOST_NS"; ip netns add "$DPU_NS"
ip link add "rh$$" type veth peer name "rd$$"
ip link set "rh$$" netns "$HOST_NS"; ip link set "rd$$" netns "$DPU_NS"
ip -n "$HOST_NS" addr add "$HOST_IP/24" dev "rh$$"; ip -n "$HOST_NS" link set "rh$$" up; ip -n "$HOST_NS" link set lo up
ip -n "$DPU_NS" addr add "$DPU_IP/24" dev "rd$$"; ip -n "$DPU_NS" link set "rd$$" up; ip -n "$DPU_NS" link set lo up

WL=$WORK/whitelist
printf '%s\n' /bin/sh /usr/bin/sha256sum /usr/bin/id /usr/bin/env /usr/bin/stty /usr/bin/true \
    /bin/sleep /usr/bin/head "$WORK/noexec" "# a comment" "" > "$WL"
touch "$WORK/noexec"; chmod 644 "$WORK/noexec"
PORT=12345
start_host_server() {
    nsenter --net="/var/run/netns/$HOST_NS" "$BIN/qtfs-server" --listen "$HOST_IP" --port "$PORT" --key "$KEY" $CRYPT_SERVER \
        --export / --rexec-whitelist "$WL" >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        nsenter --net="/var/run/netns/$DPU_NS" bash -c "exec 3<>/dev/tcp/$HOST_IP/$PORT" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "qtfs-server did not listen"
}
start_host_server
# rx ARGS...: qtfs-rexec from the DPU namespace (nsenter execs it: $! is qtfs-rexec).
rx() { nsenter --net="/var/run/netns/$DPU_NS" "$BIN/qtfs-rexec" -s "$HOST_IP:$PORT" -k "$KEY" "$@"; }
# rx_bg ARGS... &: the same in the background, where $! must be qtfs-rexec itself (signals).
rx_bg() { exec nsenter --net="/var/run/netns/$DPU_NS" "$BIN/qtfs-rexec" -s "$HOST_IP:$PORT" -k "$KEY" "$@"; }
gone() { ! kill -0 "$1" 2>/dev/null; }

log "exit codes across the range"
for code in 0 1 2 7 42 125 200 255; do
    set +e; rx /bin/sh -c "exit $code"; got=$?; set -e
    [ "$got" = "$code" ] || fail "exit $code came back as $got"
done

log "death by signal: qtfs-rexec dies of the same signal (a shell sees 128+N)"
set +e; rx /bin/sh -c 'kill -TERM $$'; got=$?; set -e
[ "$got" = 143 ] || fail "a program killed by SIGTERM: qtfs-rexec exited $got, want 143"
python3 - "$BIN/qtfs-rexec" "$HOST_IP:$PORT" "$KEY" "/var/run/netns/$DPU_NS" <<'PY' || fail "waitpid did not see death by SIGKILL"
import os, signal, sys
b, s, k, ns = sys.argv[1:]
pid = os.fork()
if pid == 0:
    os.execvp("nsenter", ["nsenter", f"--net={ns}", b, "-s", s, "-k", k, "/bin/sh", "-c", "kill -KILL $$"])
_, st = os.waitpid(pid, 0)
sys.exit(0 if os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGKILL else 1)
PY

log "stdout and stderr stay apart; stdin reaches the program"
rx /bin/sh -c 'echo out; echo err >&2' >"$WORK/o" 2>"$WORK/e"
[ "$(cat "$WORK/o")" = out ] && [ "$(cat "$WORK/e")" = err ] || fail "stdout/stderr mixed: $(cat "$WORK/o") / $(cat "$WORK/e")"
[ "$(echo hello | rx /usr/bin/sha256sum)" = "$(echo hello | sha256sum)" ] || fail "stdin checksum"

log "environment, working directory and umask"
mkdir -p "$WORK/cwd dir"
out=$(cd "$WORK/cwd dir" && umask 027 && FOO='bar baz' rx -u HOME -e ADDED=1 /bin/sh -c 'echo "$FOO|$ADDED|${HOME-unset}"; pwd; umask')
[ "$out" = "bar baz|1|unset
$WORK/cwd dir
0027" ] || fail "environment/cwd/umask: $out"
[ "$(rx -i -e ONLY=1 /usr/bin/env)" = "ONLY=1" ] || fail "-i did not clear the environment"

log "the caller's uid, gid and groups"
chmod o+x "$WORK"; cp "$KEY" "$WORK/user.key"; chown 1000:1000 "$WORK/user.key"
ids=$(cd / && nsenter --net="/var/run/netns/$DPU_NS" setpriv --reuid 1000 --regid 1000 --groups 1000,27 \
      "$BIN/qtfs-rexec" -s "$HOST_IP:$PORT" -k "$WORK/user.key" /bin/sh -c 'echo $(id -u) $(id -g) $(id -G)')
[ "$ids" = "1000 1000 1000 27" ] || fail "uid 1000 with groups 1000,27 ran as: $ids"

log "whitelist: refused program, symlink to a refused program, not found, not executable, bad cwd"
set +e
msg=$(rx /bin/ls / 2>&1); got=$?
set -e
[ "$got" = 126 ] && echo "$msg" | grep -q "$WL" || fail "a program not in the whitelist: $got $msg"
ln -s /bin/ls "$WORK/innocent"
set +e; msg=$(rx "$WORK/innocent" 2>&1); got=$?; set -e
[ "$got" = 126 ] && echo "$msg" | grep -q "/usr/bin/ls\|/bin/ls" || fail "a symlink to ls passed the whitelist: $got $msg"
set +e; msg=$(rx /usr/sbin/../bin/ls 2>&1); got=$?; set -e
[ "$got" = 126 ] || fail "a .. path to ls passed the whitelist: $got $msg"
set +e; msg=$(rx /no/such/program 2>&1); got=$?; set -e
[ "$got" = 127 ] && echo "$msg" | grep -q "no such program" || fail "missing program: $got $msg"
set +e; msg=$(rx "$WORK/noexec" 2>&1); got=$?; set -e
[ "$got" = 126 ] && echo "$msg" | grep -qi "permission denied" || fail "non-executable: $got $msg"
mkdir -p "$WORK/mnt"   # on the DPU (a mount namespace) a directory the host does not have
set +e; msg=$(nsenter --net="/var/run/netns/$DPU_NS" unshare --mount sh -c "mount -t tmpfs none '$WORK/mnt' && mkdir '$WORK/mnt/dpu-only' && cd '$WORK/mnt/dpu-only' && exec '$BIN/qtfs-rexec' -s '$HOST_IP:$PORT' -k '$KEY' /bin/sh -c pwd" 2>&1); got=$?; set -e
[ "$got" = 126 ] && echo "$msg" | grep -q "working directory" || fail "a cwd that does not exist: $got $msg"

log "garbage after REXEC_START is refused without harm"
# rexec_garbage.py speaks plaintext frames: a second server that serves them (crypt optional).
MAIN_PID=$SERVER_PID
PORT=$((PORT + 1)) CRYPT_SERVER="--crypt optional" start_host_server
GARBAGE_PID=$SERVER_PID SERVER_PID=$MAIN_PID
nsenter --net="/var/run/netns/$DPU_NS" python3 "$(dirname "$0")/rexec_garbage.py" "$HOST_IP" "$((PORT + 1))" "$KEY" ||
    { kill "$GARBAGE_PID"; fail "garbage frames"; }   # the exit trap knows only SERVER_PID
kill -0 "$GARBAGE_PID" || fail "the server died of garbage frames"
kill "$GARBAGE_PID"
server_alive

log "an open file under a qtfs mount of the same server is passed at its fd number, flags and offset"
mkdir -p "$WORK/share" "$WORK/dpu-share"; printf 'head\n' > "$WORK/share/log"
nsenter --net="/var/run/netns/$DPU_NS" "$BIN/qtfs-fuse" -o "server=$HOST_IP:$PORT,key=$KEY" "$WORK/share" "$WORK/dpu-share" \
    >"$WORK/fuse.log" 2>&1 &
MOUNTS+=("$WORK/dpu-share")
wait_for mountpoint -q "$WORK/dpu-share" || fail "qtfs-fuse did not mount: $(cat "$WORK/fuse.log")"
out=$(rx /bin/sh -c 'echo passed >&5; ls -l /proc/$$/fd/5 | sed "s/.*-> //"' 5>>"$WORK/dpu-share/log")
[ "$(cat "$WORK/share/log")" = "head
passed" ] || fail "fd 5 (O_APPEND under the mount) did not reach the host file: $(cat "$WORK/share/log")"
[ "$out" = "$WORK/share/log" ] || fail "fd 5 on the host is $out, not the host file"
rx /bin/sh -c 'test -e /proc/$$/fd/7' 7<"$WORK/share/log" && fail "a file outside any qtfs mount was passed as fd 7"
rx --no-files /bin/sh -c 'test -e /proc/$$/fd/5' 5>>"$WORK/dpu-share/log" && fail "--no-files still passed fd 5"

log "each forwarded signal reaches the host program"
for sig in INT TERM HUP QUIT USR1 USR2 WINCH CONT; do
    rx_bg --pidfile "$WORK/hp" /bin/sh -c "trap 'echo got-$sig; exit 0' $sig; echo ready; while :; do sleep 0.05; done" >"$WORK/sig.out" &
    p=$!
    wait_for grep -q ready "$WORK/sig.out" || fail "$sig: program did not start"
    kill -s "$sig" "$p"
    wait "$p" || fail "$sig: qtfs-rexec exited $?"
    grep -q "got-$sig" "$WORK/sig.out" || fail "$sig was not forwarded: $(cat "$WORK/sig.out")"
done

log "qtfs-rexec killed with SIGKILL: the host process (and its group) is gone within 2 s"
rx_bg --pidfile "$WORK/hp" /bin/sh -c 'sleep 300 & echo ready; wait' >"$WORK/k.out" &
p=$!
wait_for grep -q ready "$WORK/k.out" || fail "program did not start"
hp=$(cat "$WORK/hp"); child=$(pgrep -P "$hp" sleep)
"$BIN/qtinfo" -a | has -E "^ +$hp +$p .*/usr/bin/dash" \
    || fail "qtinfo -a does not list host pid $hp / DPU pid $p: $("$BIN/qtinfo" -a)"
[ -n "$child" ] || fail "no host child"
kill -9 "$p"
for _ in $(seq 40); do gone "$hp" && gone "$child" && break; sleep 0.05; done
gone "$hp" || fail "host program $hp outlived qtfs-rexec by 2 s"
gone "$child" || fail "host program's child $child outlived qtfs-rexec by 2 s"

log "a detaching daemon (setsid) survives; the caller still gets its exit"
dpid=$(rx /bin/sh -c 'setsid sleep 120 </dev/null >/dev/null 2>&1 & echo $!')
DAEMON_PID=$dpid
kill -0 "$dpid" 2>/dev/null || fail "the detached daemon did not survive qtfs-rexec's exit"

log "the host program is not in the DPU's pid namespace"
pidns=$(nsenter --net="/var/run/netns/$DPU_NS" unshare --pid --fork --mount-proc "$BIN/qtfs-rexec" -s "$HOST_IP:$PORT" -k "$KEY" /bin/sh -c 'readlink /proc/$$/ns/pid')
[ "$pidns" = "$(readlink /proc/self/ns/pid)" ] || fail "program ran in pid namespace $pidns"

log "1 GiB through stdout and through stdin, checksums equal; a program that never reads stdin"
head -c $((64 << 20)) /dev/urandom > "$WORK/blk"
want=$(for _ in $(seq 16); do cat "$WORK/blk"; done | sha256sum)
got=$(rx /bin/sh -c "for i in \$(seq 16); do cat '$WORK/blk'; done" | sha256sum)
[ "$got" = "$want" ] || fail "1 GiB through stdout: checksum differs"
got=$(for _ in $(seq 16); do cat "$WORK/blk"; done | rx /usr/bin/sha256sum)
[ "$got" = "$want" ] || fail "1 GiB through stdin: checksum differs"
out=$( (yes || true) | nsenter --net="/var/run/netns/$DPU_NS" timeout 20 "$BIN/qtfs-rexec" -s "$HOST_IP:$PORT" -k "$KEY" /bin/sh -c 'sleep 0.3; echo done')
[ "$out" = done ] || fail "a program that never reads stdin: $out"

log "-t: the terminal's size and a window change"
nsenter --net="/var/run/netns/$DPU_NS" python3 "$(dirname "$0")/rexec_pty.py" "$BIN/qtfs-rexec" -s "$HOST_IP:$PORT" -k "$KEY" -t \
    || fail "-t window size"

log "100 remote programs at once"
pids=()
for i in $(seq 100); do rx_bg /bin/sh -c "sleep 0.5; echo $i" >"$WORK/c$i" 2>&1 & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "one of 100 qtfs-rexec exited $?"; done   # not a bare wait: the server is a job too
for i in $(seq 100); do [ "$(cat "$WORK/c$i")" = "$i" ] || fail "program $i of 100: $(cat "$WORK/c$i")"; done

log "the server restarted during a run: qtfs-rexec reports it, the host program dies"
rx_bg --pidfile "$WORK/hp" /bin/sh -c 'echo ready; sleep 300' >"$WORK/r.out" 2>"$WORK/r.err" &
p=$!
wait_for grep -q ready "$WORK/r.out" || fail "program did not start"
hp=$(cat "$WORK/hp")
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
set +e; wait "$p"; got=$?; set -e
[ "$got" = 255 ] && grep -q "lost the connection" "$WORK/r.err" || fail "after the server died: exit $got, $(cat "$WORK/r.err")"
wait_for gone "$hp" || fail "host program $hp outlived the server"
start_host_server
[ "$(rx /bin/sh -c 'echo back')" = back ] || fail "remote exec after the restart"
log "ok"
