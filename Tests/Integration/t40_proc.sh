#!/usr/bin/env bash
# The host's /proc through qtfs: size-0 pseudo files read whole, directory listings
# complete, magic links read as their targets.
source "$(dirname "$0")/lib.sh"
start_server /
mount_qtfs /proc "$WORK/proc"
P=$WORK/proc
[ "$(stat -c %s "$P/1/status")" = 0 ] || fail "proc files should report size 0"
grep -q "^Name:" "$P/1/status" || fail "/proc/1/status read empty through qtfs"
[ "$(wc -c < "$P/cpuinfo")" -gt 100 ] || fail "/proc/cpuinfo short"
[ "$(head -1 "$P/1/mountinfo" | wc -w)" -gt 5 ] || fail "/proc/1/mountinfo"
[ "$(readlink "$P/$SERVER_PID/exe")" = "$(readlink /proc/$SERVER_PID/exe)" ] || fail "exe magic link"
# Every pid that exists before and after the listing must be in it.
before=$(ls /proc | grep -E '^[0-9]+$' | sort)
listed=$(ls "$P" | grep -E '^[0-9]+$' | sort)
after=$(ls /proc | grep -E '^[0-9]+$' | sort)
missing=$(comm -12 <(echo "$before") <(echo "$after") | comm -23 - <(echo "$listed"))
[ -z "$missing" ] || fail "pids missing from the qtfs listing: $missing"
# Fresh content on every read (no cache): the uptime moves between two reads.
a=$(cat "$P/uptime"); sleep 0.2; b=$(cat "$P/uptime")
[ "$a" != "$b" ] || fail "reads of /proc/uptime are cached ($a)"
# A process that ends is gone at once, not served from a cache.
sleep 30 & victim=$!
# The child is a copy of this shell until it has exec'd sleep: wait for that locally first.
for _ in $(seq 100); do grep -q '^sleep$' "/proc/$victim/comm" && break; sleep 0.02; done
grep -q "^Name:.*sleep" "$P/$victim/status" || fail "new process not visible"
kill $victim; wait $victim 2>/dev/null || true
[ ! -e "$P/$victim/status" ] || fail "a vanished pid is still visible"
server_alive
