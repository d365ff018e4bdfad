#!/usr/bin/env bash
# The server's systemd unit (packaging/qtfs-server.service, docs/server.md "The systemd
# unit") is one systemd accepts: systemd-analyze verify with the built binary as
# ExecStart and the project's man pages as its Documentation, without a warning. And it
# keeps the shims that remote exec starts alive across a restart of the server
# (KillMode=process; read from the file: systemd does not run on this machine).
source "$(dirname "$0")/lib.sh"
UNIT=$WORK/qtfs-server.service
sed "s|@BINDIR@|$BIN|" "$REPO/packaging/qtfs-server.service" >"$UNIT"
out=$(MANPATH=$REPO/man systemd-analyze verify "$UNIT" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
kill_mode=$(awk -F= '/^KillMode=/ {print $2}' "$UNIT")
[ "$kill_mode" = process ] || fail "KillMode is '$kill_mode': a server restart would kill the shims it started"
log "PASS"
