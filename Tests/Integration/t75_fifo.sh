#!/usr/bin/env bash
# Host fifos through a real qtfs-fuse mount: blocking opens in both directions, O_NONBLOCK
# per POSIX, EOF, EPIPE/SIGPIPE, 200 blocked readers not delaying other operations,
# signals interrupting blocked opens and reads (and the server letting go), poll/epoll.
source "$(dirname "$0")/lib.sh"
EXP=$WORK/export MNT=$WORK/mnt
mkdir -p "$EXP/many"
echo "plain file" >"$EXP/plain.txt"
mkfifo "$EXP/f" "$EXP/g" "$EXP/h"
start_server "$EXP"
mount_qtfs "$EXP" "$MNT"
export EXP MNT SERVER_PID
py() { timeout 60 python3 - "$@"; }

log "host writer -> DPU reader, DPU writer -> host reader (blocking opens on both sides)"
timeout 20 cat "$MNT/f" >"$WORK/got1" & R=$!
wait_for sleeping_in request_wait_answer $R || fail "the DPU reader's open did not wait for a writer"
echo "from host" >"$EXP/f"; wait $R || fail "DPU reader failed"
[ "$(cat "$WORK/got1")" = "from host" ] || fail "DPU read '$(cat "$WORK/got1")'"
timeout 20 cat "$EXP/f" >"$WORK/got2" & R=$!
wait_for sleeping_in wait_for_partner $R || fail "the host reader's open did not wait for a writer"
echo "from dpu" >"$MNT/f"; wait $R || fail "host reader failed"
[ "$(cat "$WORK/got2")" = "from dpu" ] || fail "host read '$(cat "$WORK/got2")'"

log "mkfifo on the DPU creates a host fifo that connects a DPU reader and a host writer"
mkfifo "$MNT/made"
[ -p "$EXP/made" ] || fail "mkfifo through the mount did not create a host fifo"
timeout 20 cat "$MNT/made" >"$WORK/got3" & R=$!
wait_for sleeping_in request_wait_answer $R || fail "the reader of the new fifo did not wait for a writer"
echo "via new fifo" >"$EXP/made"; wait $R || fail "reader of the new fifo failed"
[ "$(cat "$WORK/got3")" = "via new fifo" ] || fail "new fifo read '$(cat "$WORK/got3")'"

log "ping-pong: host process and DPU process, 200 round trips over two fifos"
py <<'PY' || fail "ping-pong"
import os, threading
exp, mnt = os.environ["EXP"], os.environ["MNT"]
def host():
    r = open(exp + "/f", "rb", buffering=0); w = open(exp + "/g", "wb", buffering=0)
    for i in range(200):
        msg = r.read(16); w.write(msg.upper())
t = threading.Thread(target=host); t.start()
w = open(mnt + "/f", "wb", buffering=0); r = open(mnt + "/g", "rb", buffering=0)
for i in range(200):
    m = b"ping%012d" % i
    w.write(m); back = r.read(16)
    assert back == m.upper(), (back, m)
t.join()
PY

log "O_NONBLOCK: ENXIO for a writer without reader, EAGAIN on an empty fifo, EOF after the last writer"
py <<'PY' || fail "nonblocking semantics"
import os, errno
mnt, exp = os.environ["MNT"], os.environ["EXP"]
try:
    os.open(mnt + "/g", os.O_WRONLY | os.O_NONBLOCK); raise SystemExit("writer opened without reader")
except OSError as e:
    assert e.errno == errno.ENXIO, e
r = os.open(mnt + "/g", os.O_RDONLY | os.O_NONBLOCK)
w = os.open(exp + "/g", os.O_WRONLY)            # host writer: a reader exists now
try:
    os.read(r, 10); raise SystemExit("read did not fail")
except OSError as e:
    assert e.errno == errno.EAGAIN, e
os.write(w, b"abc"); assert os.read(r, 10) == b"abc"
os.close(w)
assert os.read(r, 10) == b"", "no EOF after the last writer closed"
os.close(r)
PY

log "EPIPE and SIGPIPE for a DPU writer whose reader went away"
py <<'PY' || fail "EPIPE/SIGPIPE"
import os, errno, signal, subprocess, sys
mnt, exp = os.environ["MNT"], os.environ["EXP"]
# reader on the host opens and closes; the DPU writer then writes
code = """
import os, signal, sys, time
w = os.open(sys.argv[1], os.O_WRONLY)
open(sys.argv[2], 'w').close()
while os.path.exists(sys.argv[2]): time.sleep(0.01)
if sys.argv[3] == 'ignore': signal.signal(signal.SIGPIPE, signal.SIG_IGN)
else: signal.signal(signal.SIGPIPE, signal.SIG_DFL)
try: os.write(w, b'x')
except OSError as e: print(e.errno); sys.exit(3)
sys.exit(0)
"""
for mode in ("ignore", "default"):
    flag = exp + "/opened." + mode
    p = subprocess.Popen([sys.executable, "-c", code, mnt + "/h", flag, mode], stdout=subprocess.PIPE)
    r = os.open(exp + "/h", os.O_RDONLY)
    while not os.path.exists(flag): pass
    os.close(r); os.unlink(flag)
    out, _ = p.communicate(timeout=20)
    if mode == "ignore":
        assert p.returncode == 3 and int(out) == errno.EPIPE, (p.returncode, out)
    else:
        assert p.returncode == -signal.SIGPIPE, ("not killed by SIGPIPE", p.returncode)
PY

log "a signal interrupts a blocked open, read and write; the server lets go of the fifo"
py <<'PY' || fail "interrupt"
import os, errno, signal, time
mnt, exp = os.environ["MNT"], os.environ["EXP"]
# Python retries a syscall after EINTR unless the handler raises: raising proves the
# blocked call returned to the process.
class Alarm(Exception): pass
def alarm(*a): raise Alarm()
signal.signal(signal.SIGALRM, alarm)
signal.setitimer(signal.ITIMER_REAL, 0.5)
try:
    os.open(mnt + "/g", os.O_RDONLY); raise SystemExit("open returned")
except Alarm:
    pass
# the server drops its read end (no fd of it on the fifo): a host writer sees no reader
def server_holds(path):
    fds = "/proc/%s/fd" % os.environ["SERVER_PID"]
    for n in os.listdir(fds):
        try:
            if os.readlink(f"{fds}/{n}") == path: return True
        except FileNotFoundError:   # closed meanwhile
            pass
    return False
deadline = time.time() + 20
while server_holds(exp + "/g"):
    if time.time() > deadline: raise SystemExit("the server still holds the fifo 20 s after the interrupt")
    time.sleep(0.05)
try:
    os.open(exp + "/g", os.O_WRONLY | os.O_NONBLOCK); raise SystemExit("server still holds a reader")
except OSError as e:
    assert e.errno == errno.ENXIO, e
# a blocked write (the fifo is full) is interrupted too; what went in before stays counted
hr = os.open(exp + "/g", os.O_RDONLY | os.O_NONBLOCK)
dw = os.open(mnt + "/g", os.O_WRONLY)
signal.setitimer(signal.ITIMER_REAL, 0.5)
sent = 0
try:
    while True: sent += os.write(dw, b"z" * 65536)
except Alarm:
    pass
got = 0
while True:
    try: got += len(os.read(hr, 1 << 20))
    except BlockingIOError: break
assert got == sent, ("bytes written vs read", sent, got)
os.write(dw, b"!"); assert os.read(hr, 10) == b"!"
os.close(dw); os.close(hr)
PY
interrupted_fifo_read "$EXP/g" "$MNT/g" || fail "interrupt: a blocked read"

log "poll and epoll (level, edge, EPOLLHUP), woken by the server"
py <<'PY' || fail "poll/epoll"
import os, select, threading, time
mnt, exp = os.environ["MNT"], os.environ["EXP"]
r = os.open(mnt + "/g", os.O_RDONLY | os.O_NONBLOCK)
w = os.open(exp + "/g", os.O_WRONLY)
ep = select.epoll(); ep.register(r, select.EPOLLIN)
assert ep.poll(0.2) == [], "ready while empty"
threading.Timer(0.3, lambda: os.write(w, b"one")).start()
ev = ep.poll(20); assert ev and ev[0][1] & select.EPOLLIN, ev
assert ep.poll(0) != [], "level-triggered: still ready"
assert os.read(r, 10) == b"one"
et = select.epoll(); et.register(r, select.EPOLLIN | select.EPOLLET)
threading.Timer(0.3, lambda: os.write(w, b"two")).start()
ev = et.poll(20); assert ev and ev[0][1] & select.EPOLLIN, ev
assert os.read(r, 10) == b"two"
threading.Timer(0.3, lambda: os.write(w, b"three")).start()
ev = et.poll(20); assert ev and ev[0][1] & select.EPOLLIN, ("edge not re-armed", ev)
assert os.read(r, 10) == b"three"
p = select.poll(); p.register(r, select.POLLIN)
threading.Timer(0.3, lambda: os.close(w)).start()
ev = ep.poll(20); assert ev and ev[0][1] & select.EPOLLHUP, ("no EPOLLHUP", ev)
assert p.poll(0)[0][1] & select.POLLHUP
os.close(r)
PY

log "a DPU writer registered as Go does (EPOLLIN|EPOLLOUT|EPOLLET) closes: the host reader sees EOF"
# Its POLLIN can never come: the server's watch for it must not keep the fifo open (t94's stdin).
timeout 20 cat "$EXP/h" >"$WORK/got-go" & R=$!
py <<'PY' || fail "epoll on a write end"
import os, select
w = os.open(os.environ["MNT"] + "/h", os.O_WRONLY)
ep = select.epoll(); ep.register(w, select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP | select.EPOLLET)
ev = ep.poll(20); assert ev and ev[0][1] & select.EPOLLOUT, ev
os.write(w, b"go-style\n"); os.close(w)
PY
wait $R || fail "the host reader did not see EOF after the DPU writer closed"
[ "$(cat "$WORK/got-go")" = go-style ] || fail "host read '$(cat "$WORK/got-go")'"

log "200 DPU readers blocked (opens and reads) while ls, stat and cat on the mount still answer"
SRV_THREADS=$(ls /proc/$SERVER_PID/task | wc -l)
PIDS=()
for i in $(seq 1 100); do mkfifo "$EXP/many/o$i" "$EXP/many/r$i"; done
for i in $(seq 1 100); do
    cat "$MNT/many/o$i" >/dev/null & PIDS+=($!)                                 # blocked open
    exec {fd}<>"$EXP/many/r$i"                                                   # a writer, never writing
    python3 -c 'import sys; open(sys.argv[1],"rb").read(1)' "$MNT/many/r$i" & PIDS+=($!)  # blocked read
done
# Each of the 200 waits in a FUSE request (its open or its read) before the checks below.
wait_for sleeping_in request_wait_answer "${PIDS[@]}" ||
    fail "not all 200 readers blocked: $(for p in "${PIDS[@]}"; do sleeping_in request_wait_answer "$p" || echo "$p"; done | wc -l) not waiting in FUSE"
timeout 20 ls "$MNT/many" >/dev/null || fail "ls stalled behind blocked fifos"
timeout 20 stat "$MNT/plain.txt" >/dev/null || fail "stat stalled"
[ "$(timeout 20 cat "$MNT/plain.txt")" = "plain file" ] || fail "cat stalled or wrong"
echo x >"$WORK/other.txt"; timeout 20 cp "$WORK/other.txt" "$MNT/copied.txt" || fail "write stalled"
NOW_THREADS=$(ls /proc/$SERVER_PID/task | wc -l)
log "server threads: $SRV_THREADS before, $NOW_THREADS with 200 blocked"
[ "$NOW_THREADS" -le $((SRV_THREADS + 4)) ] || fail "server threads grew with blocked fifos"
kill -9 "${PIDS[@]}" 2>/dev/null; disown -a
for p in "${PIDS[@]}"; do timeout 30 tail --pid="$p" -f /dev/null || fail "killed reader $p did not exit"; done
server_alive
log "PASS"
