#!/bin/busybox sh
# /init of the VM test initramfs: loads qtfs.ko, mounts exports of the host's
# qtfs-server (10.0.2.2 through qemu user networking) and prints one line per
# check: "PASS name" or "FAIL name: detail". Parameters come from the kernel
# command line: qt_port, qt_export, qt_proc (1 if /proc is exported),
# qt_cg (exported cgroup directory or "none"), qt_rport and qt_runexp (the qtfs-run
# checks' server and its export), the sealed-frame checks' (vm-crypt.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /mnt/q /mnt/hp /mnt/cg /mnt/x
for kv in $(cat /proc/cmdline); do
	case "$kv" in qt_*=*) export "$kv" ;; esac
done
H=/bin/vm-helper
Q=/mnt/q
OPTS="server=10.0.2.2,port=$qt_port"
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# t NAME CMD...: the command must succeed
t() { n=$1; shift; if o=$("$@" 2>&1); then pass "$n"; else fail "$n" "$(echo $o | head -c 160)"; fi; }
# f NAME WHY CMD...: the command must fail, saying WHY (an errno's text, e.g. "Permission
# denied"): failing for another reason is a failure of the check
f() {
	n=$1; why=$2; shift 2
	if o=$("$@" 2>&1); then fail "$n" "unexpected success: $(echo $o | head -c 120)"
	else case "$o" in *"$why"*) pass "$n" ;; *) fail "$n" "failed, but not with '$why': $(echo $o | head -c 160)" ;; esac; fi
}
# eq NAME GOT WANT
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$(echo "$2" | head -c 120)' want '$3'"; fi; }
# within SECONDS CMD...: runs CMD every 0.1 s until it succeeds; false if it never does
within() {
	n=$(($1 * 10)); shift
	until "$@" > /dev/null 2>&1; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1; done
}
# requests of all qtfs mounts waiting for an answer (netlink status)
inflight() { /bin/qtfs-nlctl status | sed -n 's/^mount .* inflight \([0-9]*\) .*/\1/p' | awk '{ n += $1 } END { print n + 0 }'; }
waiting_at_host() { [ "$(inflight)" -ge 1 ]; }
# gone PID: the process has ended (a zombie of ours counts as ended)
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

echo "QTFS-VM-START $(uname -r)"
insmod /lib/e1000.ko
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
# the kernel's AEADs as Debian builds them (modules), in dependency order (lib/crypto/order):
# gcm(aes) and rfc7539(chacha20,poly1305) are made from these templates and ciphers
for m in $(cat /lib/crypto/order); do insmod "/lib/crypto/$m.ko" || fail "crypto_module_$m" "insmod failed"; done
insmod /lib/qtfs_wire_ktest.ko
ks=$(dmesg | grep 'qtfs_wire_ktest: sealed frames:')
case "$ks" in *"sealed frames: $qt_naead vectors, suites aes-256-gcm and chacha20-poly1305") pass kernel_sealed_vectors ;;
*) fail kernel_sealed_vectors "${ks:-no result} (want $qt_naead vectors)" ;; esac
kt=$(dmesg | grep 'qtfs_wire_ktest: .* passed')
# "N vectors, P passed, 0 failed" with N the host's vector count: a run that checked nothing fails
case "$kt" in *"qtfs_wire_ktest: $qt_nvec vectors, "[1-9]*" passed, 0 failed") pass kernel_codec_vectors ;;
*) fail kernel_codec_vectors "${kt:-no result} (want $qt_nvec vectors, none failed)" ;; esac
echo "INFO kernel codec: ${kt#*] }"
rmmod qtfs_wire_ktest
t modload insmod /lib/qtfs.ko
t fs_registered grep -qw qtfs /proc/filesystems

# ---- mount option handling and failures ----
f mount_default_server "Connection refused" mount -t qtfs -o conn_timeout=5 "$qt_export" /mnt/x
# the option forms qtfs-fuse takes, so one fstab line serves both clients
t mount_fuse_style mount -t qtfs -o "server=10.0.2.2:$qt_port,attr_timeout=0.25,entry_timeout=2,conns=4,allow_other,no_writeback" "$qt_export" /mnt/x
case "$(grep ' /mnt/x qtfs ' /proc/mounts)" in *"server=10.0.2.2,port=$qt_port,attr_timeout_ms=250,entry_timeout_ms=2000"*) pass fuse_style_options ;; *) fail fuse_style_options "$(grep ' /mnt/x ' /proc/mounts)" ;; esac
eq fuse_style_read "$(cat /mnt/x/hello.txt)" "hello from host"
umount /mnt/x
f mount_bad_seconds "Invalid argument" mount -t qtfs -o "$OPTS,attr_timeout=1x" "$qt_export" /mnt/x
f mount_bad_server "Invalid argument" mount -t qtfs -o server=not.an.ip "$qt_export" /mnt/x
f mount_relative_source "Invalid argument" mount -t qtfs -o "$OPTS" relative/path /mnt/x
f mount_refused "Connection refused" timeout 30 mount -t qtfs -o server=10.0.2.2,port=1,conn_timeout=5 "$qt_export" /mnt/x
f mount_enoent "No such file or directory" mount -t qtfs -o "$OPTS" "$qt_export/does-not-exist" /mnt/x

t mount mount -t qtfs -o "$OPTS,attr_timeout_ms=500" "$qt_export" $Q
line=$(grep " $Q qtfs " /proc/mounts)
eq mount_shown "$(echo "$line" | cut -d' ' -f1,3)" "$qt_export qtfs"
case "$line" in *server=10.0.2.2,port=$qt_port,attr_timeout_ms=500*) pass show_options ;; *) fail show_options "$line" ;; esac
case "$line" in *entry_timeout*|*conn_timeout*) fail show_options_defaults "$line" ;; *) pass show_options_defaults ;; esac

t remount mount -o remount,attr_timeout_ms=2000 $Q
case "$(grep " $Q qtfs " /proc/mounts)" in *server=10.0.2.2,port=$qt_port,attr_timeout_ms=2000*) pass remount_shown ;; *) fail remount_shown "$(grep " $Q " /proc/mounts)" ;; esac
f remount_other_server "Invalid argument" mount -o remount,server=10.0.2.3 $Q
t remount_back mount -o remount,attr_timeout_ms=500 $Q

# ---- mount.qtfs (qtfs-fuse as the mount helper) picks the module, or FUSE on request ----
insmod /lib/fuse.ko
mkdir -p /mnt/hk
HS="server=10.0.2.2:$qt_port"
t helper_kernel /sbin/mount.qtfs "$qt_export" /mnt/hk -o "$HS,_netdev,defaults,nosuid,attr_timeout=0.5"
line=$(grep ' /mnt/hk ' /proc/mounts)
case "$line" in "$qt_export /mnt/hk qtfs "*nosuid*attr_timeout_ms=500*) pass helper_kernel_type ;; *) fail helper_kernel_type "$line" ;; esac
eq helper_kernel_read "$(cat /mnt/hk/hello.txt)" "hello from host"
t helper_kernel_umount umount /mnt/hk
o=$(/sbin/mount.qtfs "$qt_export" /mnt/hk -o "$HS,no_such_option" 2>&1)
case "$?:$o" in 32:*"Invalid argument"*dmesg*) pass helper_kernel_bad_option ;; *) fail helper_kernel_bad_option "$o" ;; esac
grep -q ' /mnt/hk ' /proc/mounts && { fail helper_no_fallback "mounted anyway"; umount /mnt/hk; } || pass helper_no_fallback
t helper_fuse_forced /sbin/mount.qtfs "$qt_export" /mnt/hk -o "$HS,fuse"
eq helper_fuse_type "$(grep ' /mnt/hk ' /proc/mounts | cut -d' ' -f3)" fuse.qtfs
eq helper_fuse_read "$(cat /mnt/hk/hello.txt)" "hello from host"
t helper_fuse_umount umount /mnt/hk

# ---- authentication: key_hex=, the HMAC-SHA256 handshake, mount.qtfs key=KEYFILE ----
K32=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
f key_bad_hex "Invalid argument" mount -t qtfs -o "$OPTS,key_hex=zz$K32" "$qt_export" /mnt/x
f key_file_option_to_module "Invalid argument" mount -t qtfs -o "$OPTS,key=/etc/qtfs.key" "$qt_export" /mnt/x
f key_server_without_auth "Permission denied" mount -t qtfs -o "$OPTS,key_hex=$K32" "$qt_export" /mnt/x
dmesg | grep -q 'does not authenticate but this mount has a key' && pass key_server_without_auth_logged || fail key_server_without_auth_logged "no dmesg line"
if [ "$qt_aport" != none ]; then
	AO="server=10.0.2.2,port=$qt_aport,conn_timeout=10"
	t auth_mount mount -t qtfs -o "$AO,key_hex=$qt_akey" "$qt_export" /mnt/x
	eq auth_read "$(cat /mnt/x/hello.txt)" "hello from host"
	umount /mnt/x
	f auth_wrong_key "Permission denied" mount -t qtfs -o "$AO,key_hex=$K32" "$qt_export" /mnt/x
	dmesg | grep -q 'failed to prove it holds the key' && pass auth_wrong_key_logged || fail auth_wrong_key_logged "no dmesg line"
	f auth_no_key "Permission denied" mount -t qtfs -o "$AO" "$qt_export" /mnt/x
	dmesg | grep -q 'requires authentication' && pass auth_no_key_logged || fail auth_no_key_logged "no dmesg line"
	echo "$qt_akey" > /tmp/qtfs.key
	chmod 644 /tmp/qtfs.key
	o=$(/sbin/mount.qtfs "$qt_export" /mnt/x -o "server=10.0.2.2:$qt_aport,key=/tmp/qtfs.key" 2>&1)
	case "$?:$o" in 32:*"chmod 600"*) pass helper_key_file_mode ;; *) fail helper_key_file_mode "$o" ;; esac
	chmod 600 /tmp/qtfs.key
	t helper_key_file /sbin/mount.qtfs "$qt_export" /mnt/x -o "server=10.0.2.2:$qt_aport,key=/tmp/qtfs.key"
	eq helper_key_file_read "$(cat /mnt/x/hello.txt)" "hello from host"
	case "$(grep ' /mnt/x ' /proc/mounts)" in *key*) fail key_not_shown "$(grep ' /mnt/x ' /proc/mounts)" ;; *) pass key_not_shown ;; esac
	umount /mnt/x
else
	fail auth_server "the host started no authenticating server (qt_aport=none)"
fi

# ---- data ----
eq read_host_file "$(cat $Q/hello.txt)" "hello from host"
echo "written by guest" > $Q/g-new.txt
eq create_write "$(cat $Q/g-new.txt)" "written by guest"
echo "second line" >> $Q/g-new.txt
eq append "$(tail -n 1 $Q/g-new.txt)" "second line"
dd if=/dev/urandom of=/tmp/big bs=65536 count=48 2>/dev/null
cp /tmp/big $Q/big.bin
sum=$(md5sum /tmp/big | cut -d' ' -f1)
echo "INFO big-md5 $sum"
eq large_file "$(md5sum $Q/big.bin | cut -d' ' -f1)" "$sum"
eq large_size "$(stat -c %s $Q/big.bin)" 3145728
# many requests in flight on one connection
for i in 1 2 3 4 5 6; do md5sum $Q/big.bin > /tmp/par.$i & done
wait
eq parallel_reads "$(cat /tmp/par.* | cut -d' ' -f1 | sort -u)" "$sum"
eq mmap_read "$($H mmapcat $Q/hello.txt)" "hello from host"
eq seek_end "$($H seek $Q/big.bin end 0)" 3145728
t fallocate fallocate -l 8192 $Q/falloc.bin
eq fallocate_size "$(stat -c %s $Q/falloc.bin)" 8192
eq exec_from_qtfs "$($Q/busybox-copy echo exec-ok)" exec-ok
echo 123456789 > $Q/otrunc.txt
echo 12 > $Q/otrunc.txt
eq open_trunc "$(cat $Q/otrunc.txt)" 12
cp $Q/big.bin $Q/trunc.bin
truncate -s 100 $Q/trunc.bin
eq truncate "$(stat -c %s $Q/trunc.bin)" 100
t excl_create $H excl $Q/excl.txt
eq excl_exists "$($H excl $Q/excl.txt)" "err=17"

# ---- OPEN_READ: a small file read-only comes with its open, each byte once ----
nl_sent() { /bin/qtfs-nlctl stats | sed -n "s/^op $1 *sent \([0-9]*\).*/\1/p"; }
/bin/qtfs-nlctl clear > /dev/null
eq open_read_content "$(cat $Q/hello.txt)" "hello from host"
eq open_read_one_trip "$(nl_sent open_read):$(nl_sent read):$(nl_sent open)" "1::"
echo one > $Q/ord.txt
exec 6< $Q/ord.txt
echo two > $Q/ord.txt
eq open_read_after_change "$(cat <&6)" two
exec 6<&-
eq open_read_big_file "$(md5sum $Q/big.bin | cut -d' ' -f1)" "$sum"

# ---- LOOKUP_OPEN: a read-only open of a name not looked up yet is one round trip ----
mkdir -p $Q/lo/dir && echo lo-a > $Q/lo/a && ln -s a $Q/lo/link
echo secret > $Q/lo/private && chmod 600 $Q/lo/private
t lookup_open_mount mount -t qtfs -o "$OPTS,noprefetch" "$qt_export/lo" /mnt/x
/bin/qtfs-nlctl clear > /dev/null
eq lookup_open_content "$(cat /mnt/x/a)" lo-a
eq lookup_open_one_trip "$(nl_sent lookup_open):$(nl_sent lookup):$(nl_sent open_read)" "1::"
eq lookup_open_then_cached "$(cat /mnt/x/a):$(nl_sent lookup_open):$(nl_sent open_read)" "lo-a:1:1"
eq lookup_open_symlink "$(cat /mnt/x/link)" lo-a
f lookup_open_missing "No such file or directory" cat /mnt/x/missing
f lookup_open_directory "Is a directory" cat /mnt/x/dir
eq lookup_open_stat_after "$(stat -c %F /mnt/x/dir):$(stat -c %s /mnt/x/a)" "directory:5"
# the host refuses the open: LOOKUP, then the VFS's own permission check says why
f lookup_open_denied "Permission denied" $H runas 1001 1001 - cat /mnt/x/private
eq lookup_open_denied_looked_up "$(stat -c %s:%a /mnt/x/private)" "7:600"
t lookup_open_umount umount /mnt/x
# a receive buffer smaller than an answer: its caller must not wait to see it whole (rx.c)
head -c 60000 /dev/urandom > /tmp/r60k && cp /tmp/r60k $Q/lo/r60k
rmem=$(cat /proc/sys/net/ipv4/tcp_rmem)
echo "4096 4096 4096" > /proc/sys/net/ipv4/tcp_rmem
t small_rcvbuf_mount mount -t qtfs -o "$OPTS,noprefetch" "$qt_export/lo" /mnt/x
# md5sum opens the file itself, so timeout's SIGTERM ends a wait that never ends
eq small_rcvbuf_read "$(timeout 60 md5sum /mnt/x/r60k | cut -d' ' -f1)" "$(md5sum < /tmp/r60k | cut -d' ' -f1)"
echo "$rmem" > /proc/sys/net/ipv4/tcp_rmem
t small_rcvbuf_umount umount /mnt/x

# ---- sealed frames: suites, a capture, a flipped bit, crypt=none (vm-crypt.sh) ----
. /bin/vm-crypt.sh

# ---- namespace ----
t mkdir mkdir -p $Q/d1/d2/d3
t rmdir rmdir $Q/d1/d2/d3
f rmdir_nonempty "Directory not empty" rmdir $Q/d1
echo a > $Q/ren-a; echo b > $Q/ren-b
t rename mv $Q/ren-a $Q/ren-c
f rename_old_gone "No such file or directory" stat $Q/ren-a
eq rename_noreplace "$($H rename2 $Q/ren-b $Q/ren-c noreplace)" "err=17"
t rename_exchange $H rename2 $Q/ren-b $Q/ren-c exchange
eq rename_exchanged "$(cat $Q/ren-b)$(cat $Q/ren-c)" "ab"
echo w > $Q/ren-w
t rename_whiteout $H rename2 $Q/ren-w $Q/ren-w2 whiteout   # overlayfs upper layers need it
eq rename_whiteout_left "$(stat -c %F:%t:%T $Q/ren-w 2>&1)" "character special file:0:0"
t link ln $Q/g-new.txt $Q/g-link.txt
eq link_count "$(stat -c %h $Q/g-new.txt)" 2
eq link_same_ino "$(stat -c %i $Q/g-link.txt)" "$(stat -c %i $Q/g-new.txt)"
t symlink ln -s hello.txt $Q/sl
eq readlink "$(readlink $Q/sl)" hello.txt
eq follow_symlink "$(cat $Q/sl)" "hello from host"
echo x > $Q/gone.txt
t unlink rm $Q/gone.txt
f unlink_gone "No such file or directory" stat $Q/gone.txt
t mknod_fifo mkfifo $Q/fifo
eq fifo_type "$(stat -c %F $Q/fifo)" "fifo"

# ---- attributes ----
echo m > $Q/modes.txt
chmod 640 $Q/modes.txt
eq chmod "$(stat -c %a $Q/modes.txt)" 640
chown 1000:1000 $Q/modes.txt
eq chown "$(stat -c %u:%g $Q/modes.txt)" 1000:1000
touch -d '2020-01-02 03:04:05' $Q/modes.txt
eq utimes "$(stat -c %Y $Q/modes.txt)" 1577934245

# ---- several users: caller credentials ----
mkdir $Q/shared && chmod 1777 $Q/shared
t uid_create $H runas 1000 1000 - sh -c "echo u1000 > $Q/shared/u1000.txt"
eq uid_owner "$(stat -c %u:%g $Q/shared/u1000.txt)" 1000:1000
f uid_denied "Permission denied" $H runas 1001 1001 - sh -c "echo x >> $Q/shared/u1000.txt"
f uid_unlink_sticky "Operation not permitted" $H runas 1001 1001 - rm -f $Q/shared/u1000.txt
mkdir $Q/grp && chown 0:2000 $Q/grp && chmod 770 $Q/grp
t groups_allowed $H runas 1001 1001 2000 touch $Q/grp/ok
f groups_denied "Permission denied" $H runas 1001 1001 - touch $Q/grp/no
eq groups_owner "$(stat -c %u:%g $Q/grp/ok)" 1001:1001

# ---- readdir ----
mkdir $Q/many
i=0
while [ $i -lt 400 ]; do : > "$Q/many/entry-with-a-rather-long-name-to-fill-the-buffer-$i"; i=$((i+1)); done
eq readdir_count "$(ls $Q/many | wc -l)" 400
eq readdir_dots "$(ls -a $Q/many | head -n 2 | tr '\n' ' ')" ". .. "
eq readdir_root "$(ls $Q | grep -c '^hello.txt$')" 1
# readdirplus: listing a directory nobody looked at primes dentries and attributes
/bin/qtfs-nlctl clear > /dev/null
s0=$(date +%s)
eq readdirplus_sizes "$(ls -l $Q/hostdir | grep -c ' 5 ')" 200
s1=$(date +%s)
lk=$(/bin/qtfs-nlctl stats | sed -n 's/^op lookup *sent \([0-9]*\).*/\1/p')
echo "INFO ls -l of 200 host files: $((s1-s0)) s, ${lk:-0} lookups"
[ "${lk:-0}" -lt 50 ] && pass readdirplus_no_lookups || fail readdirplus_no_lookups "lookups=$lk"
eq readdirplus_content "$(cat $Q/hostdir/h-7)" abcd

# ---- directory prefetch: uncached stats by name in a directory nobody listed ----
# (a mount of its own with 10 s timeouts, so the snapshot outlives every step here)
mkdir -p /mnt/pf
t mount_prefetch mount -t qtfs -o "$OPTS,attr_timeout=10,entry_timeout=10" "$qt_export" /mnt/pf
/bin/qtfs-nlctl clear > /dev/null
t prefetch_stats qtfs-bench -n 300 stat /mnt/pf/pf
lk=$(nl_sent lookup); rd=$(nl_sent readdir)
echo "INFO prefetch: 300 uncached stats took ${lk:-0} lookups, ${rd:-0} readdirs"
# pf and files are looked up, the first miss in files too, the second fetches the listing
[ "${lk:-0}" -le 4 ] && [ "${rd:-0}" -ge 1 ] && pass prefetch_few_lookups || fail prefetch_few_lookups "lookups=$lk readdirs=$rd"
eq prefetch_size "$(stat -c %s /mnt/pf/pf/files/f00123)" 4096
# a name the listing does not have: ENOENT with no LOOKUP while the snapshot is fresh
f prefetch_absent "No such file or directory" stat /mnt/pf/pf/files/zz-absent
eq prefetch_absent_no_lookup "$(nl_sent lookup)" "$lk"
# a change through this mount makes the snapshot stale: the next miss asks the server
echo changed > /mnt/pf/pf/files/f00007
f prefetch_absent_after_change "No such file or directory" stat /mnt/pf/pf/files/zz-absent-2
eq prefetch_stale_after_change "$(nl_sent lookup)" "$((lk + 1))"
eq prefetch_changed_size "$(stat -c %s /mnt/pf/pf/files/f00007)" 8
# a create loop in that directory does not read its listing again and again (each create
# is a change through this mount, which makes the listing stale)
/bin/qtfs-nlctl clear > /dev/null
for i in $(seq 1 100); do : > "/mnt/pf/pf/files/new-$i"; done
rd=$(nl_sent readdir | grep . || echo 0)
echo "INFO prefetch: 100 creates took $rd readdirs"
[ "$rd" -le 2 ] && pass prefetch_create_loop_no_relisting || fail prefetch_create_loop_no_relisting "readdirs=$rd"
t umount_prefetch umount /mnt/pf
# directories too big for a snapshot are not listed again and again: one whose size says
# so never, one found so by reading once only (then left alone for 60 s)
t mount_prefetch_big mount -t qtfs -o "$OPTS,attr_timeout=10,entry_timeout=10" "$qt_export" /mnt/pf
/bin/qtfs-nlctl clear > /dev/null
for i in 1 2 3 4 5 6; do stat -c %s "/mnt/pf/pfbig/bysize/$(printf 'big-%012d' $((i * 3000)))" >/dev/null; done
eq prefetch_big_by_size_no_readdir "$(nl_sent readdir | grep . || echo 0)" 0
echo "INFO prefetch_big: host sizes $(stat -c %s /mnt/pf/pfbig/bysize /mnt/pf/pfbig/byread | tr '\n' ' ')"
for i in 1 2; do stat -c %s "/mnt/pf/pfbig/byread/$(printf '%04x' $((i * 2000)))" >/dev/null; done
rd=$(nl_sent readdir)
for i in 3 4 5 6 7 8; do stat -c %s "/mnt/pf/pfbig/byread/$(printf '%04x' $((i * 2000)))" >/dev/null; done
echo "INFO prefetch_big: byread readdirs $rd after 2 misses, $(nl_sent readdir) after 8"
[ "${rd:-0}" -ge 1 ] && [ "$(nl_sent readdir)" = "$rd" ] && pass prefetch_big_by_read_once ||
	fail prefetch_big_by_read_once "readdirs: ${rd:-0} after 2 misses, $(nl_sent readdir) after 8"
t umount_prefetch_big umount /mnt/pf
t mount_noprefetch mount -t qtfs -o "$OPTS,noprefetch" "$qt_export" /mnt/x
grep -q ' /mnt/x qtfs .*,noprefetch' /proc/mounts && pass noprefetch_shown || fail noprefetch_shown "$(grep ' /mnt/x ' /proc/mounts)"
/bin/qtfs-nlctl clear > /dev/null
t noprefetch_stats qtfs-bench -n 50 stat /mnt/x/pf
eq noprefetch_lookups "$(nl_sent lookup)" 52
t umount_noprefetch umount /mnt/x

# ---- xattr ----
t xattr_set $H xset $Q/hello.txt user.qtfs hello
eq xattr_get "$($H xget $Q/hello.txt user.qtfs)" hello
eq xattr_list "$($H xlist $Q/hello.txt | grep -c '^user.qtfs$')" 1
eq xattr_create_exists "$($H xset $Q/hello.txt user.qtfs again create)" "err=17"
t xattr_remove $H xrm $Q/hello.txt user.qtfs
eq xattr_gone "$($H xget $Q/hello.txt user.qtfs)" "err=61"
$H xset $Q/g-new.txt user.keep kept

# ---- fifo: blocking open and read through the host ----
rm -f /tmp/fifo.out
(timeout 20 cat $Q/fifo > /tmp/fifo.out) &
rdr=$!
within 10 waiting_at_host || fail fifo_reader_waits "the reader's OPEN never reached the host"
echo via-fifo | timeout 20 tee $Q/fifo > /dev/null
wait $rdr
eq fifo_transfer "$(cat /tmp/fifo.out)" via-fifo
# poll(2) on a fifo: the reader's open blocks until the writer comes, poll reports POLLIN
mkfifo $Q/fifo-poll
rm -f /tmp/poll.out
(timeout 20 $H pollread $Q/fifo-poll > /tmp/poll.out) &
rdr=$!
within 10 waiting_at_host || fail fifo_poll_reader_waits "the reader's OPEN never reached the host"
echo polled | timeout 20 tee $Q/fifo-poll > /dev/null
wait $rdr
eq fifo_poll "$(cat /tmp/poll.out)" "revents=POLLIN data=polled"
# readiness comes from the host: an empty fifo is not ready; the POLL_READY event wakes poll
mkfifo $Q/fifo-push
# the write comes from the host (run-vm-test.sh, on "QTFS-WRITE-FIFO"): only POLL_READY wakes the poll
eq fifo_poll_push "$(timeout 30 $H pollpush $Q/fifo-push)" "idle=0 ready=POLLIN"
mkfifo $Q/fifo2
cat $Q/fifo2 > /dev/null &
blk=$!
within 10 waiting_at_host && pass fifo_open_waits_at_host || fail fifo_open_waits_at_host "no request in flight"
t fifo_open_blocks kill -0 $blk
late_replies() { /bin/qtfs-nlctl status | sed -n 's/^late_replies //p'; }
late0=$(late_replies)
kill -9 $blk
within 10 gone $blk && wait $blk
eq killable_wait "$?" 137
# a second mount of the same export, with a request timeout
t mount_second mount -t qtfs -o "$OPTS,req_timeout=2" "$qt_export" /mnt/x
mkfifo $Q/fifo3
s0=$(date +%s)
o=$(timeout 20 cat /mnt/x/fifo3 2>&1)
rc=$?
s1=$(date +%s)
case "$rc:$o" in 1:*"timed out"*) pass req_timeout ;; *) fail req_timeout "rc=$rc $o after $((s1-s0)) s" ;; esac
echo unblock | timeout 20 tee $Q/fifo3 > /dev/null
eq second_mount_reads "$(cat /mnt/x/hello.txt)" "hello from host"
# a change made through the other mount replaces the file under a cached name
echo old > $Q/repl.txt
cat $Q/repl.txt > /dev/null
echo new > /mnt/x/repl.new && mv /mnt/x/repl.new /mnt/x/repl.txt
# seen once the cached name expires (entry_timeout 1 s)
repl_ino=$(stat -c %i /mnt/x/repl.txt)
within 5 eval '[ "$(stat -c %i $Q/repl.txt)" = "$repl_ino" ]'
eq replaced_ino "$(stat -c %i $Q/repl.txt)" "$(stat -c %i /mnt/x/repl.txt)"
eq replaced_content "$(cat $Q/repl.txt)" new
t umount_second umount /mnt/x
# an open file that was unlinked keeps working through its handle
echo keep > $Q/unl.txt
exec 8< $Q/unl.txt
rm $Q/unl.txt
eq fstat_unlinked "$(stat -L -c %s /proc/self/fd/8)" 5
eq read_unlinked "$(cat <&8)" keep
exec 8<&-
echo late | timeout 20 tee $Q/fifo2 > /dev/null
# the killed reader's OPEN is answered now (and the timed-out one of fifo3 before it): the
# receive thread releases their handles
within 10 eval '[ "$(late_replies)" -ge $((late0 + 2)) ]' ||
	fail late_replies_seen "late_replies $(late_replies), want $((late0 + 2)) once both fifos have a writer"
eq after_kill_usable "$(cat $Q/hello.txt)" "hello from host"

# ---- statfs ----
blocks=$(stat -f -c %b $Q)
[ "${blocks:-0}" -gt 0 ] && pass statfs || fail statfs "blocks=$blocks"
t df df $Q

# ---- pseudo files: proc, cgroup ----
if [ "$qt_proc" = 1 ]; then
	t mount_proc mount -t qtfs -o "$OPTS,proc" /proc /mnt/hp
	eq proc_size_zero "$(stat -c %s /mnt/hp/version)" 0
	eq proc_read "$(cat /mnt/hp/version)" "$(cat $Q/host-proc-version)"
	eq proc_meminfo "$(grep -c '^MemTotal:' /mnt/hp/meminfo)" 1
	n=$(ls /mnt/hp | grep -c '^[0-9][0-9]*$')
	[ "$n" -gt 0 ] && pass proc_readdir || fail proc_readdir "no pids listed"
	grep -q ' /mnt/hp qtfs .*,proc' /proc/mounts && pass proc_option_shown || fail proc_option_shown "$(grep /mnt/hp /proc/mounts)"
	eq proc_mounts_link "$(readlink /mnt/hp/mounts)" 1/mounts
	n=$(grep -c . /mnt/hp/mounts)
	[ "$n" -gt 0 ] && pass proc_mounts_host || fail proc_mounts_host "empty"
	t umount_proc umount /mnt/hp
	# local_proc: self points at the caller's own (local) /proc entry
	t mount_proc_local mount -t qtfs -o "$OPTS,proc,local_proc=/proc" /proc /mnt/hp
	case "$(readlink /mnt/hp/self)" in /proc/[0-9]*) pass local_proc_self ;; *) fail local_proc_self "$(readlink /mnt/hp/self)" ;; esac
	eq local_proc_comm "$(cat /mnt/hp/self/comm)" cat
	grep -q ' /mnt/hp qtfs .*,proc,local_proc=/proc' /proc/mounts && pass local_proc_shown || fail local_proc_shown "$(grep /mnt/hp /proc/mounts)"
	t umount_proc_local umount /mnt/hp
fi
if [ "$qt_cg" != none ] && [ -n "$qt_cg" ]; then
	t mount_cgroup mount -t qtfs -o "$OPTS" "$qt_cg" /mnt/cg
	cg=/mnt/cg/${qt_cgname:-qtfs-vmtest}
	t cgroup_mkdir mkdir $cg
	echo 7 > $cg/pids.max && pass cgroup_write || fail cgroup_write "write to pids.max failed"
	eq cgroup_readback "$(cat $cg/pids.max)" 7
	t cgroup_rmdir rmdir $cg
	t umount_cgroup umount /mnt/cg
else
	echo "INFO cgroup checks skipped: the host has no cgroup directory we may write"
fi

# ---- a hostile server: every bad answer fails the call, never the kernel ----
[ -n "$qt_hport" ] || fail hostile_server "the host started no hostile server (qt_hport empty)"
if [ -n "$qt_hport" ]; then
	# noprefetch: every stat below must be the LOOKUP the hostile answer is made for
	HO="server=10.0.2.2,port=$qt_hport,conn_timeout=5,noprefetch"
	f hostile_bad_magic "Protocol error" mount -t qtfs -o "$HO" /h /mnt/x
	f hostile_status_not_errno "Input/output error" mount -t qtfs -o "$HO" /h /mnt/x
	f hostile_root_not_dir "Not a directory" mount -t qtfs -o "$HO" /h /mnt/x
	t hostile_mount mount -t qtfs -o "$HO,req_timeout=3" /h /mnt/x
	f hostile_huge_errno "Input/output error" stat /mnt/x/huge-errno
	f hostile_bad_type "Input/output error" stat /mnt/x/bad-type
	eq hostile_big_size "$(stat -c %s /mnt/x/big-size 2>&1)" 9223372036854775807
	# the first READDIR's entries are listed; the next claims more entries than its payload
	# can hold: the codec refuses it (EINVAL), the listing ends with that error
	eq hostile_readdir_lying_count "$($H readdir /mnt/x)" "names=one,two end=22"
	# names with '/' or empty ones: the VFS refuses them (EIO) and nothing is listed
	eq hostile_readdir_bad_names "$($H readdir /mnt/x/slash-names)" "names= end=5"
	# an answer to another id is never matched: the request times out (req_timeout=3)
	f hostile_wrong_id "Connection timed out" stat /mnt/x/wrong-id
	# a mixed-up answer or garbage closes the connection: the LOOKUP fails, once retried
	f hostile_wrong_op "Connection reset by peer" stat /mnt/x/wrong-op
	f hostile_garbage "Connection reset by peer" stat /mnt/x/garbage
	eq hostile_still_usable "$(stat -c %s /mnt/x/big-size 2>&1)" 9223372036854775807
	t hostile_umount umount /mnt/x
fi

# ---- optional benchmark (VM_BENCH=1 on the host; TCG: compare columns, do not quote) ----
# The metadata workloads of scripts/bench.sh (bench/qtfs-bench.c), each on a fresh mount:
# qtfs.ko and qtfs-fuse, each with and without directory prefetch, against the same server.
# bench_mount TARGET: mounts the bench export on /mnt/b the TARGET's way
bench_mount() {
	case $1 in
	kmod) mount -t qtfs -o "$OPTS" "$qt_export/bench" /mnt/b ;;
	kmod-noprefetch) mount -t qtfs -o "$OPTS,noprefetch" "$qt_export/bench" /mnt/b ;;
	fuse) /sbin/mount.qtfs "$qt_export/bench" /mnt/b -o "$HS,fuse" ;;
	fuse-noprefetch) /sbin/mount.qtfs "$qt_export/bench" /mnt/b -o "$HS,fuse,noprefetch" ;;
	esac
}
if [ "$qt_bench" = 1 ]; then
	mkdir -p $Q/bench /mnt/b
	qtfs-bench -n "$qt_bench_files" setup $Q/bench > /dev/null || fail bench_setup "qtfs-bench setup"
	for round in $(seq "${qt_bench_rounds:-3}"); do
		# the floor under every request: a TCP round trip to a host echo server
		r=$(tcp-rtt -n 1000 -a "10.0.2.2:$qt_tport") && echo "INFO bench r$round rtt tcp 1000 ${r#rtt } -"
		for w in stat read4k; do
			for target in kmod fuse kmod-noprefetch fuse-noprefetch; do
				bench_mount $target || { fail bench_mount "$target"; continue; }
				echo 3 > /proc/sys/vm/drop_caches
				qtfs-bench -n "$qt_bench_files" -l "$target" $w /mnt/b | sed "s/^/INFO bench r$round /"
				umount /mnt/b
			done
		done
	done
fi

# ---- generic netlink ----
st=$(/bin/qtfs-nlctl status 2>&1)
case "$st" in *"mount $qt_export server 10.0.2.2:$qt_port state 1"*) pass nl_status ;; *) fail nl_status "$st" ;; esac
late=$(echo "$st" | sed -n 's/^late_replies //p')
[ "${late:-0}" -ge 1 ] && pass abandoned_reply_cleaned || fail abandoned_reply_cleaned "late_replies=$late"
stats=$(/bin/qtfs-nlctl stats 2>&1)
echo "INFO netlink stats: $(echo "$stats" | grep -c '^op ') ops in one reply"
echo "$stats" | grep -q '^op lookup .*sent [1-9]' && pass nl_stats || fail nl_stats "$(echo $stats | head -c 150)"
t nl_loglevel /bin/qtfs-nlctl loglevel 2
t nl_clear /bin/qtfs-nlctl clear
eq nl_cleared "$(/bin/qtfs-nlctl stats | grep -c '^op ')" 0

# ---- qtinfo kmod (CNetlink + libnl, the same family) ----
st=$(qtinfo kmod status 2>&1)
case "$st" in *"mount $qt_export server 10.0.2.2:$qt_port state up"*) pass qtinfo_status ;; *) fail qtinfo_status "$st" ;; esac
cat $Q/hello.txt > /dev/null
qtinfo kmod stats 2>&1 | grep -qE '^op (getattr|lookup|open) sent [1-9]' && pass qtinfo_stats || fail qtinfo_stats "$(qtinfo kmod stats 2>&1 | head -c 150)"
t qtinfo_loglevel qtinfo kmod loglevel info
eq qtinfo_loglevel_set "$(qtinfo kmod status | sed -n 's/^log_level //p')" info
eq qtinfo_loglevel_param "$(cat /sys/module/qtfs/parameters/log_level)" 3
qtinfo kmod loglevel warn > /dev/null
t qtinfo_clear qtinfo kmod clear
eq qtinfo_cleared "$(qtinfo kmod stats | grep -c '^op ')" 0
o=$($H runas 1000 1000 - qtinfo kmod status 2>&1)
case "$?:$o" in 1:*CAP_NET_ADMIN*) pass qtinfo_admin_only ;; *) fail qtinfo_admin_only "$o" ;; esac
f qtinfo_bad_level "unknown log level 'loud'" qtinfo kmod loglevel loud
# the same through qtinfo's component list (KmodSource: role kmod, address netlink:qtfs)
case "$(qtinfo 2>&1)" in *"kmod"*"kmod"*"netlink:qtfs, mounts:"*"10.0.2.2:$qt_port:$qt_export"*) pass qtinfo_lists_kmod ;; *) fail qtinfo_lists_kmod "$(qtinfo 2>&1 | head -c 300)" ;; esac
t qtinfo_component_loglevel qtinfo -C kmod -l DEBUG
eq qtinfo_component_loglevel_set "$(cat /sys/module/qtfs/parameters/log_level)" 4
qtinfo -C kmod -l WARN > /dev/null
cat $Q/hello.txt > /dev/null
qtinfo -C kmod --stats 2>&1 | grep -qE '^ +open_read +[1-9]' && pass qtinfo_component_stats || fail qtinfo_component_stats "$(qtinfo -C kmod --stats 2>&1 | head -c 300)"
t qtinfo_component_clear qtinfo -C kmod -c

# ---- latency histograms and errno counts of the module (qtfs_stat_*, stats.c) ----
mkdir $Q/kstat
stat $Q/kstat/missing > /dev/null 2>&1	# first miss in a new directory: LOOKUP answered ENOENT
$H seek $Q/big.bin end 0 > /dev/null	# SEEK_END refreshes the size: GETATTR
ks=$(qtinfo kmod stats 2>&1)
echo "$ks" | grep -E '^op (lookup|getattr) ' | sed 's/^/INFO kmod stats: /'
kfield() { echo "$ks" | sed -n "s/^op $1 .* $2 \([^ ]*\).*/\1/p"; }
for op in lookup getattr; do
	kp=$(kfield $op p50_us)
	[ "${kp:-0}" -ge 1 ] && pass kmod_${op}_p50 || fail kmod_${op}_p50 "p50_us '$kp': $(echo "$ks" | grep "^op $op ")"
	[ "$(kfield $op max_us)" -ge "${kp:-1}" ] 2>/dev/null && pass kmod_${op}_max || fail kmod_${op}_max "$(echo "$ks" | grep "^op $op ")"
done
case "$(kfield lookup errnos)" in *ENOENT:[1-9]*) pass kmod_lookup_enoent ;; *) fail kmod_lookup_enoent "$(echo "$ks" | grep '^op lookup ')" ;; esac
# the same numbers in qtinfo's table (KmodComponent fills OpStatsReport as the other components)
row=$(qtinfo -C kmod --stats 2>&1 | awk '$1 == "lookup"')
case "$row" in *ENOENT:[1-9]*) pass qtinfo_component_enoent ;; *) fail qtinfo_component_enoent "$row" ;; esac
echo "$row" | awk '{ exit !($4 != "0ns" && $5 != "0ns" && $6 != "0ns") }' && pass qtinfo_component_p50 || fail qtinfo_component_p50 "$row"
qtinfo -C kmod --stats --json 2>&1 | grep -q '"ENOENT" *: *[1-9]' && pass qtinfo_component_json_errnos || fail qtinfo_component_json_errnos "$(qtinfo -C kmod --stats --json 2>&1 | head -c 300)"
# -c clears histograms and errno tables too: afterwards they hold only what followed
mkdir $Q/kstat2	# a new directory again: a second miss in one would fetch its listing instead
t kmod_detail_clear qtinfo -C kmod -c
$H seek $Q/big.bin end 0 > /dev/null
stat $Q/kstat2/missing > /dev/null 2>&1
ga=$(/bin/qtfs-nlctl stats | sed -n 's/^op getattr *sent \([0-9]*\) .* answered \([0-9]*\).*/\1:\2/p')
case "$ga" in [1-9]*) eq kmod_hist_cleared "${ga#*:}" "${ga%%:*}" ;; *) fail kmod_hist_cleared "no getattr: '$ga'" ;; esac
eq kmod_errnos_cleared "$(qtinfo kmod stats | sed -n 's/^op lookup .* errnos \([^ ]*\).*/\1/p')" ENOENT:1
o=$($H runas 1000 1000 - qtinfo -C kmod --status 2>&1)
case "$?:$o" in 1:*CAP_NET_ADMIN*) pass qtinfo_component_admin_only ;; *) fail qtinfo_component_admin_only "$o" ;; esac

# ---- qtfs-run over a qtfs.ko mount: mounts and unix connects done on the host ----
# (its own server: host mounts allowed beneath $qt_runexp, an echo server at sock/)
R="qtfs-run -s 10.0.2.2:$qt_rport --"
mkdir -p /mnt/run /tmp/local-mnt /run   # qtfs-run keeps its private sockets under /run
t run_kmod_mount mount -t qtfs -o "server=10.0.2.2,port=$qt_rport" "$qt_runexp" /mnt/run
t run_tmpfs $R mount -t tmpfs qtfsrun /mnt/run/mnts/t
eq run_tmpfs_not_local "$(grep -c ' /mnt/run/mnts/t ' /proc/mounts)" 0
t run_tmpfs_write sh -c 'echo from-guest > /mnt/run/mnts/t/f'
t run_second_tmpfs $R mount -t tmpfs qtfsrun2 /mnt/run/mnts/u
t run_umount $R umount /mnt/run/mnts/u
t run_local_mount $R mount -t tmpfs loc /tmp/local-mnt
eq run_local_mount_local "$(grep -c ' /tmp/local-mnt tmpfs ' /proc/mounts)" 1
umount /tmp/local-mnt
eq run_unix_connect "$($R $H unixecho /mnt/run/sock/echo.sock hello-host 2>&1)" HELLO-HOST
f run_unix_needs_run "err=" $H unixecho /mnt/run/sock/echo.sock hello-host
# a file of the qtfs.ko mount passed to the host server at offset 4 (it reads 4 bytes and
# writes WXYZ through it), and a host file passed back, reopened here at offset 5
printf 0123456789abcdef > /mnt/run/scm.txt
eq run_scm_files "$($R $H scmfile /mnt/run/sock/scm.sock /mnt/run/scm.txt 2>&1 | tr '\n' ' ')" \
	"read:4567 fds:1 back:file-passed "
t run_kmod_umount umount /mnt/run

# ---- stress: many processes, some killed mid-request ----
mkdir $Q/stress
for w in 1 2 3 4 5 6 7 8; do
	( i=0; while [ $i -lt 40 ]; do
		echo "$w-$i" > $Q/stress/f$w; cat $Q/stress/f$w > /dev/null; ls $Q/stress > /dev/null
		stat $Q/big.bin > /dev/null; i=$((i+1)); done ) &
done
nl_reads() { /bin/qtfs-nlctl stats | sed -n 's/^op read *sent \([0-9]*\).*/\1/p'; }
for k in 1 2 3 4 5 6; do
	r0=$(nl_reads)
	( while :; do cat $Q/big.bin > /dev/null; done ) &
	v=$!
	within 20 eval '[ "$(nl_reads)" -ge $((${r0:-0} + 8)) ]' || fail stress_reader_reads "reader $k sent no READs"
	kill -9 $v
done
wait
eq stress_files "$(ls $Q/stress | wc -l)" 8
eq stress_content "$(cat $Q/stress/f3)" "3-39"

# ---- reconnect after a server restart ----
mkfifo $Q/fifo4
cat $Q/fifo4 > /dev/null 2> /tmp/inflight.err &
inflight=$!
# read-write: a read-only open of a small file has its content already (OPEN_READ)
exec 7<> $Q/hello.txt
echo swap-old > $Q/swap.txt
exec 9<> $Q/swap.txt
within 10 waiting_at_host || fail restart_inflight "the fifo reader's OPEN never reached the host"
echo "QTFS-RESTART-SERVER"
conn_dead() { /bin/qtfs-nlctl status | grep -q "^mount $qt_export server 10.0.2.2:$qt_port state 2 "; }
within 30 conn_dead && pass connection_loss_seen || fail connection_loss_seen "state never became 2 (dead)"
hello_answered() { [ "$(cat $Q/hello.txt)" = "hello from host" ]; }
within 60 hello_answered && pass reconnect || fail reconnect "no answer 60 s after the server restart"
eq reopen_after_restart "$(cat <&7)" "hello from host"
f reopen_replaced_file_eio "Input/output error" cat <&9
exec 9<&-
within 10 gone $inflight && wait $inflight
eq inflight_failed_on_restart "$?:$(cat /tmp/inflight.err)" "1:cat: can't open '$Q/fifo4': Connection reset by peer"
exec 7<&-
case "$(/bin/qtfs-nlctl status)" in *"reconnects 0"*) fail reconnect_counted "reconnects 0" ;; *) pass reconnect_counted ;; esac
echo after-restart > $Q/after-restart.txt
eq write_after_reconnect "$(cat $Q/after-restart.txt)" after-restart

# ---- teardown ----
t umount umount $Q
eq no_request_leak "$(/bin/qtfs-nlctl status | sed -n 's/^live_requests //p')" 0
t rmmod rmmod qtfs
eq module_gone "$(grep -cw qtfs /proc/filesystems)" 0
o=$(qtinfo kmod status 2>&1)
case "$?:$o" in 1:*"not loaded"*) pass qtinfo_not_loaded ;; *) fail qtinfo_not_loaded "$o" ;; esac
t helper_fuse_without_module /sbin/mount.qtfs "$qt_export" /mnt/hk -o "server=10.0.2.2:$qt_port"
eq helper_fuse_without_module_type "$(grep ' /mnt/hk ' /proc/mounts | cut -d' ' -f3)" fuse.qtfs
eq helper_fuse_without_module_read "$(cat /mnt/hk/hello.txt)" "hello from host"
t helper_fuse_without_module_umount umount /mnt/hk
dmesg | grep -E 'BUG|Oops|WARNING|leak|qtfs' | grep -vi 'command line' | head -40 | sed 's/^/DMESG /'
dmesg | grep -qE 'BUG|Oops|WARNING:' && fail dmesg_clean "kernel complained" || pass dmesg_clean
echo "QTFS-VM-DONE"
poweroff -f
