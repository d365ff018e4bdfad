#!/bin/bash
# scripts/bench.sh [--quick] [--record]: the qtfs-swift benchmark, one command.
#
# Runs every workload of bench/qtfs-bench.c on four targets in one run, over loopback only:
#   local           the data directory itself (and /proc, /sys/fs/cgroup)
#   passthrough_ll  libfuse's passthrough_ll example over the same directory (the FUSE ceiling)
#   qtfs            qtfs-fuse mounting qtfs-server's export of the same directory
#   sshfs           sshfs through a throwaway sshd on 127.0.0.1
# prints a table and writes the report of this run to bench/results/ (not committed). Only
# --record (a full run meant to be kept) replaces docs/performance.md with that report.
#
# Environment: BENCH_FILES (10000; --quick 1000) BENCH_SEQ_MB (1024; --quick 64)
#   BENCH_ROUNDS (3; --quick 1; the table shows the median) BENCH_BACKING (tmpfs|disk, default tmpfs)
#   BENCH_TARGETS ("local passthrough_ll qtfs sshfs") BENCH_SSH_PORT (2222) BENCH_QTFS_PORT (7850)
#   BENCH_OUT (the report; default bench/results/performance-DATE-COMMIT.md)
#   BENCH_TIMEOUT (seconds per workload, 300) BENCH_READDIR_REPS (10) BENCH_PS_REPS (3)
#   BENCH_CGROUP_REPS (5) BENCH_PROCS (extra sleeping processes during the ps scan, so that it
#   covers at least that many: 1000; --quick 200)
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
else
    FILES=${BENCH_FILES:-10000}; SEQ_MB=${BENCH_SEQ_MB:-1024}; ROUNDS=${BENCH_ROUNDS:-3}
fi
DOC=${BENCH_OUT:-$ROOT/bench/results/performance-$(date -u +%Y%m%d-%H%M)-$(cd "$ROOT" && git rev-parse --short HEAD).md}
RECORDED_DOC=$ROOT/docs/performance.md
BACKING=${BENCH_BACKING:-tmpfs}
TARGETS=${BENCH_TARGETS:-local passthrough_ll qtfs sshfs}
SSH_PORT=${BENCH_SSH_PORT:-2222}
QTFS_PORT=${BENCH_QTFS_PORT:-7850}
TIMEOUT=${BENCH_TIMEOUT:-300}
READDIR_REPS=${BENCH_READDIR_REPS:-10}; PS_REPS=${BENCH_PS_REPS:-3}; CGROUP_REPS=${BENCH_CGROUP_REPS:-5}
if [ $QUICK = 1 ]; then PROCS=${BENCH_PROCS:-200}; else PROCS=${BENCH_PROCS:-1000}; fi
CIPHER=aes128-gcm@openssh.com
CGROUP_ROOT=/sys/fs/cgroup

log() { printf '[bench] %s\n' "$*" >&2; }
source "$ROOT/scripts/throwaway-sshd.sh"

[ "$(id -u)" = 0 ] || { log "must run as root (drop_caches, mounts, sshd)"; exit 1; }

# ---- dependencies ---------------------------------------------------------------------------
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH
"$ROOT/scripts/deps.sh"   # the one place that installs packages (sshfs, sshd, gcc, libfuse3-dev...)

# ---- work area and cleanup ------------------------------------------------------------------
W=$(mktemp -d /tmp/qtfs-bench.XXXXXX)
PIDS=()
SLEEPERS=()   # the ps scan's extra processes
declare -A FUSE_PID=() SERVER_PID=()

cleanup() {
    set +e
    local m p
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
RESULTS=$W/results.txt; ERRORS=$W/errors.txt
: >"$RESULTS"; : >"$ERRORS"
fail_note() { printf -- '- %s\n' "$*" >>"$ERRORS"; log "$*"; }

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
if [[ " $TARGETS " == *" qtfs "* ]]; then
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

# ---- servers --------------------------------------------------------------------------------
wait_port() { # PORT PID NAME
    local i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

if [[ " $TARGETS " == *" sshfs "* ]]; then
    throwaway_sshd_config "$W/ssh" "$SSH_PORT" "Ciphers $CIPHER" "Subsystem sftp /usr/lib/openssh/sftp-server"
    /usr/sbin/sshd -f "$W/ssh/sshd_config" -D -e 2>"$W/log/sshd.log" &
    PIDS+=($!); SERVER_PID[sshfs]=$!
    wait_port "$SSH_PORT" $! || fail_note "sshd did not start: $(tail -3 "$W/log/sshd.log")"
fi

if [ -n "$QTFS_BIN" ]; then
    "$QTFS_BIN/qtfs-server" --generate-key "$W/qtfs.key" >/dev/null
    "$QTFS_BIN/qtfs-server" --listen 127.0.0.1 --port "$QTFS_PORT" --key "$W/qtfs.key" \
        --export "$W/data" --export /proc --export "$CGROUP_ROOT" >"$W/log/qtfs-server.log" 2>&1 &
    PIDS+=($!); SERVER_PID[qtfs]=$!
    if ! wait_port "$QTFS_PORT" $!; then
        fail_note "qtfs-server did not listen: $(tail -5 "$W/log/qtfs-server.log" | tr '\n' ' ')"
        QTFS_BIN=""
    fi
fi

# ---- mounts ---------------------------------------------------------------------------------
# mount_fresh TARGET SRC: (re)mounts TARGET's view of host path SRC, sets MNT to the path to use.
# Pseudo file systems (/proc, cgroup) get the options that make their size-0 files readable.
mount_fresh() {
    local t=$1 src=$2 mnt pseudo=0 log
    MNT=$src
    [ "$t" = local ] && return 0
    [ "$src" = /proc ] || [ "$src" = "$CGROUP_ROOT" ] && pseudo=1
    mnt=$W/mnt/$t-$(basename "$src")
    unmount "$mnt"
    mkdir -p "$mnt"
    log=$W/log/mount-$t.log
    case $t in
    passthrough_ll)
        local o=""; [ $pseudo = 1 ] && o=",cache=never"
        "$PLL" -f -o "source=$src$o" "$mnt" >>"$log" 2>&1 & ;;
    sshfs)
        local o=""; [ $pseudo = 1 ] && o=",direct_io"
        sshfs -f -o "IdentityFile=$W/ssh/client,Port=$SSH_PORT,Ciphers=$CIPHER,Compression=no" \
            -o "StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes,LogLevel=ERROR$o" \
            "root@127.0.0.1:$src" "$mnt" >>"$log" 2>&1 & ;;
    qtfs)
        [ -n "$QTFS_BIN" ] || return 1
        local o=""; [ "$src" = /proc ] && o=",proc"
        "$QTFS_BIN/qtfs-fuse" -f -o "server=127.0.0.1:$QTFS_PORT,key=$W/qtfs.key$o" "$src" "$mnt" >>"$log" 2>&1 & ;;
    esac
    FUSE_PID[$mnt]=$!
    local i
    for i in $(seq 1 100); do
        mountpoint -q "$mnt" && { MNT=$mnt; return 0; }
        kill -0 "${FUSE_PID[$mnt]}" 2>/dev/null || break
        sleep 0.1
    done
    unmount "$mnt"
    fail_note "$t: mount of $src failed: $(tail -5 "$log" | tr '\n' ' ')"
    if [ "$t" = qtfs ]; then # most frequent server log lines; stop trying qtfs in this run
        fail_note "qtfs-server log (count, line): $(head -c 10M "$W/log/qtfs-server.log" | cut -d' ' -f2- |
            sort | uniq -c | sort -rn | head -3 | tr -s ' \n' ' ')"
        QTFS_BIN=""
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

# run TARGET WORKLOAD SRC SUBPATH [bench args]: fresh mount + drop caches, then one workload.
# usage PID...: "CPU-ticks context-switches" of these processes and all their descendants
# (threads included): the cost of serving a mount, outside the benchmark process itself.
usage() {
    local p st cpu=0 cs=0 kids x
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

# run TARGET WORKLOAD SRC SUBPATH [bench args]: fresh mount + drop caches, then one workload.
# Appends qtfs-bench's line plus CPU µs/op and context switches/op of the serving processes.
run() {
    local t=$1 w=$2 src=$3 sub=$4 out pids c0 x0 c1 x1
    shift 4
    if ! mount_fresh "$t" "$src"; then echo "$t $w FAIL" >>"$RESULTS"; return 0; fi
    drop_caches
    pids="${FUSE_PID[$MNT]:-} ${SERVER_PID[$t]:-}"
    # shellcheck disable=SC2086
    read -r c0 x0 < <(usage $pids)
    if out=$(timeout -k 5 "$TIMEOUT" "$BENCH" -l "$t" "$@" "$w" "$MNT$sub" 2>"$W/log/bench.err"); then
        # shellcheck disable=SC2086
        read -r c1 x1 < <(usage $pids)
        if [ "$t" != local ]; then
            out="$out $(echo "$out" | awk -v c=$((c1 - c0)) -v x=$((x1 - x0)) -v hz="$TICK" \
                '{printf "%.1f %.1f", c * 1e6 / hz / $3, x / $3}')"
        fi
        echo "$out" | tee -a "$RESULTS" >&2
        sed 's/^/    /' "$W/log/bench.err" >&2
    else
        echo "$t $w FAIL" >>"$RESULTS"
        fail_note "$t $w failed (exit $?): $(tail -3 "$W/log/bench.err" | tr '\n' ' ')"
    fi
}

# ---- workloads ------------------------------------------------------------------------------
# The ps scan runs with PROCS extra processes alive (a busy host has about 1,000), started
# and reaped here; cleanup kills them too if the run is interrupted.
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
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
log "setup: $FILES files of 4 KiB in $W/data/files ($BACKING)"
"$BENCH" -n "$FILES" setup "$W/data" >/dev/null
START=$(date +%s)
# The loopback round trip under every qtfs request, alone (bench/tcp-rtt.c): as the
# scheduler places the two processes, and both on CPU 0. Before and after the workloads.
rtt_probe() { echo "$("$RTT" | cut -d' ' -f2) $("$RTT" -c 0 | cut -d' ' -f2)"; }
RTT_BEFORE=$(rtt_probe)

D=$W/data
# Workload-major order: all targets run one workload before the next, so that load from other
# work on the machine falls on every column alike; each round repeats the whole set.
for round in $(seq 1 "$ROUNDS"); do
    log "== round $round/$ROUNDS"
    for t in $TARGETS; do run "$t" stat "$D" "" -n "$FILES"; done
    for t in $TARGETS; do run "$t" read4k "$D" "" -n "$FILES"; done
    for t in $TARGETS; do run "$t" readdir "$D" /files -r "$READDIR_REPS"; done
    for t in $TARGETS; do run "$t" create "$D" "/create-$t" -n "$FILES"; done
    for t in $TARGETS; do run "$t" unlink "$D" "/create-$t" -n "$FILES"; rm -rf "$D/create-$t"; done
    for t in $TARGETS; do
        mkdir -p "$D/seq-$t"
        run "$t" seqwrite "$D" "/seq-$t" -m "$SEQ_MB"
        run "$t" seqread "$D" "/seq-$t"
        rm -rf "$D/seq-$t"
    done
    start_sleepers
    for t in $TARGETS; do run "$t" ps /proc "" -r "$PS_REPS"; done
    stop_sleepers
    for t in $TARGETS; do run "$t" cgroup "$CGROUP_ROOT" "" -r "$CGROUP_REPS"; done
done
for m in "$W"/mnt/*; do if [ -e "$m" ]; then unmount "$m"; fi; done
RTT_AFTER=$(rtt_probe)
ELAPSED=$(( $(date +%s) - START ))

# ---- table ----------------------------------------------------------------------------------
# medians: one line per target and workload, the median over the rounds that did not fail
# ("FAIL" when all failed); same fields as qtfs-bench's output.
medians() {
    awk '
    !(($1, $2) in n) { n[$1, $2] = 0; keys[++k] = $1 SUBSEP $2 }
    $3 == "FAIL" { next }
    {
        v = ($2 ~ /^seq/) ? $5 : $4
        for (i = ++n[$1, $2]; i > 1 && sorted[$1, $2, i - 1] + 0 > v + 0; i--)
            sorted[$1, $2, i] = sorted[$1, $2, i - 1]
        sorted[$1, $2, i] = v; raw[$1, $2, v] = $0
    }
    END {
        for (j = 1; j <= k; j++) {
            split(keys[j], tw, SUBSEP); c = n[tw[1], tw[2]]
            if (c == 0) print tw[1], tw[2], "FAIL"
            else print raw[tw[1], tw[2], sorted[tw[1], tw[2], int((c + 1) / 2)]]
        }
    }' "$RESULTS"
}

table() {
    awk '
    BEGIN {
        split("stat read4k create unlink readdir seqwrite seqread ps cgroup", W, " ")
        split("local passthrough_ll qtfs sshfs", T, " ")
        for (i in W) unit[W[i]] = "µs/op"
        unit["seqwrite"] = unit["seqread"] = "MB/s"; unit["readdir"] = "µs/listing"
        unit["ps"] = "µs/process"; unit["cgroup"] = "µs/file"
        desc["stat"] = "uncached stat"; desc["read4k"] = "open+read 4 KiB+close"
        desc["create"] = "create+write 4 KiB+close"; desc["unlink"] = "unlink"
        desc["readdir"] = "readdir (large dir)"; desc["seqwrite"] = "seq write + fsync"
        desc["seqread"] = "seq read, 1 MiB reads"; desc["ps"] = "ps scan (/proc)"
        desc["cgroup"] = "cgroup scan"
    }
    { val[$1, $2] = ($3 == "FAIL") ? "FAIL" : ($2 ~ /^seq/ ? $5 : $4) }
    function num(t, w) { return ((t, w) in val) && val[t, w] != "FAIL" && val[t, w] > 0 }
    END {
        print "| workload | unit | local | passthrough_ll | qtfs | sshfs | qtfs speedup vs sshfs | qtfs time vs passthrough_ll |"
        print "|---|---|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= 9; i++) {
            w = W[i]; seq = (unit[w] == "MB/s")
            line = "| " desc[w] " | " unit[w]
            for (j = 1; j <= 4; j++) {
                v = ((T[j], w) in val) ? val[T[j], w] : "n/a"
                if (v != "n/a" && v != "FAIL") v = seq ? sprintf("%.0f", v) : sprintf("%.1f", v)
                line = line " | " v
            }
            q = num("qtfs", w); s = num("sshfs", w); p = num("passthrough_ll", w)
            line = line " | " (q && s ? sprintf("%.2f×", seq ? val["qtfs", w] / val["sshfs", w] : val["sshfs", w] / val["qtfs", w]) : "n/a")
            line = line " | " (q && p ? sprintf("%.2f×", seq ? val["passthrough_ll", w] / val["qtfs", w] : val["qtfs", w] / val["passthrough_ll", w]) : "n/a")
            print line " |"
        }
    }' <(medians)
}

# cost: CPU and context switches per op of the processes serving each FUSE mount.
cost() {
    awk '
    BEGIN {
        split("stat read4k create unlink readdir seqwrite seqread ps cgroup", W, " ")
        split("passthrough_ll qtfs sshfs", T, " ")
    }
    NF >= 7 { cpu[$1, $2] = $6; cs[$1, $2] = $7 }
    END {
        print "| workload | passthrough_ll CPU µs/op | qtfs CPU µs/op | sshfs CPU µs/op | passthrough_ll switches/op | qtfs switches/op | sshfs switches/op |"
        print "|---|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= 9; i++) {
            line = "| " W[i]
            for (j = 1; j <= 3; j++) line = line " | " (((T[j], W[i]) in cpu) ? cpu[T[j], W[i]] : "n/a")
            for (j = 1; j <= 3; j++) line = line " | " (((T[j], W[i]) in cs) ? cs[T[j], W[i]] : "n/a")
            print line " |"
        }
    }' <(medians)
}

# spread: max/min of each target's figure over the rounds (1.00 = identical rounds).
spread() {
    awk '
    BEGIN {
        split("stat read4k create unlink readdir seqwrite seqread ps cgroup", W, " ")
        split("local passthrough_ll qtfs sshfs", T, " ")
    }
    $3 != "FAIL" {
        v = ($2 ~ /^seq/) ? $5 : $4
        if (!(($1, $2) in lo) || v + 0 < lo[$1, $2]) lo[$1, $2] = v + 0
        if (!(($1, $2) in hi) || v + 0 > hi[$1, $2]) hi[$1, $2] = v + 0
    }
    END {
        print "| workload | local | passthrough_ll | qtfs | sshfs |"
        print "|---|---:|---:|---:|---:|"
        for (i = 1; i <= 9; i++) {
            line = "| " W[i]
            for (j = 1; j <= 4; j++)
                line = line " | " ((T[j], W[i]) in lo && lo[T[j], W[i]] > 0 ? sprintf("%.2f", hi[T[j], W[i]] / lo[T[j], W[i]]) : "n/a")
            print line " |"
        }
    }' "$RESULTS"
}

# What a workload costs at least on this machine: passthrough_ll's time for it (the FUSE part,
# with no network) plus the round trips qtfs must wait for, at the loopback round trip
# measured before and after the workloads (the smaller of the two). Compared with what the
# 3× sshfs target allows.
floors() {
    local rtt
    rtt=$(echo "$RTT_BEFORE $RTT_AFTER" | awk '{ print ($1 < $3) ? $1 : $3 }')
    awk -v rtt="$rtt" '
    { if ($3 != "FAIL") us[$1, $2] = $4 }
    END {
        split("unlink create", W, " "); trips["unlink"] = 1; trips["create"] = 2
        why["unlink"] = "UNLINK (its LOOKUP is answered from the prefetched directory)"
        why["create"] = "CREATE, then the 4 KiB WRITE, whose result close() must report"
        for (i = 1; i <= 2; i++) {
            w = W[i]
            if (!(("passthrough_ll", w) in us) || !(("sshfs", w) in us) || !(("qtfs", w) in us)) continue
            floor = us["passthrough_ll", w] + trips[w] * rtt
            printf "- %s: passthrough_ll %.1f µs + %d round trip(s) of %.1f µs (%s) = at least %.1f µs; qtfs %.1f µs; 3× sshfs allows %.1f µs\n",
                w, us["passthrough_ll", w], trips[w], rtt, why[w], floor, us["qtfs", w], us["sshfs", w] / 3
        }
    }' <(medians)
}

targets_check() {
    awk '
    { if ($3 != "FAIL") { us[$1, $2] = $4; mb[$1, $2] = $5 } }
    function verdict(ok, known) { return known ? (ok ? "met" : "NOT met") : "not measured" }
    END {
        n = split("stat create unlink readdir ps cgroup", M, " ")
        for (i = 1; i <= n; i++) {
            w = M[i]; k = (("qtfs", w) in us) && (("sshfs", w) in us)
            r = k ? us["sshfs", w] / us["qtfs", w] : 0
            printf "- %s ≥3× faster than sshfs: %s%s\n", w, verdict(r >= 3, k), k ? sprintf(" (%.2f×)", r) : ""
        }
        n = split("ps cgroup", M8, " ")
        for (i = 1; i <= n; i++) {
            w = M8[i]; k = (("qtfs", w) in us) && (("sshfs", w) in us)
            r = k ? us["sshfs", w] / us["qtfs", w] : 0
            printf "- %s ≥8× faster than sshfs (issue 3): %s%s\n", w, verdict(r >= 8, k), k ? sprintf(" (%.2f×)", r) : ""
        }
        k = ("qtfs", "ps") in us
        printf "- ps scan of 1,000 processes under 150 ms: %s%s\n", verdict(us["qtfs", "ps"] * 1000 / 1000 < 150, k),
            k ? sprintf(" (%.0f ms per 1,000 processes)", us["qtfs", "ps"]) : ""
        k = (("qtfs", "read4k") in us) && (("passthrough_ll", "read4k") in us)
        r = k ? us["qtfs", "read4k"] / us["passthrough_ll", "read4k"] : 0
        printf "- open+read 4 KiB+close within 1.6× of passthrough_ll: %s%s\n", verdict(r <= 1.6, k), k ? sprintf(" (%.2f×)", r) : ""
        k = ("qtfs", "seqread") in mb
        printf "- seq read ≥ 2000 MB/s: %s%s%s\n", verdict(mb["qtfs", "seqread"] >= 2000, k), k ? " (" mb["qtfs", "seqread"] " MB/s)" : "",
            (("passthrough_ll", "seqread") in mb) ? "; passthrough_ll, the FUSE ceiling, " mb["passthrough_ll", "seqread"] " MB/s" : ""
        k = ("qtfs", "seqwrite") in mb
        printf "- seq write ≥ 1000 MB/s: %s%s%s\n", verdict(mb["qtfs", "seqwrite"] >= 1000, k), k ? " (" mb["qtfs", "seqwrite"] " MB/s)" : "",
            (("passthrough_ll", "seqwrite") in mb) ? "; passthrough_ll, the FUSE ceiling, " mb["passthrough_ll", "seqwrite"] " MB/s" : ""
    }' <(medians)
}

echo
table
echo
cost
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

mkdir -p "$(dirname "$DOC")"
# The kernel module's section comes from kmod/test/run-vm-test.sh (VM_BENCH=1), not from this
# run: keep the recorded one (it is the last section of the file).
KMOD_SECTION=$(sed -n '/^## Kernel module (qtfs.ko)/,$p' "$RECORDED_DOC" 2>/dev/null || true)
# ---- docs/performance.md --------------------------------------------------------------------
{
    cat <<EOF
# Performance

Measured by \`$COMMAND\` (generated by that script from one run; do not edit by hand).
Parameters: BENCH_FILES=$FILES BENCH_SEQ_MB=$SEQ_MB BENCH_BACKING=$BACKING, readdir ×$READDIR_REPS,
ps scan ×$PS_REPS, cgroup scan ×$CGROUP_REPS; $ROUNDS rounds, the table shows the median.
Workloads took ${ELAPSED}s; load average at start $LOAD, at end $(cut -d' ' -f1-3 /proc/loadavg)
(other work shares this machine's CPUs, so single figures move by tens of percent).

Machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM,
kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"), $(sshfs --version 2>&1 | grep -m1 SSHFS),
libfuse $(pkg-config --modversion fuse3), $(swift --version 2>&1 | grep -m1 -o 'Swift version [0-9.]*' || echo 'swift n/a').
Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Commit: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- Sources Package.swift ||
    echo " + uncommitted changes in Sources ($(git diff --shortstat HEAD -- Sources Package.swift | sed 's/^ //'))")
(qtfs binaries built from the working tree at the start of the run).

## Results

Lower is better for µs, higher for MB/s (MB = 10^6 bytes). "qtfs speedup vs sshfs" > 1 means qtfs
is faster; "qtfs time vs passthrough_ll" is qtfs's time divided by passthrough_ll's (1.0 = the
FUSE ceiling; for MB/s rows the inverse ratio of throughputs).

$(table)

## Cost of serving each mount (same median rounds)

CPU time (user + system, all threads) and context switches (voluntary + involuntary) per
operation, summed over the processes that serve the mount: the FUSE daemon and its children
(sshfs's ssh), plus the server (qtfs-server; sshd and its sftp-server children). For seq rows
an op is one 1 MiB chunk. Clock-tick resolution (1/$TICK s).

$(cost)

## Spread between rounds

Largest over smallest figure of each cell across the $ROUNDS rounds (1.00 = identical rounds).

$(spread)

## Targets (ratios from this same run)

$(targets_check)

## Round-trip floor

\`bench/tcp-rtt.c\`: two processes ping-pong 64 bytes over a loopback TCP connection
(TCP_NODELAY), as the qtfs client and server do for every request. Median µs per round
trip, as the scheduler places them / both pinned to CPU 0: $(echo "$RTT_BEFORE" | awk '{ print $1 " / " $2 }') before the
workloads, $(echo "$RTT_AFTER" | awk '{ print $1 " / " $2 }') after. Waking a process on the other CPU is what costs
most on this VM. Every request a workload must wait for costs at least one such round
trip on top of what the FUSE path costs alone:

$(floors)

## Fifos and unix sockets

\`scripts/bench-streams.sh\` (BENCH_STREAM_ROUNDS=${BENCH_STREAM_ROUNDS:-2000} round trips per figure, one
round): a host process echoing over two host fifos against a process using them locally or
through a qtfs-fuse mount; an echo server on a host unix socket reached directly or through
the socket bridge (\`unix_bridge\`).

$STREAMS
EOF
    if [ -s "$ERRORS" ]; then printf '\n## Failures in this run\n\n'; cat "$ERRORS"; fi
    printf '\n## Raw results, every round, in run order\n\n`target workload ops µs/op MB/s [serving CPU µs/op, context switches/op]`\n\n```\n'
    cat "$RESULTS"
    printf '```\n'
    cat <<'EOF'

## Method

- One program, `bench/qtfs-bench.c` (gcc -O2), runs one workload per invocation and prints
  `target workload ops µs/op MB/s`. The script runs every workload on every target in one run,
  workload by workload (all targets run a workload before the next one starts) so background
  load falls on all columns alike, repeated BENCH_ROUNDS times; the table shows the median round.
- Data: one directory of BENCH_FILES files of 4 KiB, created once on the host before any
  measurement. All three FUSE targets mount that same host directory. With BENCH_BACKING=tmpfs
  (default) it lives on a private tmpfs, so the numbers measure the file-system path and not the
  disk; "local" is then tmpfs. BENCH_BACKING=disk puts it under /tmp (ext4 here).
- Uncached: before every workload on every target, the FUSE target is unmounted and mounted
  afresh (so neither the kernel's dentry/attribute/page caches nor the client daemon's own caches,
  such as sshfs's directory cache, hold anything), then `sync; echo 3 > /proc/sys/vm/drop_caches`.
  For "local" only drop_caches applies; tmpfs keeps its dentries and pages by design, so the local
  column is a warm in-memory figure. Server processes (sshd/sftp-server, qtfs-server) stay up
  across remounts, as they would in use.
- Seq read: the file written by the seq write is read back after a fresh mount and drop_caches,
  so FUSE reads do not hit the client page cache; on the host the data is in tmpfs (memory).
  Seq write time includes fsync and close.
- stat uses stat(2) by path on every file (each a LOOKUP on a fresh FUSE mount); read4k is
  open + one 4 KiB read + close per file; create is open(O_CREAT|O_EXCL) + 4 KiB write + close in a
  new directory; unlink removes those files (on a fresh mount, so each unlink includes its lookup);
  readdir is opendir/readdir-to-end/closedir of the BENCH_FILES-entry directory, repeated.
- ps scan: for every numeric entry of /proc, read stat, status and cmdline to EOF (µs per process).
  cgroup scan: walk the cgroup tree (v1 hierarchies here) reading every regular file; write-only
  files fail to open and are counted (µs per file). Pseudo files report size 0, so passthrough_ll
  runs with `-o cache=never` (direct_io) and sshfs with `-o direct_io` for these two; qtfs with
  `-o proc` for /proc and its defaults for cgroup. Both scans read the host's live processes, so their byte counts vary slightly.
- passthrough_ll: libfuse's example, built from /usr/share/doc/libfuse3-dev/examples, default
  options (cache=auto, 1 s timeouts) for the data directory.
- qtfs: one qtfs-server exporting the data directory, /proc and the cgroup root, one qtfs-fuse
  mount per workload with default options (4 connections, 1 s timeouts for ordinary files,
  write-through with write-behind for writes of 64 KiB or more; no `writeback`).
- sshfs: through a throwaway sshd on 127.0.0.1 (temporary host and client keys, temporary config,
  stock /usr/lib/openssh/sftp-server), cipher aes128-gcm@openssh.com, no compression, otherwise
  sshfs defaults. The system's sshd configuration is not touched.
- Only loopback traffic. Everything is unmounted and killed at exit, also on failure.
- Recording: every run writes its report to `bench/results/` (not committed). Only a full run
  started as `scripts/bench.sh --record` replaces this file, docs/performance.md; it is
  committed on its own, naming the commit measured. Quick runs are never recorded.
EOF
    if [ -n "$KMOD_SECTION" ]; then printf '\n%s\n' "$KMOD_SECTION"; fi
} >"$DOC"
log "wrote $DOC"
if [ $RECORD = 1 ]; then cp "$DOC" "$RECORDED_DOC"; log "recorded this run in $RECORDED_DOC"; fi
