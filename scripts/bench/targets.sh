# Sourced by scripts/bench.sh: the targets (columns), their servers and how each mounts a
# host path. A target is an id in ALL_TARGETS with a column label in TARGET_LABEL and a
# function mount_<id, '-' as '_'> SRC MNT PSEUDO LOG that starts its FUSE daemon in the
# background (the caller takes $! and waits for the mount). PSEUDO is 1 for /proc, /sys and
# the cgroup root. A target that cannot run in this run gets its reason in TARGET_NA; its
# cells read n/a. Needs from bench.sh: W, ROOT, PLL, CGROUP_ROOT, the *_PORT variables,
# log, fail_note, wait_port, PIDS.

ALL_TARGETS="local passthrough_ll pll-strict qtfs qtfs-strict qtfs-none qtfs-uring sshfs sshfs-direct"
declare -A TARGET_LABEL=(
    [local]="local" [passthrough_ll]="passthrough_ll" [pll-strict]="pll strict"
    [qtfs]="qtfs" [qtfs-strict]="qtfs strict" [qtfs-none]="qtfs crypt=none" [qtfs-uring]="qtfs io_uring"
    [sshfs]="sshfs" [sshfs-direct]="sshfs direct"
)
declare -A TARGET_NA=()       # id -> why it is not measured in this run
declare -A TARGET_SERVER=()   # id -> pid of the server process (its children count too)
CIPHER=aes128-gcm@openssh.com
QTFS_STRICT_OPTS="entry_timeout=0,attr_timeout=0,negative_timeout=0,noprefetch"

has_target() { [[ " $TARGETS " == *" $1 "* ]]; }
has_any_target() { local t; for t in "$@"; do has_target "$t" && return 0; done; return 1; }
# mark_na REASON ID...: these targets are not measured in this run, for REASON.
mark_na() { local why=$1 t; shift; for t in "$@"; do has_target "$t" && TARGET_NA[$t]=$why; done; return 0; }

# ---- servers --------------------------------------------------------------------------------
start_sshd() {
    throwaway_sshd_config "$W/ssh" "$SSH_PORT" "Ciphers $CIPHER" "Subsystem sftp /usr/lib/openssh/sftp-server"
    /usr/sbin/sshd -f "$W/ssh/sshd_config" -D -e 2>"$W/log/sshd.log" &
    PIDS+=($!); TARGET_SERVER[sshfs]=$!
    wait_port "$SSH_PORT" $! || { fail_note "sshd did not start: $(tail -3 "$W/log/sshd.log")"; mark_na "n/a (sshd did not start)" sshfs; }
}

# sftp-server on plain TCP for sshfs -o directport (no ssh, no cipher).
start_sftp_tcp() {
    python3 "$ROOT/scripts/bench/sftp-tcp.py" "$SFTP_PORT" >"$W/log/sftp-tcp.log" 2>&1 &
    PIDS+=($!); TARGET_SERVER[sshfs-direct]=$!
    wait_port "$SFTP_PORT" $! || {
        fail_note "sftp-server on TCP did not listen: $(tail -3 "$W/log/sftp-tcp.log" | tr '\n' ' ')"
        mark_na "n/a (sftp-tcp.py did not start)" sshfs-direct
    }
}

# start_qtfs_server PORT NAME [extra server args]: a qtfs-server exporting / (the guide's
# mounts and the data directory are all beneath it), its pid in STARTED; fails if it does
# not listen.
start_qtfs_server() {
    local port=$1 name=$2; shift 2
    "$QTFS_BIN/qtfs-server" --listen 127.0.0.1 --port "$port" --key "$W/qtfs.key" --export / "$@" \
        >"$W/log/$name.log" 2>&1 &
    STARTED=$!; PIDS+=($!)
    wait_port "$port" $! && return 0
    fail_note "$name did not listen: $(tail -5 "$W/log/$name.log" | tr '\n' ' ')"
    return 1
}

start_qtfs_servers() {
    [ -n "$QTFS_BIN" ] || { mark_na "n/a (no qtfs binaries)" qtfs qtfs-strict qtfs-none qtfs-uring; return 0; }
    "$QTFS_BIN/qtfs-server" --generate-key "$W/qtfs.key" >/dev/null
    if has_any_target qtfs qtfs-strict qtfs-uring; then
        start_qtfs_server "$QTFS_PORT" qtfs-server || mark_na "n/a (qtfs-server did not start)" qtfs qtfs-strict qtfs-uring
        TARGET_SERVER[qtfs]=$STARTED; TARGET_SERVER[qtfs-strict]=$STARTED; TARGET_SERVER[qtfs-uring]=$STARTED
    fi
    [ -w "$URING_PARAM" ] || mark_na "n/a (the kernel has no FUSE over io_uring: $URING_PARAM)" qtfs-uring
    has_target qtfs-none || return 0
    # crypt=none arrives with sealed frames (docs/protocol.md); older servers lack the option.
    if ! "$QTFS_BIN/qtfs-server" --help 2>&1 | grep -q -- '--crypt'; then
        mark_na "n/a (no crypt option)" qtfs-none; return 0
    fi
    start_qtfs_server "$QTFS_NONE_PORT" qtfs-server-none --crypt none ||
        mark_na "n/a (qtfs-server --crypt none did not start)" qtfs-none
    TARGET_SERVER[qtfs-none]=$STARTED
}

start_servers() {
    has_target sshfs && start_sshd
    has_target sshfs-direct && start_sftp_tcp
    start_qtfs_servers
}

# ---- mounts: mount_<target> SRC MNT PSEUDO LOG ----------------------------------------------
# Pseudo files report size 0 (proc, cgroup): passthrough_ll and sshfs read them only with
# direct I/O, so those mounts get it by default too; qtfs-fuse does this by itself.
mount_passthrough_ll() {
    local o=""; [ "$3" = 1 ] && o=",cache=never"
    "$PLL" -f -o "source=$1$o" "$2" >>"$4" 2>&1 &
}
mount_pll_strict() { "$PLL" -f -o "source=$1,timeout=0,cache=never" "$2" >>"$4" 2>&1 & }

# qtfs_fuse PORT EXTRA_OPTS SRC MNT PSEUDO LOG
qtfs_fuse() {
    local o="server=127.0.0.1:$1,key=$W/qtfs.key$2"
    [ "$3" = /proc ] && o+=",proc"
    "$QTFS_BIN/qtfs-fuse" -f -o "$o" "$3" "$4" >>"$6" 2>&1 &
}
mount_qtfs() { qtfs_fuse "$QTFS_PORT" "" "$@"; }
mount_qtfs_strict() { qtfs_fuse "$QTFS_PORT" ",$QTFS_STRICT_OPTS" "$@"; }
mount_qtfs_none() { qtfs_fuse "$QTFS_NONE_PORT" ",crypt=none" "$@"; }

# FUSE over io_uring: enable_uring on for this mount (scripts/uring-param.sh), put back
# by after_mount once the ring is registered, and by bench.sh's cleanup in any case.
mount_qtfs_uring() { uring_param_on; qtfs_fuse "$QTFS_PORT" ",uring" "$@"; }

# after_mount TARGET MNT: what a target needs once its mount is up; false fails the mount.
after_mount() {
    [ "$1" = qtfs-uring ] || return 0
    local ring=0
    uring_registered "$QTFS_BIN/qtinfo" "$2" && ring=1
    uring_param_restore
    [ $ring = 1 ] || fail_note "qtfs io_uring: the mount of $2 fell back to /dev/fuse (no ring registered)"
    [ $ring = 1 ]
}

sshfs_pseudo_opts() { [ "$1" = 1 ] && echo ",direct_io"; return 0; }
mount_sshfs() {
    sshfs -f -o "IdentityFile=$W/ssh/client,Port=$SSH_PORT,Ciphers=$CIPHER,Compression=no" \
        -o "StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes,LogLevel=ERROR$(sshfs_pseudo_opts "$3")" \
        "root@127.0.0.1:$1" "$2" >>"$4" 2>&1 &
}
mount_sshfs_direct() {
    sshfs -f -o "directport=$SFTP_PORT$(sshfs_pseudo_opts "$3")" "127.0.0.1:$1" "$2" >>"$4" 2>&1 &
}
