# Sourced by vm-init.sh (its helpers t, f, eq, within, pass, fail; $sum: big.bin's md5).
# Sealed frames (docs/protocol.md, "Sealed frames") through qtfs.ko:
#   qt_sport  a relay (mitm-relay.py on the host) to a server with the key qt_akey that
#             seals every connection (--crypt aead, the default with a key)
#   qt_nport  a relay to a server with the same key started with --crypt none
#   qt_suite  the suite the aead server picks for a client offering both (1 AES-256-GCM
#             when the host has AES instructions, else 2 ChaCha20-Poly1305)
#   qt_secret the content of the export's secret.txt: the host looks for it in each
#             relay's capture (absent through qt_sport, present through qt_nport)
# "QTFS-ARM-FLIP X" asks the host to arm a relay for the next READ answer (X a, c: flip a
# bit, r: replay an older frame, i: inject one from another connection, d: drop it, o: pass
# it on after the next frame, through the sealing relay; n: flip a bit through the
# plaintext one); the host then creates flip-X-armed in
# the export.
SO="server=10.0.2.2,port=$qt_sport,key_hex=$qt_akey"
NO="server=10.0.2.2,port=$qt_nport,key_hex=$qt_akey"
mkdir -p /mnt/s /mnt/n
nl_mount() { /bin/qtfs-nlctl status | grep "^mount $qt_export server 10.0.2.2:$1 "; }
nl_crypt() { nl_mount "$1" | sed -n 's/.* crypt \([0-9]*\)$/\1/p'; }
nl_reconnects() { nl_mount "$1" | sed -n 's/.* reconnects \([0-9]*\) .*/\1/p'; }
suite_name() { case $1 in 1) echo aes-256-gcm ;; 2) echo chacha20-poly1305 ;; *) echo none ;; esac; }
# logged NAME PATTERN [BEFORE]: dmesg has more lines matching PATTERN than BEFORE (default 0)
logged() { [ "$(dmesg | grep -c "$2")" -gt "${3:-0}" ] && pass "$1" || fail "$1" "no new dmesg line with '$2'"; }

# arm_flip X: the host arms a relay for X (it confirms in the export)
arm_flip() {
	echo "QTFS-ARM-FLIP $1"
	within 20 test -e "$Q/flip-$1-armed" || fail "flip_$1_armed" "the host did not arm relay $1"
}

# tampered X WHAT: the sealing relay tampers with the next READ answer to /mnt/s (X as in
# arm_flip): the frame does not open (logged with its counter), the connection closes, and
# the read completes with the right bytes after the reconnect, under the same suite
tampered() {
	opened="frame [0-9]* from server 10.0.2.2:$qt_sport does not open"
	l0=$(dmesg | grep -c "$opened")
	r0=$(nl_reconnects "$qt_sport")
	s0=$(nl_crypt "$qt_sport")
	arm_flip "$1"
	eq "crypt_${2}_read_right_$1" "$(md5sum /mnt/s/big.bin 2>&1 | cut -d' ' -f1-)" "$sum  /mnt/s/big.bin"
	logged "crypt_${2}_logged_$1" "$opened" "$l0"
	[ "$(nl_reconnects "$qt_sport")" -gt "${r0:-0}" ] && pass "crypt_${2}_reconnected_$1" ||
		fail "crypt_${2}_reconnected_$1" "$(nl_mount "$qt_sport")"
	eq "crypt_${2}_same_suite_$1" "$(nl_crypt "$qt_sport")" "$s0"
}

# busy_tampered X WHAT: tampered, with a second reader of big.bin meanwhile; a READ waits
# for its answer alone, so a dropped answer is noticed, and a held one passed, only when
# another frame comes
busy_tampered() {
	rm -f /tmp/busy-stop
	( while [ ! -e /tmp/busy-stop ]; do cat /mnt/s/big.bin >/dev/null; done ) &
	busy=$!
	tampered "$1" "$2"
	: >/tmp/busy-stop
	wait "$busy"
}

# sealed_mount X SUITE: mounts through the sealing relay; the suite shows in netlink and
# qtinfo; a file and a 3 MiB file read right; then a flipped bit (tampered X)
sealed_mount() {
	t "crypt_mount_$1" mount -t qtfs -o "$SO" "$qt_export" /mnt/s
	eq "crypt_suite_$1" "$(nl_crypt "$qt_sport")" "$2"
	case "$(qtinfo kmod status 2>&1)" in *"server 10.0.2.2:$qt_sport "*"crypt $(suite_name "$2")"*) pass "crypt_qtinfo_$1" ;;
	*) fail "crypt_qtinfo_$1" "$(qtinfo kmod status 2>&1 | grep "$qt_sport")" ;; esac
	eq "crypt_read_$1" "$(cat /mnt/s/secret.txt)" "$qt_secret"
	eq "crypt_big_$1" "$(md5sum /mnt/s/big.bin | cut -d' ' -f1)" "$sum"
	# 256 KiB WRITEs sealed in their (vmalloc'd) frames; an error answer is sealed too
	t "crypt_write_$1" cp /tmp/big "/mnt/s/sealed-$1.bin"
	eq "crypt_written_$1" "$(md5sum "/mnt/s/sealed-$1.bin" 2>/dev/null | cut -d' ' -f1)" "$sum"
	f "crypt_error_answer_$1" "No such file or directory" cat /mnt/s/absent
	tampered "$1" flip
}

# ---- refusals ----
f crypt_aead_needs_key "Invalid argument" mount -t qtfs -o "$OPTS,crypt=aead" "$qt_export" /mnt/x
f crypt_bad_mode "Invalid argument" mount -t qtfs -o "$SO,crypt=tls" "$qt_export" /mnt/x
f crypt_none_refused_by_sealing_server "Permission denied" mount -t qtfs -o "$SO,crypt=none" "$qt_export" /mnt/s
logged crypt_none_refused_logged "refuses plaintext frames (qtfs-server --crypt aead): mount without crypt=none"
f crypt_aead_refuses_plaintext_server "Permission denied" mount -t qtfs -o "$NO" "$qt_export" /mnt/n
logged crypt_plaintext_server_logged "does not seal frames"

# ---- both suites, each with a flipped bit; a replayed and an injected frame ----
sealed_mount a "$qt_suite"
tampered r replay	# the connection's previous READ answer again
tampered i inject	# one recorded from the connection before the reconnect
busy_tampered d drop	# not passed on
busy_tampered o reorder	# passed on after the next one
t crypt_umount_a umount /mnt/s
echo N > /sys/module/qtfs/parameters/offer_aes	# offer ChaCha20-Poly1305 only
sealed_mount c 2
t crypt_umount_c umount /mnt/s
echo Y > /sys/module/qtfs/parameters/offer_aes

# ---- crypt=none on both ends: plaintext, shown, warned; a flipped bit goes unnoticed ----
t crypt_none_mount mount -t qtfs -o "$NO,crypt=none" "$qt_export" /mnt/n
logged crypt_none_warned "with crypt=none: frames to 10.0.2.2:$qt_nport travel in plaintext"
grep -q ' /mnt/n qtfs .*,crypt=none' /proc/mounts && pass crypt_none_shown || fail crypt_none_shown "$(grep ' /mnt/n ' /proc/mounts)"
eq crypt_none_suite "$(nl_crypt "$qt_nport")" 0
eq crypt_none_read "$(cat /mnt/n/secret.txt)" "$qt_secret"
arm_flip n
# what sealing prevents: the altered byte reaches the reader
got=$(md5sum /mnt/n/big.bin | cut -d' ' -f1)
[ "$got" != "$sum" ] && pass crypt_none_flip_reaches_reader || fail crypt_none_flip_reaches_reader "md5 unchanged: the relay flipped nothing"
t crypt_none_umount umount /mnt/n
