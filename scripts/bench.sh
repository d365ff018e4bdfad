#!/bin/bash
# scripts/bench.sh [--quick] [--record]: the qtfs-swift benchmark, one command.
#
# Runs every workload of bench/qtfs-bench.c on every target in one run, over loopback only,
# prints the tables and writes the report of this run to bench/results/ (not committed).
# Only --record (a full run meant to be kept) replaces docs/performance.md with that report,
# and also runs the kernel module's VM benchmark for its section (scripts/bench/kmod-section.sh).
# The parts, each in one place: scripts/bench/targets.sh (the columns: local, passthrough_ll,
# pll strict, qtfs, qtfs strict, qtfs crypt=none, qtfs io_uring, sshfs, sshfs direct), workloads.sh (the rows
# and the mounts they use), report.sh (tables, target checks), document.sh (the report's text and Method).
# Time on this 2-CPU machine, extrapolated from a --quick run (all 8 targets, load average
# about 9; its workloads took 277 s, 10 min with the incremental build): a full run's
# workloads about 28 min at that load, about half of it the ps rows (1,000 extra processes,
# sshfs about 7 ms per process) and the seq rows; less on a quiet machine (not measured).
# BENCH_TARGETS, BENCH_SEQ_MB and BENCH_REPEAT_REPS shorten it. --record adds the VM
# benchmark (kmod-section.sh: the kmod VM test with 5 benchmark rounds, about 4-5 min; with
# 1 round it took 187 s at load average 12-32).
#
# Environment: BENCH_FILES (10000; --quick 1000) BENCH_SEQ_MB (1024; --quick 64)
#   BENCH_ROUNDS (3; --quick 1; the table shows the median) BENCH_BACKING (tmpfs|disk, default tmpfs)
#   BENCH_TARGETS (default: all of targets.sh's ALL_TARGETS, in that order)
#   BENCH_SSH_PORT (2222) BENCH_QTFS_PORT (7850; crypt=none server: +1; TCP sftp-server: +2)
#   BENCH_OUT (the report; default bench/results/performance-DATE-COMMIT.md)
#   BENCH_TIMEOUT (seconds per workload, 300) BENCH_READDIR_REPS (10) BENCH_PS_REPS (3)
#   BENCH_CGROUP_REPS (5) BENCH_REPEAT_REPS (timed scans of the repeated rows, 2)
#   BENCH_PAUSE_MS (before each repeated scan, 1100: past the 1 s default timeouts)
#   BENCH_DEEP_PATH (/sys/fs/cgroup/cpu/cpu.shares, else the first file of a controller)
#   BENCH_DEEP_REPS (2000; --quick 500) BENCH_LOOKUPS (5) BENCH_BIG_ENTRIES (100000)
#   BENCH_PROCS (extra sleeping processes during the ps scans, so that they cover at least
#   that many: 1000; --quick 200) BENCH_KMOD=1 (run the VM benchmark without --record)
#   BENCH_KMOD_ROUNDS (5)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
COMMAND=""
while IFS='=' read -r k v; do COMMAND+="$k=$(printf '%q' "$v") "; done < <(env | grep '^BENCH_' | sort)
COMMAND+="scripts/bench.sh${*:+ $*}"
QUICK=0 RECORD=0
for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        --record) RECORD=1 ;;
        *) echo "usage: scripts/bench.sh [--quick] [--record] (unknown argument: $arg)" >&2; exit 2 ;;
    esac
done
if [ $QUICK = 1 ] && [ $RECORD = 1 ]; then
    echo "bench: --record keeps a full run in docs/performance.md; a --quick run is not one" >&2; exit 2
fi
if [ $QUICK = 1 ]; then
    FILES=${BENCH_FILES:-1000}; SEQ_MB=${BENCH_SEQ_MB:-64}; ROUNDS=${BENCH_ROUNDS:-1}
    PROCS=${BENCH_PROCS:-200}; DEEP_REPS=${BENCH_DEEP_REPS:-500}
else
    FILES=${BENCH_FILES:-10000}; SEQ_MB=${BENCH_SEQ_MB:-1024}; ROUNDS=${BENCH_ROUNDS:-3}
    PROCS=${BENCH_PROCS:-1000}; DEEP_REPS=${BENCH_DEEP_REPS:-2000}
fi
DOC=${BENCH_OUT:-$ROOT/bench/results/performance-$(date -u +%Y%m%d-%H%M)-$(cd "$ROOT" && git rev-parse --short HEAD).md}
RECORDED_DOC=$ROOT/docs/performance.md
BACKING=${BENCH_BACKING:-tmpfs}
SSH_PORT=${BENCH_SSH_PORT:-2222}
QTFS_PORT=${BENCH_QTFS_PORT:-7850}; QTFS_NONE_PORT=$((QTFS_PORT + 1)); SFTP_PORT=$((QTFS_PORT + 2))
TIMEOUT=${BENCH_TIMEOUT:-300}
READDIR_REPS=${BENCH_READDIR_REPS:-10}; PS_REPS=${BENCH_PS_REPS:-3}; CGROUP_REPS=${BENCH_CGROUP_REPS:-5}
REPEAT_REPS=${BENCH_REPEAT_REPS:-2}; PAUSE_MS=${BENCH_PAUSE_MS:-1100}
LOOKUPS=${BENCH_LOOKUPS:-5}; BIG_ENTRIES=${BENCH_BIG_ENTRIES:-100000}
KMOD_ROUNDS=${BENCH_KMOD_ROUNDS:-5}
CGROUP_ROOT=/sys/fs/cgroup

log() { printf '[bench] %s\n' "$*" >&2; }
source "$ROOT/scripts/throwaway-sshd.sh"
source "$ROOT/scripts/uring-param.sh"
source "$ROOT/scripts/bench/targets.sh"
source "$ROOT/scripts/bench/workloads.sh"
source "$ROOT/scripts/bench/report.sh"
source "$ROOT/scripts/bench/document.sh"
TARGETS=${BENCH_TARGETS:-$ALL_TARGETS}
for t in $TARGETS; do
    [ -n "${TARGET_LABEL[$t]:-}" ] || { echo "bench: unknown target '$t' in BENCH_TARGETS; the targets: $ALL_TARGETS" >&2; exit 2; }
done
# The deep pseudo path: a file of a cgroup v1 controller, five components deep.
DEEP_PATH=${BENCH_DEEP_PATH:-$CGROUP_ROOT/cpu/cpu.shares}
[ -e "$DEEP_PATH" ] || DEEP_PATH=$(find "$CGROUP_ROOT" -mindepth 2 -maxdepth 2 -type f -name '*.*' | sort | head -1)

[ "$(id -u)" = 0 ] || { log "must run as root (drop_caches, mounts, sshd)"; exit 1; }

# ---- dependencies ---------------------------------------------------------------------------
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH
"$ROOT/scripts/deps.sh"   # the one place that installs packages (sshfs, sshd, gcc, libfuse3-dev...)

# ---- work area and cleanup ------------------------------------------------------------------
W=$(mktemp -d /tmp/qtfs-bench.XXXXXX)
PIDS=()

cleanup() {
    set +e
    local m p
    uring_param_restore
    for m in "$W"/mnt/*; do
        mountpoint -q "$m" 2>/dev/null && { fusermount3 -uz "$m" 2>/dev/null || umount -l "$m"; }
    done
    for p in "${FUSE_PID[@]}" "${PIDS[@]}" "${SLEEPERS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    mountpoint -q "$W/data" && umount "$W/data"
    rm -rf --one-file-system "$W" # never into a mount that failed to go away
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$W/data" "$W/mnt" "$W/log" "$W/ssh"
[ "$BACKING" = tmpfs ] && mount -t tmpfs -o size=$((SEQ_MB * 2 + FILES / 100 + 512))m qtfs-bench "$W/data"
RESULTS=$W/results.txt; ERRORS=$W/errors.txt; ROWS_FILE=$W/rows.txt
: >"$RESULTS"; : >"$ERRORS"
workload_rows >"$ROWS_FILE"
fail_note() { printf -- '- %s\n' "$*" >>"$ERRORS"; log "$*"; }

wait_port() { # PORT PID
    local i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# ---- builds ---------------------------------------------------------------------------------
BENCH=$W/qtfs-bench
gcc -O2 -Wall -Werror -o "$BENCH" "$ROOT/bench/qtfs-bench.c"
RTT=$W/tcp-rtt
gcc -O2 -Wall -Werror -o "$RTT" "$ROOT/bench/tcp-rtt.c"

PLL=$W/passthrough_ll
EX=/usr/share/doc/libfuse3-dev/examples
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$PLL" "$EX/passthrough_ll.c" -I"$EX" $(pkg-config fuse3 --cflags --libs)

QTFS_BIN=""
if has_any_target qtfs qtfs-strict qtfs-none qtfs-uring; then
    log "building qtfs (swift build -c release)"
    build() { (cd "$ROOT" && swift build -c release --scratch-path .build-bench) >"$W/log/swift-build.log" 2>&1; }
    # the tree is shared with people editing it: one retry after a pause
    if build || { log "build failed, retrying in 30 s"; sleep 30; build; }; then
        QTFS_BIN=$(cd "$ROOT" && swift build -c release --scratch-path .build-bench --show-bin-path)
    else
        msg=$(grep -E -m3 '^/.*error:' "$W/log/swift-build.log" || tail -5 "$W/log/swift-build.log")
        fail_note "qtfs: swift build failed: $(echo "$msg" | tr '\n' ' ')"
    fi
fi

start_servers

# ---- the run --------------------------------------------------------------------------------
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
D=$W/data
log "setup: $FILES files of 4 KiB in $D/files, $BIG_ENTRIES empty files in $D/big ($BACKING)"
"$BENCH" -n "$FILES" setup "$D" >/dev/null
"$BENCH" -n "$BIG_ENTRIES" bigsetup "$D" >/dev/null
START=$(date +%s)
# The loopback round trip under every qtfs request, alone (bench/tcp-rtt.c): as the
# scheduler places the two processes, and both on CPU 0. Before and after the workloads.
rtt_probe() { echo "$("$RTT" | cut -d' ' -f2) $("$RTT" -c 0 | cut -d' ' -f2)"; }
RTT_BEFORE=$(rtt_probe)
for round in $(seq 1 "$ROUNDS"); do
    ORDER=$(rotated $((round - 1)))
    log "== round $round/$ROUNDS: $ORDER"
    run_round
done
for m in "$W"/mnt/*; do if [ -e "$m" ]; then unmount "$m"; fi; done
RTT_AFTER=$(rtt_probe)
ELAPSED=$(( $(date +%s) - START ))

echo
table
echo
not_measured
echo
targets_check
# Fifo round trips and unix-socket latency, local vs through qtfs (own server and mount).
STREAMS="(not measured: no qtfs binaries)"
if [ -n "$QTFS_BIN" ]; then
    STREAMS=$(QTFS_BIN=$QTFS_BIN "$ROOT/scripts/bench-streams.sh" 2>>"$ERRORS") || STREAMS="(stream workloads failed, see Failures)"
fi
echo; echo "$STREAMS"
if [ -s "$ERRORS" ]; then echo; echo "Failures:"; cat "$ERRORS"; fi
log "workloads took ${ELAPSED}s"

# ---- the kernel module's section: from the VM, in the run that records ----------------------
KMOD_HEADING="## Kernel module (qtfs.ko), in a VM"
if [ $RECORD = 1 ] || [ "${BENCH_KMOD:-0}" = 1 ]; then
    if [ -n "$QTFS_BIN" ]; then
        log "kernel module benchmark in the VM (kmod/test/run-vm-test.sh VM_BENCH=1, $KMOD_ROUNDS rounds)"
        KMOD_SECTION=$("$ROOT/scripts/bench/kmod-section.sh" "$QTFS_BIN/qtfs-server" "$KMOD_ROUNDS") ||
            fail_note "kernel module benchmark: the VM test failed (its section says how)"
    else
        KMOD_SECTION=$(printf '%s\n\nNot measured: no qtfs binaries in this run.' "$KMOD_HEADING")
    fi
else
    KMOD_SECTION=$(printf '%s\n\n%s\n%s\n%s' "$KMOD_HEADING" \
        'Not run by this invocation: `scripts/bench.sh --record` (or BENCH_KMOD=1) runs' \
        '`scripts/bench/kmod-section.sh` for this section, which boots the kmod VM test with its' \
        'benchmark (VM_BENCH=1).')
fi
# The sections recorded by the other benchmark commands (bench-rexec.sh, bench-qtfs-run.sh,
# bench-offload.sh, with record-section.py) follow the kernel module's: kept as they are.
OTHER_SECTIONS=$(awk '/^## Kernel module \(qtfs.ko\)/ { k = 1; next } k && /^## / { p = 1 } p' "$RECORDED_DOC" 2>/dev/null || true)

mkdir -p "$(dirname "$DOC")"
{
    report_head
    if [ -s "$ERRORS" ]; then printf '\n## Failures in this run\n\n'; cat "$ERRORS"; fi
    printf '\n## Raw results, every round, in run order\n\n`target workload ops µs/op MB/s [serving CPU µs/op, context switches/op]`\n\n```\n'
    cat "$RESULTS"
    printf '```\n\n'
    method_text
    printf '\n%s\n' "$KMOD_SECTION"
    if [ -n "$OTHER_SECTIONS" ]; then printf '\n%s\n' "$OTHER_SECTIONS"; fi
} >"$DOC"
log "wrote $DOC"
if [ $RECORD = 1 ]; then cp "$DOC" "$RECORDED_DOC"; log "recorded this run in $RECORDED_DOC"; fi
