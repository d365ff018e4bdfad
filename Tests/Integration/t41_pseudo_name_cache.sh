#!/usr/bin/env bash
# Pseudo file systems through the offload guide's mounts (the host's / whole, /proc with
# -o proc): their names are kept by the kernel, nothing else is (docs/client.md, "Pseudo file
# systems: what is cached"). Checked with real tools and host changes made right before:
#   - names kept: repeated stats of a deep /sys path send no LOOKUP, also after the 1 s
#     default entry timeout; in proc mode the kernel asks for a pid at the root every time
#     (it is the asker's own link for one process) and qtfs-fuse answers, the names below
#     it are kept;
#   - no absence kept: a process or cgroup looked up before it existed is there at once;
#   - a vanished one: ENOENT at stat, cat and ls right after, though its name is kept;
#   - fresh content, attributes and listings: a cgroup value or link count changed on the
#     host, and the pids and cgroups listed, are as the host has them now;
#   - cat costs one request: the fstat after an open is answered with what the open found.
# The `long` mount asks for 60 s of every cache: pseudo files must ignore that, and its
# long entry timeout makes "the name was kept" certain on a slow machine.
source "$(dirname "$0")/lib.sh"
export QTFS_CONTROL_DIR=$WORK/ctl      # private: other qtfs processes on this machine stay out
CG=/sys/fs/cgroup/cpu/qtfs-t41-$$
NEW=""
finish() {
    [ -z "$NEW" ] || kill "$NEW" 2>/dev/null || true
    rmdir "$CG/sub" "$CG" 2>/dev/null || true
    cleanup
}
trap finish EXIT
[ -d /sys/fs/cgroup/cpu ] && [ "$(stat -f -c %T /sys/fs/cgroup/cpu)" = cgroupfs ] ||
    fail "needs the cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu (found: $(stat -f -c %T /sys/fs/cgroup/cpu 2>&1))"

start_server /
mount_qtfs / "$WORK/root"                                                  # the guide's / mount
mount_qtfs / "$WORK/long" "entry_timeout=60,attr_timeout=60,negative_timeout=60"
mount_qtfs /proc "$WORK/proc" "proc,local_proc=/proc"                      # the guide's /proc
R=$WORK/root L=$WORK/long P=$WORK/proc
ROOTS=("$R" "$L")                      # the host's / whole: /proc and /sys below
PROCS=("$R/proc" "$L/proc" "$P")       # the host's /proc, three ways

# lookups MOUNTPOINT|server: LOOKUPs the kernel has sent this mount so far (or the server
# has answered).
lookups() { op_count "$1" lookup; }
# stats N PATH: N stat(2) calls of PATH from one process.
stats() { python3 -c 'import os, sys; [os.stat(sys.argv[2]) for _ in range(int(sys.argv[1]))]' "$@"; }
# enoent COMMAND...: the command fails, and its error is ENOENT.
enoent() {
    local out
    if out=$("$@" 2>&1); then fail "$*: succeeded on a vanished name: $out"; fi
    grep -q "No such file or directory" <<<"$out" || fail "$*: not ENOENT: $out"
}
listed() { ls "$1" | has -x "$2"; }

log "names are kept: deep stats through / send no LOOKUP once the path is known"
DEEP=sys/fs/cgroup/cpu/cpu.shares
for m in "$R" "$L"; do
    stats 1 "$m/$DEEP"
    before=$(lookups "$m"); stats 200 "$m/$DEEP"; n=$(( $(lookups "$m") - before ))
    # Without the names kept: 4 LOOKUPs per stat (sys, fs, cpu, cpu.shares; cgroup is a tmpfs), 800.
    [ "$n" -lt 20 ] || fail "200 stats of $m/$DEEP sent $n LOOKUPs: the pseudo path's names are not kept"
done
log "pseudo names outlive the default 1 s entry timeout (a scan repeated after a pause)"
sleep 1.2
before=$(lookups "$R"); stats 20 "$R/$DEEP"; n=$(( $(lookups "$R") - before ))
# One: sys/fs/cgroup is a tmpfs, an ordinary directory kept for entry_timeout.
[ "$n" -le 1 ] || fail "20 stats of $R/$DEEP 1.2 s later sent $n LOOKUPs: pseudo names expired with entry_timeout"
log "cat of a pseudo file costs the host one request: its fstat is answered with the open's attributes"
before_open=$(op_count server openRead) before_attr=$(op_count server getattr)
for _ in $(seq 50); do cat "$R/$DEEP" >/dev/null; done
opens=$(( $(op_count server openRead) - before_open )) getattrs=$(( $(op_count server getattr) - before_attr ))
[ "$opens" = 50 ] || fail "50 cats of $R/$DEEP made $opens OPEN_READs"
# cat fstat()s what it opened; asked of the host, that is one GETATTR per cat (50). A few
# may still go when the fstat comes more than 1 ms after the open (a busy machine).
[ "$getattrs" -lt 25 ] || fail "50 cats of $R/$DEEP sent the host $getattrs GETATTRs: the open's attributes were not used"
log "proc mode: a pid at the root is asked every time (the client answers), the names below it are kept"
stats 1 "$P/$SERVER_PID/status"
before=$(lookups "$P") before_host=$(lookups server)
stats 100 "$P/$SERVER_PID/status"
n=$(( $(lookups "$P") - before )) host=$(( $(lookups server) - before_host ))
[ "$n" -ge 100 ] || fail "100 stats of $P/$SERVER_PID/status sent only $n LOOKUPs: the pid name at the root was kept"
[ "$n" -lt 125 ] || fail "100 stats of $P/$SERVER_PID/status sent $n LOOKUPs: the names below the pid are not kept"
[ "$host" -lt 25 ] || fail "100 stats of $P/$SERVER_PID/status sent the host $host LOOKUPs: the client did not keep the pid name"
log "proc mode: a process's stat, status and cmdline are looked up in one round trip, for the same user only"
# ahead: kernel LOOKUPs qtfs-fuse answered with lookups it sent ahead (qtinfo --status).
ahead() {
    "$BIN/qtinfo" --status --json -C "$P" | python3 -c '
import json, sys
print(json.load(sys.stdin)["components"][0]["status"].get("lookupsAhead") or 0)'
}
SLEEPERS=()
for _ in 1 2 3 4 5; do sleep 60 & SLEEPERS+=("$!"); done
before=$(ahead)
for pid in "${SLEEPERS[@]}"; do   # what ps reads of each process, in its order
    cut -d' ' -f1 "$P/$pid/stat" | grep -qx "$pid" || fail "$P/$pid/stat does not start with its pid"
    grep -q "^Pid:[[:space:]]*$pid\$" "$P/$pid/status" || fail "$P/$pid/status is not that process's"
    tr '\0' ' ' <"$P/$pid/cmdline" | grep -q "^sleep 60" || fail "$P/$pid/cmdline: $(tr '\0' ' ' <"$P/$pid/cmdline")"
done
n=$(( $(ahead) - before ))
[ "$n" -ge 5 ] || fail "ps-like reads of 5 new processes: $n LOOKUPs answered ahead, want at least one per process"
# Kept for root: another user's lookup of a name root's lookup brought along asks the host.
pid=${SLEEPERS[0]}
kill "${SLEEPERS[@]:1}"
sleep 60 & other=$!
SLEEPERS=("$pid" "$other")
stat "$P/$other/stat" >/dev/null
before=$(ahead)
chmod 755 "$WORK"
setpriv --reuid=65534 --regid=65534 --clear-groups stat "$P/$other/status" >/dev/null ||
    fail "nobody cannot stat $P/$other/status"
[ "$(ahead)" = "$before" ] || fail "nobody's LOOKUP was answered with one root's lookup sent ahead"
kill "${SLEEPERS[@]}"; wait "${SLEEPERS[@]}" 2>/dev/null || true

log "a pseudo file's close reaches the host with the next request, or alone soon after"
fds() { ls "/proc/$SERVER_PID/fd" | wc -l; }
base=$(fds)
for _ in $(seq 20); do cat "$P/$SERVER_PID/status" >/dev/null; done
# The last RELEASE has no request to ride with: the flusher sends it (HeldFrames.delay).
wait_for eval '[ "$(fds)" -le "$base" ]' || fail "the server still holds $(( $(fds) - base )) more fds after 20 cats"

log "proc mode: a pid name another process looked up is still the asker's own link for that pid"
mkfifo "$WORK/go"
# exec: readlink runs as the process whose pid it reads.
bash -c 'read -r _ <"$1"; exec readlink "$2/$$"' _ "$WORK/go" "$P" >"$WORK/own" & helper=$!
[ -d "$P/$helper" ] || fail "pid $helper looked up by another process is not the host's directory"
echo go >"$WORK/go"; wait "$helper" || fail "readlink $P/$helper as pid $helper failed: the name was kept from another process's lookup"
[ "$(cat "$WORK/own")" = "/proc/$helper" ] || fail "own pid link: $(cat "$WORK/own")"

log "a process started after its name was looked up is there at once"
# start_at_looked_up_pid: picks a free pid, checks that every mount finds it absent (and
# does not list it), then starts `sleep` with exactly that pid (ns_last_pid). Sets NEW.
start_at_looked_up_pid() {
    local want d try max
    max=$(cat /proc/sys/kernel/pid_max)
    for try in $(seq 30); do
        want=$(( 300 + RANDOM % (max - 400) ))
        [ -e "/proc/$want" ] && continue
        for d in "${PROCS[@]}"; do
            stat "$d/$want" >/dev/null 2>&1 && fail "$d/$want exists before its process"
            listed "$d" "$want" && fail "$d lists $want before its process"
        done
        echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
        sleep 60 & NEW=$!
        [ "$NEW" = "$want" ] && return 0
        kill "$NEW"; wait "$NEW" 2>/dev/null || true   # another process took the pid first
    done
    fail "could not start a process with a chosen pid in 30 tries (ns_last_pid)"
}
start_at_looked_up_pid
for d in "${PROCS[@]}"; do
    stat "$d/$NEW" >/dev/null || fail "stat $d/$NEW: a new process is not visible (absence kept?)"
    listed "$d" "$NEW" || fail "ls $d does not list the new pid $NEW (listing kept?)"
    ls "$d/$NEW" | has -x status || fail "ls $d/$NEW"
done
# The child is a copy of this shell until it has exec'd sleep: wait for that locally first.
for _ in $(seq 100); do grep -q '^sleep$' "/proc/$NEW/comm" && break; sleep 0.02; done
for d in "${PROCS[@]}"; do
    [ "$(cat "$d/$NEW/comm")" = sleep ] || fail "cat $d/$NEW/comm: $(cat "$d/$NEW/comm")"
    grep -q '^State:.*S (sleeping)' "$d/$NEW/status" || fail "$d/$NEW/status"
done

log "a killed process gives ENOENT right after, through names the kernel keeps"
for d in "${PROCS[@]}"; do stat "$d/$NEW" "$d/$NEW/status" >/dev/null; done
before=$(lookups "$L")
kill "$NEW"; wait "$NEW" 2>/dev/null || true
for d in "${PROCS[@]}"; do
    enoent stat "$d/$NEW"
    enoent stat "$d/$NEW/status"
    enoent cat "$d/$NEW/status"
    enoent ls "$d/$NEW"
    ! listed "$d" "$NEW" || fail "ls $d still lists the dead pid $NEW"
done
NEW=""
# The long mount answered those from kept names (no LOOKUP of the pid or of status):
# the ENOENT came from the host at GETATTR, OPEN and OPENDIR.
[ "$(lookups "$L")" = "$before" ] || fail "the long mount looked the dead pid's names up again: the test did not use kept names"

log "a cgroup made on the host is there at once, with fresh values, and gone at once"
for m in "${ROOTS[@]}"; do
    enoent stat "$m$CG"
    ! listed "$m${CG%/*}" "${CG##*/}" || fail "$m${CG%/*} lists ${CG##*/} before it exists"
done
mkdir "$CG"
for m in "${ROOTS[@]}"; do
    stat "$m$CG" >/dev/null || fail "stat $m$CG: a new cgroup is not visible (absence kept?)"
    listed "$m${CG%/*}" "${CG##*/}" || fail "ls $m${CG%/*} does not list the new cgroup (listing kept?)"
    [ "$(cat "$m$CG/cpu.shares")" = "$(cat "$CG/cpu.shares")" ] || fail "$m$CG/cpu.shares"
done
for v in 512 2048; do
    echo "$v" >"$CG/cpu.shares"
    for m in "${ROOTS[@]}"; do
        [ "$(cat "$m$CG/cpu.shares")" = "$v" ] || fail "$m$CG/cpu.shares: $(cat "$m$CG/cpu.shares") after the host wrote $v (content kept?)"
    done
done
links=$(stat -c %h "$CG")
for m in "${ROOTS[@]}"; do [ "$(stat -c %h "$m$CG")" = "$links" ] || fail "link count of $m$CG"; done
mkdir "$CG/sub"
# fstat of an open directory: answered with what its OPENDIR found on the host just now
fstat_links() { python3 -c 'import os, sys; print(os.fstat(os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)).st_nlink)' "$1"; }
for m in "${ROOTS[@]}"; do
    [ "$(stat -c %h "$m$CG")" = $((links + 1)) ] || fail "stat $m$CG: link count $(stat -c %h "$m$CG") after a host mkdir, host has $((links + 1)) (attributes kept?)"
    [ "$(fstat_links "$m$CG")" = $((links + 1)) ] || fail "fstat of $m$CG opened: link count $(fstat_links "$m$CG") after a host mkdir, host has $((links + 1))"
done
rmdir "$CG/sub" "$CG"
for m in "${ROOTS[@]}"; do
    enoent stat "$m$CG"
    enoent cat "$m$CG/cpu.shares"
    enoent ls "$m$CG"
    ! listed "$m${CG%/*}" "${CG##*/}" || fail "ls $m${CG%/*} still lists the removed cgroup"
done
log "the same name made again through a mount that kept it is the new cgroup"
# The kernel looks a name up again before it creates it, kept or not: no EEXIST.
mkdir "$L$CG" || fail "mkdir $L$CG after the host removed it"
[ -d "$CG" ] || fail "mkdir $L$CG did not make the host's cgroup"
for m in "${ROOTS[@]}"; do
    [ "$(cat "$m$CG/cpu.shares")" = "$(cat "$CG/cpu.shares")" ] || fail "$m$CG/cpu.shares of the new cgroup: $(cat "$m$CG/cpu.shares")"
done
rmdir "$CG"
server_alive
log "ok"
