# Sourced by the benchmarks: the kernel's switch for FUSE over io_uring, turned on for one
# mount (docs/client.md, "FUSE over io_uring"). The kernel offers the ring in FUSE_INIT only
# while enable_uring is Y, and reads the parameter again when it takes the daemon's INIT
# reply, which can come after mount(2) returned. A connection whose ring is registered keeps
# it when the parameter is put back, so: on, mount, wait for the ring, restore.
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_ORIG=$(cat "$URING_PARAM" 2>/dev/null || echo N)

uring_param_on() { echo Y >"$URING_PARAM"; }
uring_param_restore() { [ -w "$URING_PARAM" ] && echo "$URING_ORIG" >"$URING_PARAM"; return 0; }

# uring_registered QTINFO MNT: true once qtinfo reports MNT's request loop as io_uring
# (waits up to 5 s); false if the mount runs on /dev/fuse.
uring_registered() {
    local i
    for i in $(seq 1 50); do
        "$1" --status -C "$2" 2>/dev/null | grep -q "request loop io_uring" && return 0
        sleep 0.1
    done
    return 1
}
