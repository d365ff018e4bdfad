# Sourced by scripts/bench.sh: the workloads (rows), fresh mounts, and one round of every
# workload on every target. Needs from bench.sh: W, D (data dir), BENCH (qtfs-bench), RESULTS,
# CGROUP_ROOT, DEEP_PATH, the counts (FILES, SEQ_MB, ...), TIMEOUT, log, fail_note; from
# targets.sh: TARGET_NA, TARGET_SERVER and the mount_<target> functions.

# The rows of the report, in order: id|unit|description. Seq rows are MB/s (higher is
# better), all others time per op. Which mount each uses is in run_round below.
workload_rows() {
    cat <<EOF
stat|µs/op|stat, leaf mount ($FILES files)
read4k|µs/op|open+read 4 KiB+check+close
create|µs/op|create+write 4 KiB+close
unlink|µs/op|unlink
readdir|µs/listing|readdir of $FILES entries, ×$READDIR_REPS on one mount
seqwrite|MB/s|seq write + fsync ($SEQ_MB MiB)
seqread|MB/s|seq read + check, 1 MiB reads
lookup|µs/lookup|$LOOKUPS lookups in a $BIG_ENTRIES-entry dir, fresh mount
deepstat|µs/op|stat $DEEP_PATH via a / mount, ×$DEEP_REPS
ps|µs/process|ps scan, /proc -o proc, fresh mount, ×$PS_REPS
ps-repeat|µs/process|ps scan, /proc -o proc, repeated on one mount
cgroup|µs/file|cgroup scan, leaf $CGROUP_ROOT mount, ×$CGROUP_REPS
cgroup-sys|µs/file|cgroup scan via a /sys mount, cold, once
cgroup-sys-repeat|µs/file|cgroup scan via a /sys mount, repeated on one mount
EOF
}

declare -A FUSE_PID=()   # mount point -> its FUSE daemon

is_pseudo_source() { [ "$1" = /proc ] || [ "$1" = /sys ] || [ "$1" = "$CGROUP_ROOT" ]; }

# mount_fresh TARGET SRC: (re)mounts TARGET's view of host path SRC, sets MNT to the path to use.
mount_fresh() {
    local t=$1 src=$2 name mnt log i pseudo=0
    MNT=$src
    [ "$t" = local ] && return 0
    is_pseudo_source "$src" && pseudo=1
    name=$(basename "$src"); [ "$src" = / ] && name=root
    mnt=$W/mnt/$t-$name log=$W/log/mount-$t.log
    unmount "$mnt"
    mkdir -p "$mnt"
    "mount_${t//-/_}" "$src" "$mnt" "$pseudo" "$log"
    FUSE_PID[$mnt]=$!
    for i in $(seq 1 100); do
        if mountpoint -q "$mnt"; then after_mount "$t" "$mnt" || break; MNT=$mnt; return 0; fi
        kill -0 "${FUSE_PID[$mnt]}" 2>/dev/null || break
        sleep 0.1
    done
    unmount "$mnt"
    fail_note "$t: mount of $src failed: $(tail -5 "$log" | tr '\n' ' ')"
    if [[ $t == qtfs* ]]; then # the most frequent server log lines
        fail_note "qtfs-server logs (count, line): $(cat "$W"/log/qtfs-server*.log | head -c 10M | cut -d' ' -f2- |
            sort | uniq -c | sort -rn | head -3 | tr -s ' \n' ' ')"
    fi
    return 1
}

unmount() {
    local mnt=$1 pid=${FUSE_PID[$1]:-} i
    mountpoint -q "$mnt" 2>/dev/null && { fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"; }
    if [ -n "$pid" ]; then
        for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        unset "FUSE_PID[$mnt]"
    fi
    return 0
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# usage PID...: "CPU-ticks context-switches" of these processes and all their descendants
# (threads included): the cost of serving a mount, outside the benchmark process itself.
usage() {
    local p st cpu=0 cs=0 kids x c
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] || continue
        st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        st=${st##*) }
        cpu=$((cpu + $(echo "$st" | awk '{print $12 + $13}')))
        # A process that ends meanwhile fails the cat; that must not end the benchmark (set -e).
        x=$(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}') || true
        cs=$((cs + ${x:-0}))
        kids=$(ps -o pid= --ppid "$p" | tr "\n" " " || true)
        if [ -n "$kids" ]; then
            # shellcheck disable=SC2086
            read -r c x < <(usage $kids)
            cpu=$((cpu + c)); cs=$((cs + x))
        fi
    done
    echo "$cpu $cs"
}
TICK=$(getconf CLK_TCK)

# server_requests PID: requests qtfs-server PID has answered so far, leaving out RELEASE and
# RELEASEDIR, which qtfs-fuse sends without waiting: the round trips its callers waited for
# (and background prefetch, which strict mounts do not make). "-" when qtinfo cannot say.
server_requests() {
    "$QTFS_BIN/qtinfo" --stats --json -C "server-$1" 2>/dev/null | python3 -c '
import json, sys
try:
    stats = json.load(sys.stdin)["components"][0].get("stats") or []
    print(sum(s["count"] for s in stats if s["op"] not in ("release", "releasedir")))
except Exception:
    print("-")' 2>/dev/null || echo -
}

# run TARGET ROW WORKLOAD SRC SUB [qtfs-bench args]: fresh mount of SRC + drop caches, then
# qtfs-bench's WORKLOAD on MNT/SUB (@T in SUB: the target's id). Appends qtfs-bench's line,
# its workload field replaced by ROW, plus CPU µs/op and context switches/op of the serving
# processes, and for qtfs targets the server requests per op (server_requests);
# "TARGET ROW NA" for a target not measured in this run, "FAIL" on failure. A -w (warm-up
# scan) among the args is run as a scan of its own before the counters are read, so that
# the CPU and request figures per op are those of the timed scans alone.
run() {
    local t=$1 row=$2 w=$3 src=$4 sub=${5//@T/$1} out pids c0 x0 c1 x1 r0=- r1=- rc=0 warm=0 a
    shift 5
    local -a args=()
    for a in "$@"; do if [ "$a" = -w ]; then warm=1; else args+=("$a"); fi; done
    if [ -n "${TARGET_NA[$t]:-}" ]; then echo "$t $row NA" >>"$RESULTS"; return 0; fi
    if ! mount_fresh "$t" "$src"; then echo "$t $row FAIL" >>"$RESULTS"; return 0; fi
    drop_caches
    [ $warm = 1 ] && { timeout -k 5 "$TIMEOUT" "$BENCH" -l "$t" "${args[@]}" -r 1 -p 0 "$w" "$MNT$sub" >/dev/null 2>&1 || true; }
    pids="${FUSE_PID[$MNT]:-} ${TARGET_SERVER[$t]:-}"
    [[ $t == qtfs* ]] && r0=$(server_requests "${TARGET_SERVER[$t]}")   # before: its own CPU is not the workload's
    # shellcheck disable=SC2086
    read -r c0 x0 < <(usage $pids)
    out=$(timeout -k 5 "$TIMEOUT" "$BENCH" -l "$t" "${args[@]}" "$w" "$MNT$sub" 2>"$W/log/bench.err") || rc=$?
    if [ $rc = 0 ]; then
        # shellcheck disable=SC2086
        read -r c1 x1 < <(usage $pids)
        [[ $t == qtfs* ]] && r1=$(server_requests "${TARGET_SERVER[$t]}")
        out=$(echo "$out" | awk -v row="$row" '{ $2 = row; print }')
        if [ "$t" != local ]; then
            out="$out $(echo "$out" | awk -v c=$((c1 - c0)) -v x=$((x1 - x0)) -v hz="$TICK" \
                '{printf "%.1f %.1f", c * 1e6 / hz / $3, x / $3}')"
        fi
        if [ "$r0" != - ] && [ "$r1" != - ]; then
            out="$out $(echo "$out" | awk -v r=$((r1 - r0)) '{printf "%.2f", r / $3}')"
        fi
        echo "$out" | tee -a "$RESULTS" >&2
        sed 's/^/    /' "$W/log/bench.err" >&2
    else
        echo "$t $row FAIL" >>"$RESULTS"
        fail_note "$t $row failed (exit $rc$([ $rc = 124 ] && echo ": timed out after ${TIMEOUT}s")): $(tail -3 "$W/log/bench.err" | tr '\n' ' ')"
    fi
}

# each ROW WORKLOAD SRC SUB [args]: run on every target, in this round's order.
each() { local t; for t in $ORDER; do run "$t" "$@"; done; }

# The ps scans run with PROCS extra processes alive (a busy host has about 1,000), started
# and reaped here; cleanup kills them too if the run is interrupted.
SLEEPERS=()
start_sleepers() {
    local i
    for i in $(seq 1 "$PROCS"); do sleep 86400 & SLEEPERS+=($!); done
}
stop_sleepers() {
    [ ${#SLEEPERS[@]} -gt 0 ] || return 0
    kill "${SLEEPERS[@]}" 2>/dev/null || true
    wait "${SLEEPERS[@]}" 2>/dev/null || true   # killed sleepers exit 143: not a failure
    SLEEPERS=()
}

# rotated N: TARGETS rotated left by N places (round r starts with a different target, so no
# column always runs first or right after another one).
rotated() {
    local -a t; read -ra t <<<"$TARGETS"
    local n=${#t[@]} k=$(($1 % ${#t[@]}))
    echo "${t[@]:k:n-k}" "${t[@]:0:k}"
}

# Workload-major order: all targets run one workload before the next, so that load from other
# work on the machine falls on every column alike. "Repeated" scans keep one mount up, scan
# once untimed, then PAUSE_MS before each timed scan (past the 1 s default timeouts, as top
# or a kubelet polling every few seconds finds them).
run_round() {
    local t sysdir=${CGROUP_ROOT#/sys}
    each stat stat "$D" "" -n "$FILES"
    each read4k read4k "$D" "" -n "$FILES"
    each readdir readdir "$D" /files -r "$READDIR_REPS"
    each create create "$D" "/create-@T" -n "$FILES"
    each unlink unlink "$D" "/create-@T" -n "$FILES"
    rm -rf "$D"/create-*
    for t in $ORDER; do
        mkdir -p "$D/seq-$t"
        run "$t" seqwrite seqwrite "$D" "/seq-$t" -m "$SEQ_MB"
        run "$t" seqread seqread "$D" "/seq-$t" -m "$SEQ_MB"
        rm -rf "$D/seq-$t"
    done
    each lookup lookup "$D" "" -n "$LOOKUPS" -e "$BIG_ENTRIES"
    each deepstat pathstat / "$DEEP_PATH" -r "$DEEP_REPS"
    start_sleepers
    each ps ps /proc "" -r "$PS_REPS"
    each ps-repeat ps /proc "" -w -p "$PAUSE_MS" -r "$REPEAT_REPS"
    stop_sleepers
    each cgroup cgroup "$CGROUP_ROOT" "" -r "$CGROUP_REPS"
    each cgroup-sys cgroup /sys "$sysdir" -r 1
    each cgroup-sys-repeat cgroup /sys "$sysdir" -w -p "$PAUSE_MS" -r "$REPEAT_REPS"
}
