# The offload demo (scripts/offload-demo.sh) for t94 and t95, sourced after setting
# OFFLOAD_LOG (the daemon's log in the demo's state directory): set up afresh, torn down
# at exit; a failed test shows the end of that log.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DEMO=$REPO/scripts/offload-demo.sh
STATE=/run/qtfs-offload-demo
export QTFS_BIN=$BIN
offload_cleanup() {
    local rc=$?
    [ "$rc" = 0 ] || grep -v "module=grpc" "$STATE/$OFFLOAD_LOG" | tail -15 >&2
    "$DEMO" stop >/dev/null 2>&1
    cleanup
}
trap offload_cleanup EXIT
"$DEMO" stop >/dev/null 2>&1   # a run that was killed may have left it behind
"$DEMO" setup >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; fail "the offload setup failed"; }
in_dpu() { nsenter -t "$(cat "$STATE/dpu.pid")" -m -p -n "$@"; }
# The command name of a host process's parent (ps pads its ppid column with spaces, and
# `ps -p " 123"` is an error: below pid 10000 that failed at random).
parent_comm() { ps -o comm= -p "$(awk '/^PPid:/ {print $2}' "/proc/$1/status")"; }
