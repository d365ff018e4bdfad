#!/usr/bin/env bash
# The offload scenario (docs/offload.md) with Debian's unmodified containerd and runc:
# containerd runs on the "DPU" side (scripts/offload-demo.sh setup: own network, mount and
# pid namespaces, a root with the host's trees over qtfs, under qtfs-run), its shim starts
# on the host through qtfs-rexec, and every container runs on the host.
OFFLOAD_LOG=containerd.log
source "$(dirname "$0")/offload_lib.sh"
RFS=$STATE/busybox-rootfs
ctr_dpu() { "$DEMO" ctr "$@"; }
host_pid_of() { pgrep -f "^/bin/sleep $1\$"; }

log "ctr run: stdout, stderr, stdin and the exit code come back to the DPU"
out=$(ctr_dpu run --rm --rootfs "$RFS" t-out /bin/sh -c 'echo out; echo err >&2; exit 7' 2>"$WORK/err") && rc=0 || rc=$?
[ "$out" = out ] && [ "$rc" = 7 ] || fail "ctr run: stdout '$out', exit $rc (want out, 7); stderr: $(tail -5 "$WORK/err")"
grep -qx err "$WORK/err" || fail "the container's stderr did not reach ctr: $(cat "$WORK/err")"
# The input ends after the task has started: ctr 1.6 drops an end of input that comes
# before (it closes the container's stdin only once its task is known), locally as well.
[ "$( (echo through-stdin; sleep 2) | ctr_dpu run --rm --rootfs "$RFS" t-in /bin/cat)" = through-stdin ] \
    || fail "stdin, or its end, did not reach the container"

log "an image imported with ctr image import runs from the overlayfs snapshotter on host paths"
python3 "$REPO/Tests/Integration/busybox_oci.py" "$STATE/image.tar" docker.io/library/qtfs-busybox:1
ctr_dpu image import "$STATE/image.tar" >/dev/null || fail "ctr image import"
ls "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/"*/fs/bin/busybox >/dev/null \
    || fail "the image's layer was not unpacked into the host's snapshot directory"
out=$(ctr_dpu run --rm docker.io/library/qtfs-busybox:1 t-img /bin/sh -c 'cat /etc/image-name; echo w > /tmp/w; cat /tmp/w; exit 4') && rc=0 || rc=$?
[ "$out" = "docker.io/library/qtfs-busybox:1
w" ] && [ "$rc" = 4 ] || fail "a run from the image: '$out', exit $rc"

log "a detached container runs on the host: its own pid namespace, its cgroup, the shim as parent"
ctr_dpu run -d --rootfs "$RFS" t-a /bin/sleep 4001 >/dev/null || fail "ctr run -d"
P=$(host_pid_of 4001) || fail "the container's process is not on the host"
[ "$(parent_comm "$P")" = containerd-shim ] || fail "its parent on the host is not the shim but '$(parent_comm "$P")'"
[ "$(readlink /proc/"$P"/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || fail "it shares the host's pid namespace"
grep -q ":/default/t-a$" /proc/"$P"/cgroup || fail "its cgroup is not /default/t-a: $(cat /proc/"$P"/cgroup)"
in_dpu pgrep -f "sleep 4001" >/dev/null && fail "the DPU's own pid namespace contains the container"
ctr_dpu task ls | has -E "^t-a +$P +RUNNING" || fail "ctr task ls: $(ctr_dpu task ls)"
ctr_dpu task ps t-a | has "^$P " || fail "ctr task ps does not list $P"

log "on the DPU, ps, top and the cgroup files show the container as the host does"
in_dpu chroot "$STATE/another_rootfs" ps -ef | has "sleep 4001" || fail "ps -ef on the DPU does not show the container"
in_dpu chroot "$STATE/another_rootfs" top -bn1 | has "^ *$P " || fail "top -bn1 on the DPU does not show pid $P"
grep -qx "$P" <(in_dpu cat "$STATE/another_rootfs/sys/fs/cgroup/pids/default/t-a/cgroup.procs") || fail "the cgroup file on the DPU lacks $P"

log "ctr task exec, pause, resume, metrics, kill TERM and KILL, delete, container rm"
[ "$(ctr_dpu task exec --exec-id e1 t-a /bin/sh -c 'echo exec; exit 5')" = exec ] || fail "ctr task exec output"
ctr_dpu task exec --exec-id e2 t-a /bin/sh -c 'exit 5' && fail "ctr task exec lost the exit code"
ctr_dpu task pause t-a && ctr_dpu task ls | has -E "^t-a .*PAUSED" || fail "ctr task pause"
[ "$(cat /sys/fs/cgroup/freezer/default/t-a/freezer.state 2>/dev/null || echo FROZEN)" = FROZEN ] || fail "the host's freezer cgroup is not frozen"
ctr_dpu task resume t-a && ctr_dpu task ls | has -E "^t-a .*RUNNING" || fail "ctr task resume"
ctr_dpu task metrics t-a | has "memory.usage_in_bytes" || fail "ctr task metrics"
ctr_dpu run -d --rootfs "$RFS" t-term /bin/sh -c 'trap "exit 42" TERM; while :; do sleep 1; done' >/dev/null
wait_for ctr_dpu task ps t-term >/dev/null || fail "t-term did not start"
sleep 0.5
ctr_dpu task kill -s TERM t-term || fail "ctr task kill -s TERM"
wait_for sh -c "'$DEMO' ctr task ls | grep -qE '^t-term .*STOPPED'" || fail "TERM did not stop t-term"
ctr_dpu task kill -s KILL t-a || fail "ctr task kill -s KILL"
wait_for sh -c "'$DEMO' ctr task ls | grep -qE '^t-a .*STOPPED'" || fail "KILL did not stop t-a"
kill -0 "$P" 2>/dev/null && fail "the container's host process survived KILL"
for c in t-a t-term; do ctr_dpu task delete "$c" >/dev/null && ctr_dpu container rm "$c" || fail "delete $c"; done
[ -z "$(ctr_dpu task ls -q)" ] && [ -z "$(ctr_dpu container ls -q)" ] || fail "tasks or containers left after delete"

log "five containers at once"
for i in 1 2 3 4 5; do ctr_dpu run -d --rootfs "$RFS" "t-many$i" /bin/sleep "410$i" >/dev/null & done
wait
[ "$(ctr_dpu task ls | grep -c RUNNING)" = 5 ] || fail "five containers: $(ctr_dpu task ls)"
for i in 1 2 3 4 5; do host_pid_of "410$i" >/dev/null || fail "t-many$i is not running on the host"; done

log "containerd killed with SIGKILL on the DPU and started again finds its containers"
in_dpu pkill -9 -x containerd || fail "no containerd on the DPU to kill"
wait_for sh -c "! nsenter -t $(cat "$STATE/dpu.pid") -m -p -n pgrep -x containerd >/dev/null" || fail "containerd did not die"
host_pid_of 4101 >/dev/null || fail "a container died with containerd"
"$DEMO" containerd >/dev/null 2>&1 || fail "containerd did not start again"
[ "$(ctr_dpu task ls | grep -c RUNNING)" = 5 ] || fail "after the restart: $(ctr_dpu task ls)"
ctr_dpu task kill -s KILL t-many1 || fail "stopping a container started before the restart"
wait_for sh -c "'$DEMO' ctr task ls | grep -qE '^t-many1 .*STOPPED'" || fail "t-many1 did not stop after the restart"
host_pid_of 4101 >/dev/null && fail "t-many1 still runs on the host"
# The image lives in the host's /var/lib/containerd: leave it as found.
ctr_dpu image rm --sync docker.io/library/qtfs-busybox:1 >/dev/null || fail "ctr image rm"
log "containerd offload: all checks passed"
