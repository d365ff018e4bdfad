#!/bin/bash
# scripts/bench-rexec.sh [--record]: remote exec beside its peers, over loopback.
#   start-to-exit of /bin/true: local fork+exec, qtfs-rexec, ssh over a reused connection
#   (ControlMaster, the peer a user would pick), N runs each (BENCH_REXEC_RUNS, 200);
#   stdout throughput: 2 GiB of zeros through local `dd | cat`, qtfs-rexec and ssh.
# Prints a Markdown section; --record also puts it in docs/performance.md ("## Remote exec").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${QTFS_BIN:-$ROOT/.build/release}
RUNS=${BENCH_REXEC_RUNS:-200}
MB=${BENCH_REXEC_MB:-2048}
SSH_PORT=${BENCH_SSH_PORT:-2223}
PORT=${BENCH_QTFS_PORT:-7851}
log() { printf '[bench-rexec] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "must run as root (sshd)"; exit 1; }
"$ROOT/scripts/deps.sh" >&2

W=$(mktemp -d /tmp/qtfs-bench-rexec.XXXXXX)
PIDS=()
finish() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap finish EXIT
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

gcc -O2 -o "$W/spawn-time" "$ROOT/bench/spawn-time.c"

log "qtfs-server with remote exec on 127.0.0.1:$PORT"
"$BIN/qtfs-server" --generate-key "$W/qtfs.key" >/dev/null
printf '/usr/bin/true\n/bin/dd\n' >"$W/whitelist"
"$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --key "$W/qtfs.key" --export "$W" \
    --rexec-whitelist "$W/whitelist" --log-level warning 2>"$W/server.log" &
PIDS+=($!)
wait_port "$PORT" || { log "qtfs-server did not start: $(cat "$W/server.log")"; exit 1; }
REXEC=("$BIN/qtfs-rexec" -s "127.0.0.1:$PORT" -k "$W/qtfs.key")

log "a throwaway sshd on 127.0.0.1:$SSH_PORT and a master connection"
source "$ROOT/scripts/throwaway-sshd.sh"
throwaway_sshd_config "$W/ssh" "$SSH_PORT"
/usr/sbin/sshd -f "$W/ssh/sshd_config" -D -e 2>"$W/sshd.log" &
PIDS+=($!)
wait_port "$SSH_PORT" || { log "sshd did not start: $(cat "$W/sshd.log")"; exit 1; }
SSH=(ssh -p "$SSH_PORT" -i "$W/ssh/client" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
     -o LogLevel=ERROR -o ControlMaster=auto -o ControlPath="$W/ssh/master" -o ControlPersist=300 root@127.0.0.1)
"${SSH[@]}" true

latency() { "$W/spawn-time" "$RUNS" "$@"; }
log "start-to-exit of /bin/true, $RUNS runs each"
local_lat=$(latency /usr/bin/true)
rexec_lat=$(latency "${REXEC[@]}" /usr/bin/true)
ssh_lat=$(latency "$(command -v ssh)" "${SSH[@]:1}" /usr/bin/true)
# The client's own start-up (it prints its usage and exits: no connection).
start_lat=$(latency "$BIN/qtfs-rexec" --help 2>/dev/null | tail -1)

# mbps COMMAND...: MB/s of MB MiB of zeros arriving on the command's stdout.
mbps() {
    local start end
    start=$(date +%s.%N)
    "$@" | cat >/dev/null
    end=$(date +%s.%N)
    awk -v mb="$MB" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", mb * 1.048576 / (e - s) }'
}
DD=(/bin/dd if=/dev/zero bs=1M count="$MB" status=none)
log "stdout throughput, $MB MiB"
local_bw=$(mbps "${DD[@]}")
rexec_bw=$(mbps "${REXEC[@]}" "${DD[@]}")
ssh_bw=$(mbps "${SSH[@]}" "${DD[*]}")

SECTION=$(cat <<MD
## Remote exec

Command: \`scripts/bench-rexec.sh${1:+ $1}\` at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?"), $(date -u +%Y-%m-%d), over loopback on this machine
($(nproc) CPUs). Start-to-exit of \`/usr/bin/true\` ($RUNS runs, one after another, timed by
bench/spawn-time.c around posix_spawn + waitpid), and MB/s of $MB MiB of zeros from
\`dd\` through stdout into \`cat >/dev/null\`. ssh reuses one master connection
(ControlMaster), so it pays no TCP or key exchange per run; qtfs-rexec opens and
authenticates (HMAC challenge-response) a new TCP connection every run. The ssh cipher is
OpenSSH's default. Both clients' own start-up counts; the qtfs-rexec start-up row is
\`qtfs-rexec --help\` alone (a static executable: no dynamic loading).

| peer | p50 µs | p90 µs | max µs | stdout MB/s |
|---|---|---|---|---|
| local fork+exec | $(echo $local_lat | awk '{print $1" | "$2" | "$3}') | $local_bw |
| qtfs-rexec | $(echo $rexec_lat | awk '{print $1" | "$2" | "$3}') | $rexec_bw |
| qtfs-rexec start-up only | $(echo $start_lat | awk '{print $1" | "$2" | "$3}') | – |
| ssh (ControlMaster) | $(echo $ssh_lat | awk '{print $1" | "$2" | "$3}') | $ssh_bw |
MD
)
echo "$SECTION"
if [ "${1:-}" = --record ]; then
    doc=$ROOT/docs/performance.md
    echo "$SECTION" | python3 "$ROOT/scripts/record-section.py" "$doc"
    log "recorded in $doc"
fi
