#!/usr/bin/env bash
# Debian's unmodified dockerd offloaded like containerd in t94 (docs/offload.md, "dockerd"):
# dockerd runs on the "DPU" side under qtfs-run, on the DPU's containerd, with the host's
# /var/lib/docker and /run/docker over qtfs; overlay2's mounts land on the host, the shim
# starts on the host through qtfs-rexec, and the containers run on the host.
OFFLOAD_LOG=dockerd.log
source "$(dirname "$0")/offload_lib.sh"
"$DEMO" dockerd >"$WORK/dockerd.log" 2>&1 || { cat "$WORK/dockerd.log" >&2; fail "dockerd did not start on the DPU"; }
docker_dpu() { "$DEMO" docker "$@"; }
IMG=qtfs-busybox:t95

log "dockerd on the DPU uses overlay2 on the host's /var/lib/docker"
docker_dpu info 2>/dev/null | has "Storage Driver: overlay2" || fail "docker info: $(docker_dpu info 2>&1 | head -20)"

log "docker load of a docker-archive tarball unpacks the layer on the host, leaving no host mount"
python3 "$REPO/Tests/Integration/busybox_oci.py" --docker-archive "$STATE/docker-image.tar" "$IMG"
docker_dpu load -i "$STATE/docker-image.tar" | has "Loaded image: $IMG" || fail "docker load"
ls /var/lib/docker/overlay2/*/diff/bin/busybox >/dev/null || fail "the layer is not in the host's overlay2 directory"
grep -q " /var/lib/docker" /proc/self/mountinfo && fail "docker load left a mount on the host: $(grep " /var/lib/docker" /proc/self/mountinfo)"

log "docker run --rm: stdout, stderr, stdin and the exit code come back to the DPU"
out=$(docker_dpu run --rm --network host "$IMG" sh -c 'cat /etc/image-name; echo err >&2; exit 3' 2>"$WORK/err") && rc=0 || rc=$?
[ "$out" = "$IMG" ] && [ "$rc" = 3 ] || fail "docker run: stdout '$out', exit $rc (want $IMG, 3)"
grep -qx err "$WORK/err" || fail "the container's stderr did not reach docker: $(cat "$WORK/err")"
[ "$(echo through-stdin | docker_dpu run -i --rm --network host "$IMG" cat)" = through-stdin ] || fail "stdin did not reach the container"

log "a detached container runs on the host: its own pid namespace, its cgroup, the shim as parent"
id=$(docker_dpu run -d --network host --name t95-a "$IMG" sleep 4095) || fail "docker run -d"
P=$(pgrep -f "^sleep 4095\$") || fail "the container's process is not on the host"
[ "$(parent_comm "$P")" = containerd-shim ] || fail "its parent on the host is not the shim but '$(parent_comm "$P")'"
[ "$(readlink /proc/"$P"/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || fail "it shares the host's pid namespace"
grep -q ":/docker/$id\$" /proc/"$P"/cgroup || fail "its cgroup is not /docker/$id: $(cat /proc/"$P"/cgroup)"
grep -q " /var/lib/docker/overlay2/[^ ]*/merged .* overlay " /proc/self/mountinfo || fail "its overlay2 root is not mounted on the host"
in_dpu pgrep -f "sleep 4095" >/dev/null && fail "the DPU's own pid namespace contains the container"
docker_dpu ps | has -E "t95-a\$" || fail "docker ps on the DPU: $(docker_dpu ps)"
[ "$(docker_dpu exec t95-a sh -c 'echo exec; exit 5')" = exec ] || fail "docker exec output"
docker_dpu exec t95-a sh -c 'exit 5' && fail "docker exec lost the exit code"

log "docker stop, docker rm: the host process ends and its overlay2 mount goes"
docker_dpu stop -t 1 t95-a >/dev/null || fail "docker stop"
kill -0 "$P" 2>/dev/null && fail "the container's host process survived docker stop"
docker_dpu rm t95-a >/dev/null || fail "docker rm"
[ -z "$(docker_dpu ps -aq)" ] || fail "containers left after docker rm: $(docker_dpu ps -a)"
grep -q " /var/lib/docker/overlay2/[^ ]*/merged " /proc/self/mountinfo && fail "an overlay2 mount is left on the host"
# The image lives in the host's /var/lib/docker: leave it as found.
docker_dpu rmi "$IMG" >/dev/null || fail "docker rmi $IMG"
log "docker offload: all checks passed"
