#!/usr/bin/env bash
# The container-management-plane scenario: a "host" and a "dpu" network namespace made by
# this test. qtfs-server runs in "host"; the DPU side mounts the host's /proc (with -o proc),
# /sys and /sys/fs/cgroup into a chroot and runs procps tools, cgroup and sysctl changes there.
# Only the network is namespaced (nsenter --net): both sides see the same processes, as a host
# and its DPU see the same containers.
source "$(dirname "$0")/lib.sh"
command -v nsenter >/dev/null || exit 77
HOST_NS=qtfs-host-$$; DPU_NS=qtfs-dpu-$$; HOST_IP=10.231.$((RANDOM % 200)).1; DPU_IP=${HOST_IP%.1}.2
netns_cleanup() {
    [ -n "${SLEEPER:-}" ] && kill "$SLEEPER" 2>/dev/null
    [ -n "${CG:-}" ] && [ -d "$CG" ] && { cat "$CG/cgroup.procs" 2>/dev/null | while read -r p; do echo "$p" > "$CG_ROOT/cgroup.procs"; done; rmdir "$CG" 2>/dev/null; }
    cleanup
    for m in "$ROOT/sys/fs/cgroup" "$ROOT/sys" "$ROOT/proc" "$ROOT/local_proc"; do umount -l "$m" 2>/dev/null || true; done
    ip netns del "$HOST_NS" 2>/dev/null; ip netns del "$DPU_NS" 2>/dev/null
    rm -rf "$WORK"
}
trap netns_cleanup EXIT
ROOT=$WORK/root

ip netns add "$HOST_NS"; ip netns add "$DPU_NS"
ip link add "qh$$" type veth peer name "qd$$"
ip link set "qh$$" netns "$HOST_NS"; ip link set "qd$$" netns "$DPU_NS"
ip -n "$HOST_NS" addr add "$HOST_IP/24" dev "qh$$"; ip -n "$HOST_NS" link set "qh$$" up; ip -n "$HOST_NS" link set lo up
ip -n "$DPU_NS" addr add "$DPU_IP/24" dev "qd$$"; ip -n "$DPU_NS" link set "qd$$" up; ip -n "$DPU_NS" link set lo up
in_host() { nsenter --net="/var/run/netns/$HOST_NS" "$@"; }
in_dpu() { nsenter --net="/var/run/netns/$DPU_NS" "$@"; }

PORT=12345
# nsenter itself, not the in_host function: $! must be the server (it execs), not a subshell.
nsenter --net="/var/run/netns/$HOST_NS" "$BIN/qtfs-server" --listen "$HOST_IP" --port "$PORT" --key "$KEY" --allow-client "$DPU_IP" --export / >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do in_dpu bash -c "exec 3<>/dev/tcp/$HOST_IP/$PORT" 2>/dev/null && break; sleep 0.1; done

log "build the chroot: procps tools and their libraries"
mkdir -p "$ROOT"/{proc,sys,local_proc,bin,tmp,etc}
for tool in ps top free uptime cat sh ls grep head wc mkdir rmdir; do
    src=$(command -v "$tool"); cp "$src" "$ROOT/bin/"
    ldd "$src" | grep -o '/[^ ]*' | while read -r lib; do mkdir -p "$ROOT$(dirname "$lib")"; cp -n "$lib" "$ROOT$lib"; done
done
cp /etc/passwd /etc/group "$ROOT/etc/"
mkdir -p "$ROOT/lib" "$ROOT/dev" && cp -r /lib/terminfo "$ROOT/lib/"    # top needs a terminal description
mknod -m 666 "$ROOT/dev/null" c 1 3
mount -t proc proc "$ROOT/local_proc"

log "mount the host's /proc, /sys and cgroups from the DPU namespace"
qmount() { in_dpu "$BIN/qtfs-fuse" -o "server=$HOST_IP:$PORT,key=$KEY${3:+,$3}" "$1" "$2"; MOUNTS+=("$2"); }
qmount /proc "$ROOT/proc" "proc,local_proc=/local_proc"
qmount /sys "$ROOT/sys"
qmount /sys/fs/cgroup "$ROOT/sys/fs/cgroup"
for m in proc sys sys/fs/cgroup; do
    for _ in $(seq 50); do mountpoint -q "$ROOT/$m" && break; sleep 0.1; done
    mountpoint -q "$ROOT/$m" || fail "$m did not mount: $(cat "$WORK"/*.log)"
done
dpu() { in_dpu env TERM=xterm chroot "$ROOT" /bin/"$@"; }

log "ps through qtfs lists the host's processes"
# Kernel workers rename themselves as they run (kworker/u8:0-writeback, -events, ...):
# their names are compared as "[kthread]", their pids and parents as they are.
names() { awk '{ if ($2 == 2 || $1 == 2) $3 = "[kthread]"; print $1, $2, $3 }' | sort; }
host_ps=$(ps -eo pid,ppid,comm --no-headers | names)
dpu_ps=$(dpu ps -eo pid,ppid,comm --no-headers | names) || fail "ps failed in the chroot"
host_ps2=$(ps -eo pid,ppid,comm --no-headers | names)
stable=$(comm -12 <(echo "$host_ps") <(echo "$host_ps2"))
missing=$(comm -23 <(echo "$stable") <(echo "$dpu_ps"))
[ -z "$missing" ] || fail "processes the host had throughout are missing on the DPU: $missing"
echo "$dpu_ps" | grep -q " qtfs-server$" || fail "ps on the DPU does not show the host's qtfs-server"

log "top, free, uptime and mountinfo show the host's values"
dpu top -bn1 | head -1 | has "load average" || fail "top -bn1"
[ "$(dpu free | awk '/^Mem:/{print $2}')" = "$(free | awk '/^Mem:/{print $2}')" ] || fail "free: total memory differs"
dpu uptime | has "load average" || fail "uptime"
[ "$(dpu cat /proc/1/mountinfo | wc -l)" -eq "$(wc -l < /proc/1/mountinfo)" ] || fail "/proc/1/mountinfo differs"
[ "$(dpu cat /proc/mounts | wc -l)" -eq "$(wc -l < /proc/1/mounts)" ] || fail "/proc/mounts is not the host's table"
self=$(in_dpu chroot "$ROOT" /bin/sh -c 'echo $$; /bin/ls -l /proc/self')
echo "$self" | grep -q "/local_proc/" || fail "/proc/self does not point into the local procfs: $self"

log "cgroup: create, limit, move a host process in, read usage, remove"
if [ -d /sys/fs/cgroup/pids ] && [ -f /sys/fs/cgroup/pids/cgroup.procs ]; then
    CG_ROOT=/sys/fs/cgroup/pids; LIMIT_FILE=pids.max; USAGE_FILE=pids.current; REL=pids
else
    CG_ROOT=/sys/fs/cgroup; LIMIT_FILE=pids.max; USAGE_FILE=pids.current; REL=.
fi
CG=$CG_ROOT/qtfs-test-$$
DCG=/sys/fs/cgroup/$REL/qtfs-test-$$
sleep 300 & SLEEPER=$!
dpu sh -c "mkdir $DCG" || fail "mkdir of a cgroup from the DPU"
[ -d "$CG" ] || fail "host does not see the new cgroup"
dpu sh -c "echo 50 > $DCG/$LIMIT_FILE" || fail "writing $LIMIT_FILE from the DPU"
[ "$(cat "$CG/$LIMIT_FILE")" = 50 ] || fail "host does not see the limit"
if dpu sh -c "echo bogus > $DCG/$LIMIT_FILE" 2>/dev/null; then fail "an invalid limit was accepted"; fi
dpu sh -c "echo $SLEEPER > $DCG/cgroup.procs" || fail "moving a host process into the cgroup"
grep -qx "$SLEEPER" "$CG/cgroup.procs" || fail "host does not see the process in the cgroup"
[ "$(dpu cat "$DCG/$USAGE_FILE")" = 1 ] || fail "usage read back through qtfs"
echo "$SLEEPER" > "$CG_ROOT/cgroup.procs"
dpu sh -c "rmdir $DCG" || fail "rmdir of the cgroup from the DPU"
[ ! -d "$CG" ] || fail "host still has the cgroup"

log "sysctl read and written from the DPU"
orig=$(in_host cat /proc/sys/net/ipv4/ip_forward)
new=$((1 - orig))
[ "$(dpu cat /proc/sys/net/ipv4/ip_forward)" = "$orig" ] || fail "sysctl read"
dpu sh -c "echo $new > /proc/sys/net/ipv4/ip_forward" || fail "sysctl write"
[ "$(in_host cat /proc/sys/net/ipv4/ip_forward)" = "$new" ] || fail "host does not see the sysctl change"
server_alive
