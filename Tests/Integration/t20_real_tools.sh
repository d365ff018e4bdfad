#!/usr/bin/env bash
# Real tools through the mount: tar, diff -r, cp -a, find, git, and a 1 GiB file.
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/export" "$WORK/local"
start_server "$WORK/export"
mount_qtfs "$WORK/export" "$WORK/mnt"
# The mount raised its kernel readahead to one 1 MiB READ (readahead_kb, docs/client.md).
ra=$(cat "/sys/class/bdi/$(stat -c %Hd:%Ld "$WORK/mnt")/read_ahead_kb")
[ "$ra" = 1024 ] || fail "read_ahead_kb of the mount is $ra, expected 1024"
M=$WORK/mnt

# A real tree with symlinks, permissions and nested directories: this repository's sources
# plus a system directory.
tar -C "$REPO" -cf "$WORK/src.tar" Sources Tests docs
tar -C /usr/share -rf "$WORK/src.tar" zoneinfo 2>/dev/null || true

log "tar extract into the mount and locally"
tar -C "$M" -xf "$WORK/src.tar"
tar -C "$WORK/local" -xf "$WORK/src.tar"
diff -r --no-dereference "$WORK/local" "$M" || fail "diff -r after tar extract"
diff -r --no-dereference "$WORK/local" "$WORK/export" || fail "host side differs from what was written"

log "tar create from the mount matches"
(cd "$M" && tar -cf - . | tar -tvf - | awk '{print $1, $3, $6}' | sort) > "$WORK/remote.lst"
(cd "$WORK/local" && tar -cf - . | tar -tvf - | awk '{print $1, $3, $6}' | sort) > "$WORK/local.lst"
diff "$WORK/local.lst" "$WORK/remote.lst" || fail "tar listing differs"

log "cp -a within the mount keeps modes, times and links"
cp -a "$M/Sources" "$M/copy"
diff -r --no-dereference "$WORK/local/Sources" "$M/copy" || fail "cp -a copy differs"
[ "$(find "$M/Sources" -printf '%m %s %T@ %p\n' | sed "s|$M/Sources||" | sort)" = \
  "$(find "$M/copy" -printf '%m %s %T@ %p\n' | sed "s|$M/copy||" | sort)" ] || fail "cp -a lost modes or times"

log "find sees the same tree"
[ "$(cd "$M" && find . -path ./copy -prune -o -print | sort)" = "$(cd "$WORK/local" && find . | sort)" ] || fail "find differs"
[ "$(find "$M" -type l | wc -l)" -eq "$(find "$WORK/local" -type l | wc -l)" ] || fail "symlink count differs"

log "git init/add/commit/status/fsck in the mount"
cd "$M/Sources"
git init -q
git -c user.name=t -c user.email=t@t add -A
git -c user.name=t -c user.email=t@t commit -qm "through qtfs"
[ -z "$(git status --porcelain)" ] || fail "git status not clean after commit"
echo change >> QtfsProtocol/Wire.swift
[ "$(git status --porcelain)" = " M QtfsProtocol/Wire.swift" ] || fail "git does not see a change"
git checkout -q -- QtfsProtocol/Wire.swift
git fsck --no-progress >/dev/null 2>&1 || fail "git fsck"
git -C "$WORK/export/Sources" log --oneline | has "through qtfs" || fail "host does not see the commit"
cd "$WORK"

log "ls -l asks the host about each file's label and ACL once per attribute timeout"
getxattr_requests() { op_count "server-$SERVER_PID" getxattr; }   # this test's server only
mkdir "$M/xa"
for i in $(seq 50); do : > "$M/xa/f$i"; done
sleep 1.2   # past the 1 s attribute timeout
n0=$(getxattr_requests); ls -l "$M/xa" >/dev/null
n1=$(getxattr_requests); ls -l "$M/xa" >/dev/null
n2=$(getxattr_requests)
[ $((n1 - n0)) -ge 50 ] || fail "the first ls -l of 50 files asked the host $((n1 - n0)) times"
[ "$n2" = "$n1" ] || fail "a second ls -l within the attribute timeout asked the host $((n2 - n1)) times"
# An ACL the host gives a file that was found without one shows once the timeout has passed.
python3 - "$WORK/export/xa/f7" <<'EOF'
import os, struct, sys
entries = [(0x01, 6, 0xFFFFFFFF), (0x02, 4, 1000), (0x04, 4, 0xFFFFFFFF), (0x10, 4, 0xFFFFFFFF), (0x20, 4, 0xFFFFFFFF)]
os.setxattr(sys.argv[1], "system.posix_acl_access", struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries))
EOF
[ "$(ls -l "$WORK/export/xa/f7" | cut -c11)" = + ] || fail "the host does not show the ACL it was given"
sleep 1.2
[ "$(ls -l "$M/xa/f7" | cut -c11)" = + ] || fail "an ACL set on the host is not seen after the attribute timeout: $(ls -l "$M/xa/f7")"
setfattr -n user.t20 -v one "$M/xa/f8" && [ "$(getfattr --only-values -n user.t20 "$M/xa/f8")" = one ] ||
    fail "a user xattr set through the mount does not read back"

log "1 GiB file written and read back"
head -c 1073741824 /dev/urandom | tee "$M/big" | sha256sum | cut -d' ' -f1 > "$WORK/big.sum"
[ "$(sha256sum < "$M/big" | cut -d' ' -f1)" = "$(cat "$WORK/big.sum")" ] || fail "1 GiB readback checksum"
[ "$(sha256sum < "$WORK/export/big" | cut -d' ' -f1)" = "$(cat "$WORK/big.sum")" ] || fail "1 GiB host-side checksum"
rm "$M/big"
[ ! -e "$WORK/export/big" ] || fail "unlink did not reach the host"
server_alive
