#!/bin/bash
# Proves qtfs.ko in a real kernel: builds the module and an initramfs, boots
# Debian's 6.1 kernel under qemu (TCG, no KVM), mounts a directory exported
# by qtfs-server on this host (reached from the guest as 10.0.2.2), runs the
# checks of vm-init.sh, restarts the server once to test reconnection, and
# checks from the host side what the guest wrote.
# Env: QTFS_SERVER (server binary), QTFS_AUTH_SERVER (server for the authentication
#      checks, default QTFS_SERVER; it must have --key), QTFS_BIN (directory of qtfs-fuse and qtinfo,
#      default: the server's), VM_TIMEOUT (seconds, default 600),
#      KVER (guest kernel version, default: newest installed *-amd64),
#      KEEP=1 keeps the work directory, VM_BENCH=1 adds the kmod-vs-FUSE benchmark
#      (VM_BENCH_FILES files, default 500; VM_BENCH_ROUNDS rounds, default 3).
# Exit: 0 all checks passed, 1 a check failed, the guest did not finish, or a
# prerequisite (server, kernel, packages) is missing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
KMOD=$(dirname "$HERE")
ROOT=$(dirname "$KMOD")
VM_TIMEOUT=${VM_TIMEOUT:-600}
T0=$(date +%s)
log() { echo "run-vm-test: $*" >&2; }
die() { log "$*"; exit 1; }

# ---- dependencies (CI machines start fresh): the project's one package list ----
"$ROOT/scripts/deps.sh" || die "scripts/deps.sh failed: the packages above are needed (run as root, Swift on PATH)"

# The guest kernel must be one we have headers for.
KVER=${KVER:-$(ls /lib/modules | grep -- '-amd64$' | sort -V | while read -r v; do
	[ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/build" ] && echo "$v"; done | tail -1)}
[ -n "$KVER" ] || die "no kernel with both /boot/vmlinuz-*-amd64 and headers"
VMLINUZ=/boot/vmlinuz-$KVER
[ -r "$VMLINUZ" ] || die "cannot read $VMLINUZ"

# ---- server ----
SERVER=${QTFS_SERVER:-}
if [ -z "$SERVER" ]; then
	for c in "$ROOT/.build/release/qtfs-server" "$ROOT/.build/debug/qtfs-server"; do
		[ -x "$c" ] && SERVER=$c && break
	done
fi
[ -n "$SERVER" ] && [ -x "$SERVER" ] || die "no qtfs-server (set QTFS_SERVER)"
timeout 10 "$SERVER" --help 2>&1 | grep -q -- '--export' || die "$SERVER does not look like qtfs-server (no --export in --help)"
QTFS_BIN=${QTFS_BIN:-$(dirname "$SERVER")}

WORK=$(mktemp -d /tmp/qtfs-vmtest.XXXXXX)
SERVER_PID=
QEMU_PID=
cleanup() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	[ -n "${HOSTILE_PID:-}" ] && kill "$HOSTILE_PID" 2>/dev/null
	[ -n "${AUTH_PID:-}" ] && kill "$AUTH_PID" 2>/dev/null
	[ -n "${RUN_PID:-}" ] && kill "$RUN_PID" 2>/dev/null
	[ -n "${ECHO_PID:-}" ] && kill "$ECHO_PID" 2>/dev/null
	[ -n "${SCM_PID:-}" ] && kill "$SCM_PID" 2>/dev/null
	[ -n "${RTT_PID:-}" ] && kill "$RTT_PID" 2>/dev/null
	for p in "${NONE_PID:-}" "${RELAYS_PID:-}" "${RELAYN_PID:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	# host mounts the guest made through qtfs-run
	[ -n "${RUNEXP:-}" ] && for m in $(grep -oE " $RUNEXP/[^ ]*" /proc/self/mountinfo | sort -r); do umount -l "$m"; done
	wait 2>/dev/null
	[ -n "${CG_DIR:-}" ] && rmdir "$CG_DIR/$CG_NAME" 2>/dev/null
	[ "${KEEP:-0}" = 1 ] && log "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- build ----
log "checking the C codec against Tests/Vectors"
gcc -Wall -Wextra -Werror -O2 -I"$ROOT/include" -o "$WORK/wire_vectors" "$HERE/wire_vectors.c" "$HERE/seal_vectors.c" \
	"$KMOD/qtfs_wire.c" "$KMOD/qtfs_wire_put.c" "$KMOD/qtfs_wire_get.c" -lcrypto || die "wire_vectors build failed"
NVEC=$(ls "$ROOT/Tests/Vectors" | grep -c '\.vec$')
[ "$NVEC" -gt 0 ] || die "no vectors in $ROOT/Tests/Vectors"
(set -o pipefail; "$WORK/wire_vectors" "$ROOT/Tests/Vectors" | tee "$WORK/codec.log" | tail -n 3) ||
	die "codec vectors failed"
# A run that checked nothing is a failure too: every vector file, some checks, none failed.
grep -qx "$NVEC vector files checked" "$WORK/codec.log" && grep -Eq '^[1-9][0-9]* passed, 0 failed$' "$WORK/codec.log" ||
	die "codec vectors: want $NVEC vector files checked and 'N passed, 0 failed' with N > 0"
log "building qtfs.ko for $KVER"
make -s -C "$KMOD" module KDIR="/lib/modules/$KVER/build" >"$WORK/build.log" 2>&1 ||
	{ cat "$WORK/build.log"; die "module build failed"; }
grep -q 'warning:' "$WORK/build.log" && { cat "$WORK/build.log"; die "module build has warnings"; }
# the codec vectors again, inside the guest kernel
KT=$WORK/ktest
mkdir -p "$KT"
# (and the sealed frames of Tests/Vectors/aead through the module's own seal.c and auth.c)
cp "$KMOD"/qtfs_wire*.[ch] "$KMOD/seal.c" "$KMOD/auth.c" "$KMOD/transport.h" "$HERE/wire_check.h" \
	"$HERE/seal_check.h" "$HERE/wire_ktest.c" "$HERE/seal_ktest.c" "$KT/"
"$HERE/vectors-to-c.sh" "$ROOT/Tests/Vectors" >"$KT/vectors.h" || die "vectors-to-c failed"
"$HERE/vectors-to-c.sh" "$ROOT/Tests/Vectors/aead" qtfs_aead_vectors >"$KT/aead_vectors.h" || die "vectors-to-c failed"
printf 'obj-m := qtfs_wire_ktest.o\nqtfs_wire_ktest-y := wire_ktest.o seal_ktest.o seal.o auth.o qtfs_wire.o qtfs_wire_put.o qtfs_wire_get.o\nccflags-y := -Werror -I%s\n' "$ROOT/include" >"$KT/Kbuild"
make -s -C "/lib/modules/$KVER/build" M="$KT" modules >"$WORK/ktest.log" 2>&1 ||
	{ cat "$WORK/ktest.log"; die "codec test module build failed"; }
CFLAGS="-Wall -Wextra -Werror -O2 -static"
gcc $CFLAGS -o "$WORK/vm-helper" "$HERE/vm-helper.c" || die "vm-helper build failed"
gcc $CFLAGS -o "$WORK/qtfs-bench" "$ROOT/bench/qtfs-bench.c" || die "qtfs-bench build failed"
gcc $CFLAGS -o "$WORK/tcp-rtt" "$ROOT/bench/tcp-rtt.c" || die "tcp-rtt build failed"
gcc $CFLAGS $(pkg-config --cflags libnl-genl-3.0) -I"$ROOT/Sources/CNetlink/include" -o "$WORK/qtfs-nlctl" \
	"$KMOD/tools/qtfs-nlctl.c" "$ROOT/Sources/CNetlink/qtfs_nl.c" -lnl-genl-3 -lnl-3 -lpthread -lm 2>"$WORK/nlctl.log" || { cat "$WORK/nlctl.log"; die "qtfs-nlctl build failed"; }

# ---- initramfs ----
IR=$WORK/initramfs
mkdir -p "$IR"/{bin,lib,proc,sys,dev,tmp,mnt,etc}
cp /bin/busybox "$IR/bin/busybox"
cp "$WORK/vm-helper" "$WORK/qtfs-nlctl" "$IR/bin/"
cp "$KMOD/qtfs.ko" "$KT/qtfs_wire_ktest.ko" "$IR/lib/"
# copy_kmod DIR/NAME: Debian's NAME.ko(.xz|.zst) from /lib/modules/$KVER/kernel/DIR, uncompressed
copy_kmod() {
	local m
	m=$(ls /lib/modules/"$KVER"/kernel/"$1".ko* 2>/dev/null | head -1)
	[ -n "$m" ] || die "$(basename "$1") module not found for $KVER"
	case "$m" in
	*.xz) xz -dc "$m" ;;
	*.zst) zstd -dcq "$m" ;;
	*) cat "$m" ;;
	esac >"$IR/lib/$(basename "$1").ko"
}
copy_kmod drivers/net/ethernet/intel/e1000/e1000
copy_kmod fs/fuse/fuse
# The AEADs of sealed frames: gcm(aes) and rfc7539(chacha20,poly1305) are built from these
# (modules in Debian's kernel), loaded by vm-init.sh in this order (dependencies first);
# aesni-intel and ghash-clmulni-intel use the AES-NI and PCLMULQDQ qemu's -cpu max offers.
mkdir -p "$IR/lib/crypto"
for m in crypto/gf128mul crypto/ghash-generic crypto/ctr crypto/gcm lib/crypto/libchacha crypto/chacha_generic \
	lib/crypto/libpoly1305 crypto/poly1305_generic crypto/chacha20poly1305 crypto/cryptd crypto/crypto_simd \
	arch/x86/crypto/aesni-intel arch/x86/crypto/ghash-clmulni-intel; do
	copy_kmod "$m"
	mv "$IR/lib/$(basename "$m").ko" "$IR/lib/crypto/"
	basename "$m" >>"$IR/lib/crypto/order"
done
# The Swift clients: qtfs-fuse (also as /sbin/mount.qtfs), qtinfo and qtfs-run, with the
# shared libraries ldd names, at the same paths (the binaries' RPATH points into the toolchain).
for b in qtfs-fuse qtinfo qtfs-run; do
	[ -x "$QTFS_BIN/$b" ] || die "no $QTFS_BIN/$b: run swift build -c release (or set QTFS_BIN)"
	cp "$QTFS_BIN/$b" "$IR/bin/"
	for lib in $(ldd "$QTFS_BIN/$b" | grep -o '/[^ ]*'); do cp -L --parents "$lib" "$IR/" || die "cannot copy $lib"; done
done
mkdir -p "$IR/sbin"
ln -s /bin/qtfs-fuse "$IR/sbin/mount.qtfs"
cp "$WORK/qtfs-bench" "$WORK/tcp-rtt" "$IR/bin/"
cp "$HERE/vm-init.sh" "$IR/init"
cp "$HERE/vm-crypt.sh" "$IR/bin/"
chmod +x "$IR/init"
(cd "$IR" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initramfs.cpio.gz" || die "cpio failed"

# ---- export and server ----
EXPORT=$WORK/export
mkdir -p "$EXPORT"
echo "hello from host" >"$EXPORT/hello.txt"
# sealed frames: the relays' captures must not show it through a sealed connection
SECRET=qtfs-secret-$(od -An -vtx1 -N12 /dev/urandom | tr -d ' \n')
echo "$SECRET" >"$EXPORT/secret.txt"
cat /proc/version >"$EXPORT/host-proc-version"
cp /bin/busybox "$EXPORT/busybox-copy"
mkdir "$EXPORT/hostdir"
for i in $(seq 200); do echo abcd >"$EXPORT/hostdir/h-$i"; done
# for the directory prefetch check: qtfs-bench's layout (files/f00000...), never listed
mkdir -p "$EXPORT/pf/files"
head -c 4096 /dev/zero >"$WORK/4k"
for i in $(seq 0 299); do cp "$WORK/4k" "$EXPORT/pf/files/$(printf 'f%05d' "$i")"; done
# directories too big for a snapshot (over 16,384 entries): bysize's size says so (16-byte
# names); byread's does not (4-byte names: ext4 counts 12 bytes for each), so the module
# finds out by reading it once
mkdir -p "$EXPORT/pfbig/bysize" "$EXPORT/pfbig/byread"
(cd "$EXPORT/pfbig/bysize" && seq -f 'big-%012g' 1 20000 | xargs touch)
(cd "$EXPORT/pfbig/byread" && printf '%04x\n' $(seq 1 17000) | xargs touch)
# Three ports from PORT, below the ephemeral range (32768-) so that no outgoing connection
# of another test holds one of them.
PORT=$(( 20000 + RANDOM % 6000 * 2 ))
EXPORT_ARGS=(--export "$EXPORT" --export /proc)
# A cgroup directory whose children get a pids.max (v1 pids hierarchy, or v2 with
# the pids controller enabled for children) and where we may create one.
CG_DIR=
CG_NAME=qtfs-vmtest-$$
for d in /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
	[ -e "$d/cgroup.procs" ] || continue
	if [ "$d" != /sys/fs/cgroup/pids ] && ! grep -qw pids "$d/cgroup.subtree_control" 2>/dev/null; then
		continue
	fi
	if mkdir "$d/$CG_NAME" 2>/dev/null; then
		rmdir "$d/$CG_NAME"
		CG_DIR=$d
		break
	fi
done
[ -n "$CG_DIR" ] && EXPORT_ARGS+=(--export "$CG_DIR")
# wait_listening PORT PID LOG [NAME]: until something listens on PORT (asked of the kernel
# with ss: a probe connection would count as the hostile server's first client); dies
# (with LOG) if PID ends or 5 s pass.
wait_listening() {
	for _ in $(seq 50); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	cat "$3"
	die "${4:-qtfs-server} did not start on port $1"
}
start_server() {
	"$SERVER" --listen 127.0.0.1 --port "$PORT" "${EXPORT_ARGS[@]}" >>"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	wait_listening "$PORT" "$SERVER_PID" "$WORK/server.log"
}
# A server built with authentication (docs/protocol.md, "Authentication") needs --no-auth
# to serve without a key; a second instance with a key proves the module's handshake.
"$SERVER" --help 2>&1 | grep -q -- '--no-auth' && EXPORT_ARGS+=(--no-auth)
start_server
APORT= AKEY=
AUTH_SERVER=${QTFS_AUTH_SERVER:-$SERVER}
if "$AUTH_SERVER" --help 2>&1 | grep -q -- '--key '; then
	APORT=$((PORT + 2))
	AKEY=$(od -An -vtx1 -N32 /dev/urandom | tr -d ' \n')
	(umask 077; echo "$AKEY" >"$WORK/auth.key")
	"$AUTH_SERVER" --listen 127.0.0.1 --port "$APORT" --key "$WORK/auth.key" --export "$EXPORT" >"$WORK/auth-server.log" 2>&1 &
	AUTH_PID=$!
	wait_listening "$APORT" "$AUTH_PID" "$WORK/auth-server.log"
	log "authenticating server $AUTH_SERVER on 127.0.0.1:$APORT"
else
	die "$AUTH_SERVER has no --key: the authentication checks need a server with it (set QTFS_AUTH_SERVER)"
fi
# qtfs-run in the guest: a server with host mounts allowed beneath $RUNEXP (the qtfs mount
# itself is one of them) and unix connects to $RUNEXP/sock, where an echo server listens.
# (t92 checks the whitelist's refusals; the server decides them whichever client asks.)
RUNEXP=$WORK/runexp
mkdir -p "$RUNEXP"/{mnts/t,mnts/u,sock}
for g in Open Read Write Readdir Create Mkdir Rmdir Unlink Rename Setattr; do printf '[%s]\nPath=%s\n' "$g" "$RUNEXP"; done >"$WORK/run-whitelist"
printf '[Mount]\nPath=%s\n[Udsconnect]\nPath=%s\n' "$RUNEXP" "$RUNEXP/sock" >>"$WORK/run-whitelist"
RPORT=$((PORT + 3))
"$SERVER" --listen 127.0.0.1 --port "$RPORT" --no-auth --export "$RUNEXP" --whitelist "$WORK/run-whitelist" \
	--unix-connect "$RUNEXP/sock/" >"$WORK/run-server.log" 2>&1 &
RUN_PID=$!
wait_listening "$RPORT" "$RUN_PID" "$WORK/run-server.log"
python3 - "$RUNEXP/sock/echo.sock" >"$WORK/echo.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept(); data = b""
    while (chunk := c.recv(4096)): data += chunk
    c.sendall(data.upper()); c.close()
PY
ECHO_PID=$!
# ... and a server that takes and gives file descriptors (SCM_RIGHTS)
printf host-file-passed >"$RUNEXP/host-give.txt"
python3 "$ROOT/Tests/Integration/scm_peer.py" serve "$RUNEXP/sock/scm.sock" "$RUNEXP/host-give.txt" >"$WORK/scm.log" 2>&1 &
SCM_PID=$!
# Sealed frames: a server with the key in --crypt none, and a man-in-the-middle relay
# (capture, flip one bit on request) in front of it and of the authenticating server,
# which seals every connection (--crypt aead, the default with a key).
"$AUTH_SERVER" --help 2>&1 | grep -q -- '--crypt' ||
	die "$AUTH_SERVER has no --crypt: the sealed-frame checks need a server with sealed frames"
NPORT=$((PORT + 4)) SPORT=$((PORT + 5)) SNPORT=$((PORT + 6))
"$AUTH_SERVER" --listen 127.0.0.1 --port "$NPORT" --key "$WORK/auth.key" --crypt none --export "$EXPORT" \
	>"$WORK/none-server.log" 2>&1 &
NONE_PID=$!
wait_listening "$NPORT" "$NONE_PID" "$WORK/none-server.log"
python3 "$HERE/mitm-relay.py" "$SPORT" "$APORT" "$WORK/capture-sealed" "$WORK/flip-s" >"$WORK/relay-sealed.log" 2>&1 &
RELAYS_PID=$!
wait_listening "$SPORT" "$RELAYS_PID" "$WORK/relay-sealed.log" mitm-relay.py
python3 "$HERE/mitm-relay.py" "$SNPORT" "$NPORT" "$WORK/capture-none" "$WORK/flip-n" >"$WORK/relay-none.log" 2>&1 &
RELAYN_PID=$!
wait_listening "$SNPORT" "$RELAYN_PID" "$WORK/relay-none.log" mitm-relay.py
# the suite the server picks when offered both: AES-256-GCM where this CPU has AES instructions
grep -qw aes /proc/cpuinfo && SUITE=1 || SUITE=2
NAEAD=$(ls "$ROOT/Tests/Vectors/aead" | grep -c '\.vec$')
# the benchmark's round-trip floor: the guest ping-pongs with this echo server (bench/tcp-rtt.c)
TPORT=$((PORT + 7))
if [ "${VM_BENCH:-0}" = 1 ]; then
	"$WORK/tcp-rtt" -s "$TPORT" >"$WORK/tcp-rtt.log" 2>&1 &
	RTT_PID=$!
fi
HPORT=$((PORT + 1))
python3 "$HERE/hostile-server.py" "$HPORT" >"$WORK/hostile.log" 2>&1 &
HOSTILE_PID=$!
wait_listening "$HPORT" "$HOSTILE_PID" "$WORK/hostile.log" hostile-server.py
log "server $SERVER on 127.0.0.1:$PORT exporting $EXPORT /proc ${CG_DIR:-}"

# ---- boot ----
SERIAL=$WORK/serial.log
: >"$SERIAL"
APPEND="console=ttyS0 panic=-1 quiet qt_nvec=$NVEC qt_port=$PORT qt_export=$EXPORT qt_proc=1 qt_cg=${CG_DIR:-none} qt_cgname=$CG_NAME qt_hport=$HPORT qt_bench=${VM_BENCH:-0} qt_bench_files=${VM_BENCH_FILES:-500} qt_bench_rounds=${VM_BENCH_ROUNDS:-3} qt_tport=$TPORT qt_aport=${APORT:-none} qt_akey=${AKEY:-none} qt_rport=$RPORT qt_runexp=$RUNEXP qt_sport=$SPORT qt_nport=$SNPORT qt_suite=$SUITE qt_secret=$SECRET qt_naead=$NAEAD"
timeout "$VM_TIMEOUT" qemu-system-x86_64 -cpu max -m 1536 -nographic -no-reboot \
	-kernel "$VMLINUZ" -initrd "$WORK/initramfs.cpio.gz" -append "$APPEND" \
	-netdev user,id=n0 -device e1000,netdev=n0 >"$SERIAL" 2>&1 </dev/null &
QEMU_PID=$!
T_BOOT=$(date +%s)
restarted=0
while kill -0 "$QEMU_PID" 2>/dev/null; do
	if [ $restarted = 0 ] && grep -q '^QTFS-RESTART-SERVER' "$SERIAL"; then
		log "guest asks for a server restart"
		kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
		# replaced while the server is down: an fd open on it must not reopen the new file
		echo swap-new >"$EXPORT/swap.new" && mv "$EXPORT/swap.new" "$EXPORT/swap.txt"
		sleep 1
		start_server
		restarted=1
	fi
	# "QTFS-WRITE-FIFO": the guest polls its export's fifo-push and waits for a host write
	if [ ! -e "$WORK/fifo-written" ] && grep -q '^QTFS-WRITE-FIFO' "$SERIAL"; then
		: >"$WORK/fifo-written"
		# late enough that the guest's poll is already waiting, not finding it ready
		(sleep 1.5; timeout 10 sh -c "echo host >'$EXPORT/fifo-push'") &
	fi
	# "QTFS-ARM-FLIP X": arms relay s (sealed) or n (crypt none) for the next READ answer
	for x in a:s:flip c:s:flip r:s:replay i:s:inject d:s:drop o:s:reorder n:n:flip; do
		t=${x%%:*} relay=${x#*:} mode=${x##*:}
		relay=${relay%%:*}
		[ -e "$WORK/armed-$t" ] || ! grep -q "^QTFS-ARM-FLIP $t" "$SERIAL" && continue
		: >"$WORK/armed-$t"; echo "$mode" >"$WORK/flip-$relay"; : >"$EXPORT/flip-$t-armed"
	done
	sleep 0.3
done
wait "$QEMU_PID"
QEMU_RC=$?
QEMU_PID=
T_END=$(date +%s)
tr -d '\r' <"$SERIAL" >"$SERIAL.txt"
grep -E '^(PASS|FAIL|INFO|DMESG|QTFS-)' "$SERIAL.txt"

# ---- benchmark summary: median of the rounds per target and workload ----
if [ "${VM_BENCH:-0}" = 1 ]; then
	grep '^INFO bench r[0-9]' "$SERIAL.txt" | awk '
		{ k = $5 " " $4; v[k] = v[k] " " $7; n[k]++ }
		function median(s,   a, c, i, j, t) {
			c = split(s, a, " ")
			for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
		}
		END {
			for (k in v) { m[k] = median(v[k]); printf "INFO bench median %s %.1f us/op (%d rounds:%s)\n", k, m[k], n[k], v[k] }
			split("stat read4k", w, " ")
			for (i = 1; i <= 2; i++) {
				if (m[w[i] " kmod"] > 0 && m[w[i] " fuse"] > 0)
					printf "INFO bench ratio %s fuse/kmod %.1fx (noprefetch both: %.1fx)\n", w[i],
						m[w[i] " fuse"] / m[w[i] " kmod"], m[w[i] " fuse-noprefetch"] / m[w[i] " kmod-noprefetch"]
			}
		}' | sort
fi

# ---- host-side checks of what the guest wrote ----
hpass=0; hfail=0
hcheck() { if [ "$2" = "$3" ]; then echo "PASS host_$1"; hpass=$((hpass+1)); else echo "FAIL host_$1: got '$2' want '$3'"; hfail=$((hfail+1)); fi; }
hcheck create_write "$(cat "$EXPORT/g-new.txt" 2>&1)" "written by guest
second line"
hcheck large_file "$(md5sum <"$EXPORT/big.bin" 2>/dev/null | cut -d' ' -f1)" \
	"$(sed -n 's/^INFO big-md5 //p' "$SERIAL.txt" | grep . || echo no-md5-from-guest)"
hcheck hard_link "$(stat -c %h "$EXPORT/g-new.txt" 2>&1)" 2
hcheck symlink "$(readlink "$EXPORT/sl" 2>&1)" hello.txt
hcheck chmod "$(stat -c %a "$EXPORT/modes.txt" 2>&1)" 640
hcheck chown "$(stat -c %u:%g "$EXPORT/modes.txt" 2>&1)" 1000:1000
hcheck utimes "$(stat -c %Y "$EXPORT/modes.txt" 2>&1)" 1577934245
hcheck uid_owner "$(stat -c %u:%g "$EXPORT/shared/u1000.txt" 2>&1)" 1000:1000
hcheck rename_exchange "$(cat "$EXPORT/ren-b" "$EXPORT/ren-c" 2>&1 | tr -d '\n')" ab
hcheck rename_whiteout "$(stat -c %F "$EXPORT/ren-w" 2>&1):$(cat "$EXPORT/ren-w2" 2>&1)" "character special file:w"
hcheck xattr "$("$WORK/vm-helper" xget "$EXPORT/g-new.txt" user.keep)" kept
hcheck fifo "$(stat -c %F "$EXPORT/fifo" 2>&1)" fifo
hcheck readdir_files "$(ls "$EXPORT/many" | wc -l)" 400
hcheck after_reconnect "$(cat "$EXPORT/after-restart.txt" 2>&1)" after-restart
hcheck run_mount_on_host "$(grep -c " $RUNEXP/mnts/t .* - tmpfs qtfsrun " /proc/self/mountinfo)" 1
hcheck run_mount_content "$(cat "$RUNEXP/mnts/t/f" 2>&1)" from-guest
hcheck run_umount_on_host "$(grep -c " $RUNEXP/mnts/u " /proc/self/mountinfo)" 0
hcheck run_scm_written "$(cat "$RUNEXP/scm.txt" 2>&1)" 01234567WXYZcdef
# sealed frames: what a man in the middle saw (the secret only where both ends chose none)
for x in a c; do
	hcheck "sealed_write_$x" "$(md5sum <"$EXPORT/sealed-$x.bin" 2>/dev/null | cut -d' ' -f1)" \
		"$(sed -n 's/^INFO big-md5 //p' "$SERIAL.txt" | grep . || echo no-md5-from-guest)"
done
hcheck sealed_capture_carried "$([ "$(stat -c %s "$WORK/capture-sealed" 2>/dev/null || echo 0)" -gt 6000000 ] && echo yes)" yes
hcheck sealed_capture_hides_secret "$(grep -c "$SECRET" "$WORK/capture-sealed" 2>&1)" 0
hcheck plaintext_capture_shows_secret "$([ "$(grep -c "$SECRET" "$WORK/capture-none" 2>&1)" -ge 1 ] && echo yes)" yes
hcheck relays_tampered "$(grep -c '^[a-z]*: a frame from the server' "$WORK/relay-sealed.log" "$WORK/relay-none.log" | cut -d: -f2 | tr '\n' ' ')" "6 1 "
hcheck relays_tampered_all "$(grep -c 'unchanged' "$WORK/relay-sealed.log")" 0

npass=$(grep -c '^PASS' "$SERIAL.txt")
nfail=$(grep -c '^FAIL' "$SERIAL.txt")
done_seen=$(grep -c '^QTFS-VM-DONE' "$SERIAL.txt")
log "guest: $npass passed, $nfail failed; host: $hpass passed, $hfail failed;" \
	"boot-to-poweroff $((T_END - T_BOOT)) s, total $((T_END - T0)) s"
if [ "$done_seen" = 0 ]; then
	log "the guest did not finish (qemu exit $QEMU_RC); last serial lines:"
	tail -n 40 "$SERIAL.txt" >&2
	exit 1
fi
[ "$nfail" = 0 ] && [ "$hfail" = 0 ] && [ "$npass" -gt 0 ] || exit 1
exit 0
