#!/usr/bin/env bash
# The container management plane offloaded on this machine (docs/offload.md): this machine is
# the host; the "DPU" is a network, mount and pid namespace with its own root directory. Over
# qtfs the DPU root gets the host's /proc, /sys, /var/lib/containerd and /run/containerd;
# containerd runs there under qtfs-run, its shim is started on the host through qtfs-rexec,
# and the containers run on the host.
#   scripts/offload-demo.sh             set up both sides and run a container from the DPU side
#   scripts/offload-demo.sh setup       only set up (host server, DPU namespaces, containerd)
#   scripts/offload-demo.sh containerd  start containerd again on the DPU side (after it died)
#   scripts/offload-demo.sh ctr ARGS    run ctr on the DPU side, under qtfs-run
#   scripts/offload-demo.sh dockerd     (after setup) start Debian's dockerd on the DPU side, on
#                                       its containerd, with /var/lib/docker and /run/docker over qtfs
#   scripts/offload-demo.sh docker ARGS run docker on the DPU side, under qtfs-run
#   scripts/offload-demo.sh stop        tear everything down
# QTFS_BIN: where the qtfs binaries are (default .build/release, built if missing).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${QTFS_BIN:-$REPO/.build/release}
STATE=/run/qtfs-offload-demo          # keys, lists, logs, pids
ROOT=$STATE/another_rootfs            # the DPU's root directory
RFS=$STATE/busybox-rootfs             # a container root on the host
NS=qtfs-offload-dpu HOST_IP=10.77.0.1 DPU_IP=10.77.0.2 PORT=12345
say() { printf '\n== %s\n' "$*"; }

stop() {
    set +e
    if [ -e "$STATE/dpu.pid" ]; then
        # ctr retries a refused connection forever: bounded, for a containerd already gone.
        in_dpu_ok && timeout 30 nsenter -t "$(cat "$STATE/dpu.pid")" -m -p -n "$BIN/qtfs-run" -s "$HOST_IP:$PORT" -k "$STATE/qtfs.key" -- chroot "$ROOT" \
            sh -c 'for t in $(ctr task ls -q); do ctr task kill -s KILL $t; sleep 0.5; ctr task delete $t; done; for c in $(ctr container ls -q); do ctr container rm $c; done' >/dev/null 2>&1
        [ -e "$STATE/dockerd.log" ] && in_dpu_ok && stop_dockerd
        in_dpu_ok && in_dpu pkill -TERM -x containerd
        in_dpu_ok && in_dpu pkill -TERM -x qtfs-fuse && sleep 0.5  # unmount, remove control sockets
        kill -9 "$(cat "$STATE/dpu.pid")" 2>/dev/null       # the DPU's pid namespace, all in it
    fi
    pkill -f "containerd-shim-runc-v2 -namespace" 2>/dev/null
    [ -e "$STATE/server.pid" ] && kill "$(cat "$STATE/server.pid")" 2>/dev/null
    sleep 0.5
    for m in $(grep -oE " (/run/containerd|/var/lib/containerd|/run/docker|/var/lib/docker)[^ ]*" /proc/self/mountinfo | sort -r); do umount -l "$m"; done
    ip link del qtfs-off-h 2>/dev/null; ip netns del "$NS" 2>/dev/null
    pgrep -x dockerd >/dev/null || rm -rf /run/docker   # the offloaded dockerd's run state on the host
    rm -rf "$STATE"
    true
}
in_dpu() { nsenter -t "$(cat "$STATE/dpu.pid")" -m -p -n "$@"; }
in_dpu_ok() { kill -0 "$(cat "$STATE/dpu.pid" 2>/dev/null)" 2>/dev/null; }
qmount() { in_dpu "$BIN/qtfs-fuse" -o "server=$HOST_IP:$PORT,key=$STATE/qtfs.key${3:+,$3}" "$1" "$ROOT$2" </dev/null >>"$STATE/fuse.log" 2>&1; }
on_dpu() { in_dpu "$BIN/qtfs-run" -s "$HOST_IP:$PORT" -k "$STATE/qtfs.key" -- chroot "$ROOT" "$@"; }

setup_host() {
    say "host: qtfs-server on $HOST_IP:$PORT exporting /, remote exec allowed for the shim"
    "$BIN/qtfs-server" --generate-key "$STATE/qtfs.key" >/dev/null
    for g in Open Read Write Readdir Mkdir Rmdir Create Unlink Rename Setattr Setxattr; do printf '[%s]\nPath=/\n' "$g"; done > "$STATE/whitelist"
    printf '[Mount]\nPath=/\n[Udsconnect]\nPath=/run/containerd;/run/docker\n' >> "$STATE/whitelist"
    echo /usr/bin/containerd-shim-runc-v2 > "$STATE/rexec-whitelist"
    ip netns add "$NS"
    ip link add qtfs-off-h type veth peer name qtfs-off-d
    ip link set qtfs-off-d netns "$NS"
    ip addr add "$HOST_IP/24" dev qtfs-off-h; ip link set qtfs-off-h up
    ip -n "$NS" addr add "$DPU_IP/24" dev qtfs-off-d; ip -n "$NS" link set qtfs-off-d up; ip -n "$NS" link set lo up
    "$BIN/qtfs-server" --listen "$HOST_IP" --port "$PORT" --key "$STATE/qtfs.key" --allow-client "$DPU_IP" --export / \
        --whitelist "$STATE/whitelist" --rexec-whitelist "$STATE/rexec-whitelist" \
        --unix-connect /run/containerd/ --unix-connect /run/docker/ --unix-listen /run/containerd/ --unix-listen /run/docker/ </dev/null >"$STATE/server.log" 2>&1 &
    echo $! > "$STATE/server.pid"
}

make_container_root() {
    say "host: a busybox container root at $RFS"
    mkdir -p "$RFS"/{bin,proc,sys,dev,tmp,etc}
    cp /bin/busybox "$RFS/bin/"
    for t in sh echo cat sleep ls ps hostname id head true; do ln -sf busybox "$RFS/bin/$t"; done
}

setup_dpu() {
    say "DPU: its namespaces and root $ROOT, with the host's trees mounted over qtfs"
    ip netns exec "$NS" unshare --mount --pid --fork --mount-proc --propagation private sleep infinity </dev/null >/dev/null 2>&1 &
    for _ in $(seq 50); do pgrep -P $! -x sleep >/dev/null && break; sleep 0.1; done
    pgrep -P $! -x sleep > "$STATE/dpu.pid"
    mkdir -p "$ROOT"/{usr,etc,dev,tmp,opt,proc,local_proc,sys,run,var/lib,"$STATE","$BIN"}
    for l in bin lib lib64 sbin; do ln -s "usr/$l" "$ROOT/$l"; done
    # containerd's shim, started on the host (qtfs-rexec keeps argv, environment and cwd)
    printf '#!/bin/sh\nexec %s -s %s -k %s -- /usr/bin/containerd-shim-runc-v2 "$@"\n' \
        "$BIN/qtfs-rexec" "$HOST_IP:$PORT" "$STATE/qtfs.key" > "$STATE/shim-wrapper"
    chmod 755 "$STATE/shim-wrapper"
    # The root is a mount point, as a real DPU's would be: docker's layer extraction makes
    # "/" a slave mount in a mount namespace of its own, which fails (EINVAL) otherwise.
    in_dpu sh -ec "
        mount --bind $ROOT $ROOT
        mount -t tmpfs tmpfs $ROOT/tmp   # first: the state or binaries may live under /tmp
        for d in /usr /etc /dev /opt $STATE $BIN; do mkdir -p $ROOT\$d; mount --bind \$d $ROOT\$d; done
        mount --bind $STATE/shim-wrapper $ROOT/usr/bin/containerd-shim-runc-v2
        mount -t proc proc $ROOT/local_proc"
    for _ in $(seq 100); do in_dpu bash -c "exec 3<>/dev/tcp/$HOST_IP/$PORT" 2>/dev/null && break; sleep 0.1; done
    mkdir -p "$ROOT/run/containerd" "$ROOT/var/lib/containerd"
    qmount /proc /proc "proc,local_proc=/local_proc"
    qmount /sys /sys
    qmount /sys/fs/cgroup /sys/fs/cgroup
    qmount /var/lib/containerd /var/lib/containerd
    qmount /run/containerd /run/containerd
}

start_containerd() {
    say "DPU: containerd under qtfs-run (log: $STATE/containerd.log)"
    # Debian's config puts containerd's "opt" directory in /var/lib/containerd, on qtfs here,
    # and the opt plugin then prefixes LD_LIBRARY_PATH of every program containerd starts
    # with it (and an empty entry: the bundle directory, on qtfs too): each library the
    # shim wrapper loads would be searched for over the network first. Off on the DPU.
    printf 'version = 2\ndisabled_plugins = ["io.containerd.internal.v1.opt"]\n' > "$STATE/containerd.toml"
    in_dpu "$BIN/qtfs-run" -s "$HOST_IP:$PORT" -k "$STATE/qtfs.key" -- chroot "$ROOT" \
        containerd --config "$STATE/containerd.toml" ${CONTAINERD_FLAGS:-} </dev/null >"$STATE/containerd.log" 2>&1 &
    for _ in $(seq 150); do on_dpu ctr version >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "containerd did not start: $(tail -5 "$STATE/containerd.log")" >&2
    exit 1
}

DOCKER_SOCK=unix:///run/docker.sock   # dockerd's API, on the DPU only (not under qtfs)
docker_dpu() { on_dpu /usr/bin/docker -H "$DOCKER_SOCK" "$@"; }  # Debian's client, not /usr/local's

start_dockerd() {
    say "DPU: dockerd under qtfs-run, on the DPU's containerd (log: $STATE/dockerd.log)"
    if pgrep -x dockerd >/dev/null; then   # the DPU's pid namespace is inside this one
        echo "offload-demo: a dockerd already runs (pid $(pgrep -x dockerd | head -1)); it would share /var/lib/docker" \
            "and /run/docker with the DPU's: stop it first (systemctl stop docker.service docker.socket)" >&2
        exit 1
    fi
    if ! grep -q " $ROOT/var/lib/docker " <(in_dpu cat /proc/self/mountinfo); then
        mkdir -p /var/lib/docker /run/docker "$ROOT/var/lib/docker" "$ROOT/run/docker"
        ln -sfn ../run "$ROOT/var/run"     # docker writes /var/run/docker paths, as on Debian
        qmount /var/lib/docker /var/lib/docker
        qmount /run/docker /run/docker
        # dockerd refuses to start unless its mount table holds cgroup v1 controllers (it
        # finds none in the host's /sys/fs/cgroup over qtfs, a fuse mount): it gets the
        # DPU's own, outside /sys/fs/cgroup. It only checks them; runc on the host makes
        # the containers' cgroups.
        in_dpu sh -ec "for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
            mkdir -p $ROOT/run/dpu-cgroup/\$c; mount -t cgroup -o \$c cgroup $ROOT/run/dpu-cgroup/\$c; done"
        # Only --network host works (docs/offload.md): its containers join the network
        # namespace whose file is at /run/docker/netns/default. runc opens that on the host,
        # so there it is the host's; dockerd binds its own namespace there at its first
        # such container, so on the DPU that directory is the DPU's own (a tmpfs).
        mkdir -p /run/docker/netns && touch /run/docker/netns/default
        mount --bind /proc/self/ns/net /run/docker/netns/default
        in_dpu mount -t tmpfs tmpfs "$ROOT/run/docker/netns"
    fi
    in_dpu "$BIN/qtfs-run" -s "$HOST_IP:$PORT" -k "$STATE/qtfs.key" -- chroot "$ROOT" \
        dockerd -H "$DOCKER_SOCK" --pidfile /run/docker.pid --containerd /run/containerd/containerd.sock \
        --storage-driver overlay2 --bridge none --iptables=false --ip-masq=false --userland-proxy=false \
        </dev/null >"$STATE/dockerd.log" 2>&1 &
    for _ in $(seq 150); do docker_dpu version >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "dockerd did not start: $(tail -5 "$STATE/dockerd.log")" >&2
    exit 1
}

stop_dockerd() {
    docker_dpu rm -f $(docker_dpu ps -aq) >/dev/null 2>&1
    in_dpu pkill -TERM -x dockerd && for _ in $(seq 50); do in_dpu pgrep -x dockerd >/dev/null || break; sleep 0.2; done
}

run_demo() {
    say "DPU: ctr run --rootfs $RFS demo /bin/sh ..."
    on_dpu ctr run --rm --rootfs "$RFS" demo /bin/sh -c 'echo "hello from the container, pid $$ in its namespace"; exit 3' && rc=0 || rc=$?
    echo "exit code seen by ctr on the DPU: $rc"
    on_dpu ctr run -d --rootfs "$RFS" demo-sleeper /bin/sleep 3600
    say "a container left running: look at it from both sides"
    echo "DPU:  $0 ctr task ls           (containerd runs on the DPU side)"
    echo "host: ps -ef | grep -A1 containerd-shim   (the shim and /bin/sleep 3600 run here)"
    ps -eo pid,ppid,args | grep -E "containerd-shim|sleep 3600" | grep -v grep
    echo "stop: $0 stop"
}

case "${1:-}" in
    stop) stop; echo "offload demo stopped"; exit 0 ;;
    containerd) start_containerd; exit 0 ;;
    ctr) shift; on_dpu ctr "$@"; exit ;;
    dockerd) start_dockerd; exit 0 ;;
    docker) shift; docker_dpu "$@"; exit ;;
esac
[ "$(id -u)" = 0 ] || { echo "offload-demo: run as root (it makes namespaces and mounts)" >&2; exit 1; }
[ -e "$STATE" ] && { echo "offload-demo: already set up; run '$0 stop' first" >&2; exit 1; }
"$REPO/scripts/deps.sh"   # containerd, runc, docker.io and busybox-static among them
[ -x "$BIN/qtfs-run" ] || (cd "$REPO" && swift build -c release >/dev/null)
mkdir -p "$STATE" /run/containerd /var/lib/containerd

setup_host
make_container_root
setup_dpu
start_containerd
[ "${1:-}" = setup ] || run_demo
