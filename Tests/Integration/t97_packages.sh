#!/usr/bin/env bash
# The Debian packages (docs/packages.md): `make deb`, lintian without errors, apt installs
# qtfs-server, qtfs-client and qtfs-dkms (DKMS builds qtfs.ko for the kernel that has
# headers), the demo runs from the installed files only, and purge leaves nothing behind.
# The packages are purged on every exit, so a failure leaves the machine as it was.
source "$(dirname "$0")/lib.sh"
PACKAGES=(qtfs-server qtfs-client qtfs-dkms)
VERSION=$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)
DEBS=$WORK/debs
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH
export DEBIAN_FRONTEND=noninteractive

# Files each package must install (more may come with them: docs, man page links).
EXPECT_qtfs_server="/usr/bin/qtfs-server /lib/systemd/system/qtfs-server.service /etc/qtfs/server.conf
    /etc/qtfs/whitelist /etc/rexec/whitelist
    /usr/share/man/man8/qtfs-server.8.gz /usr/share/man/man5/qtfs-server.conf.5.gz /usr/share/man/man5/qtfs-whitelist.5.gz"
EXPECT_qtfs_client="/usr/bin/qtfs-fuse /sbin/mount.qtfs /usr/bin/qtfs-rexec /usr/bin/rexec /usr/bin/qtfs-run
    /usr/bin/qtinfo /etc/qtfs/client.conf /usr/share/man/man8/qtfs-fuse.8.gz /usr/share/man/man8/mount.qtfs.8.gz
    /usr/share/man/man8/qtfs-run.8.gz /usr/share/man/man8/qtinfo.8.gz /usr/share/man/man1/qtfs-rexec.1.gz
    /usr/share/man/man1/rexec.1.gz /usr/share/man/man5/qtfs-client.conf.5.gz"
EXPECT_qtfs_dkms="/usr/src/qtfs-$VERSION/dkms.conf /usr/src/qtfs-$VERSION/Kbuild /usr/src/qtfs-$VERSION/main.c
    /usr/src/qtfs-$VERSION/include/qtfs/qtfs_wire.h /usr/src/qtfs-$VERSION/include/qtfs/qtfs_genl.h"
expected() { local v="EXPECT_${1//-/_}"; echo "${!v}"; }

installed_pkgs() { local p; for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 && echo "$p"; done; true; }
purge_all() {
    local left; left=$(installed_pkgs)
    [ -z "$left" ] || apt-get purge -y -qq $left >"$WORK/purge.log" 2>&1
}
t97_cleanup() {
    local rc=$?
    local m; for m in "${MOUNTS[@]:-}"; do [ -n "$m" ] && { umount -l "$m" 2>/dev/null || true; }; done
    purge_all || { log "purge failed:"; cat "$WORK/purge.log" >&2; rc=1; }
    cleanup
    exit "$rc"
}
trap t97_cleanup EXIT

# Nothing of ours may be on the machine already: the test would overwrite, then purge it.
preconditions() {
    [ -z "$(installed_pkgs)" ] || fail "already installed: $(installed_pkgs | xargs); purge them first"
    local p f
    for p in "${PACKAGES[@]}"; do
        for f in $(expected "$p"); do
            [ -e "$f" ] || [ -L "$f" ] && fail "$f exists before the install (make install? remove it with make uninstall)"
        done
    done
    ETC_QTFS_EXISTED=0; [ -d /etc/qtfs ] && ETC_QTFS_EXISTED=1
    KVER=$(basename "$(dirname "$(ls -d /lib/modules/*/build | sort -V | tail -1)")")
    [ -d "/lib/modules/$KVER/build" ] || fail "no kernel headers in /lib/modules/*/build (scripts/deps.sh installs linux-headers-amd64)"
    true
}

build_and_lint() {
    log "make deb"
    make -C "$REPO" deb DEB_OUT="$DEBS" >"$WORK/deb.log" 2>&1 || { tail -30 "$WORK/deb.log" >&2; fail "make deb failed"; }
    local p; for p in "${PACKAGES[@]}"; do ls "$DEBS/${p}_${VERSION}_"*.deb >/dev/null || fail "make deb made no $p package"; done
    log "lintian"
    lintian --fail-on error "$DEBS"/*.changes >"$WORK/lintian.log" 2>&1 || { cat "$WORK/lintian.log" >&2; fail "lintian reports errors"; }
    grep '^[EW]:' "$WORK/lintian.log" >&2 || true
}

install_packages() {
    log "apt-get install"
    local debs=() p
    for p in "${PACKAGES[@]}"; do debs+=("$DEBS/${p}_${VERSION}_"*.deb); done
    apt-get install -y -qq --no-install-recommends "${debs[@]}" >"$WORK/install.log" 2>&1 ||
        { tail -30 "$WORK/install.log" >&2; fail "apt-get install of the packages failed"; }
    local f
    for p in "${PACKAGES[@]}"; do
        for f in $(expected "$p"); do
            [ "$(dpkg -S "$f" 2>/dev/null | cut -d: -f1)" = "$p" ] || fail "$p does not install $f"
        done
    done
}

check_dkms() {
    dkms status qtfs -k "$KVER" | has "installed" || fail "DKMS did not build and install qtfs for $KVER: $(dkms status)"
    local ko="/lib/modules/$KVER/updates/dkms/qtfs.ko"
    [ -e "$ko" ] || [ -e "$ko.xz" ] || fail "no $ko after the install"
    modinfo -F vermagic "$ko"* | has "^$KVER " || fail "$ko is not built for $KVER"
}

# No library from the Swift toolchain: the packages depend on Debian's libraries only.
check_libraries() {
    local b
    for b in qtfs-server qtfs-fuse qtfs-rexec qtfs-run qtinfo; do
        ! ldd "/usr/bin/$b" 2>&1 | has -E '/opt/|not found' || fail "/usr/bin/$b loads libraries from outside Debian: $(ldd "/usr/bin/$b")"
    done
}

# The demo from the installed files only: server, `mount -t qtfs` (mount.qtfs), a read, a
# write, remote exec with a whitelist, the man pages.
run_demo() {
    BIN=/usr/bin
    KEY=$WORK/installed.key; /usr/bin/qtfs-server --generate-key "$KEY" >/dev/null
    printf '%s\n' /usr/bin/true > "$WORK/rexec-whitelist"
    mkdir -p "$WORK/export" "$WORK/mnt"
    echo "from host" > "$WORK/export/hello"
    SERVER_ARGS="--rexec-whitelist $WORK/rexec-whitelist" start_server "$WORK/export"
    mount -t qtfs -o "server=127.0.0.1:$PORT,key=$KEY" "$WORK/export" "$WORK/mnt" || fail "mount -t qtfs through the package's mount.qtfs failed"
    MOUNTS+=("$WORK/mnt")
    [ "$(cat "$WORK/mnt/hello")" = "from host" ] || fail "read through the mount"
    echo "from dpu" > "$WORK/mnt/written"
    [ "$(cat "$WORK/export/written")" = "from dpu" ] || fail "a write through the mount did not reach the host"
    umount "$WORK/mnt" || fail "umount of the qtfs mount"
    /usr/bin/qtfs-rexec -s "127.0.0.1:$PORT" -k "$KEY" /usr/bin/true || fail "qtfs-rexec /usr/bin/true (whitelisted) failed"
    # `rexec` takes upstream's form: the server from CMD_NET_ADDR, the key from client.conf.
    printf 'key_file = %s\n' "$KEY" > "$WORK/client.conf"
    CMD_NET_ADDR="tcp://127.0.0.1:$PORT" QTFS_CLIENT_CONF=$WORK/client.conf /usr/bin/rexec /usr/bin/true ||
        fail "rexec (the link, upstream's form) /usr/bin/true failed"
    ! /usr/bin/qtfs-rexec -s "127.0.0.1:$PORT" -k "$KEY" /usr/bin/id >/dev/null 2>&1 || fail "qtfs-rexec ran /usr/bin/id, which the whitelist does not name"
    /usr/bin/qtinfo --help >/dev/null || fail "qtinfo --help"
    [ "$(man -w qtfs-fuse)" = /usr/share/man/man8/qtfs-fuse.8.gz ] || fail "man -w qtfs-fuse: $(man -w qtfs-fuse 2>&1)"
    man -w 5 qtfs-server.conf >/dev/null || fail "no man page qtfs-server.conf(5)"
}

# Purge, then nothing of the packages may be left: each file dpkg listed, the DKMS source
# tree and build, the module.
purge_and_check() {
    local p f
    for p in "${PACKAGES[@]}"; do dpkg -L "$p" >>"$WORK/listed"; done
    log "apt-get purge"
    apt-get purge -y -qq "${PACKAGES[@]}" >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log" >&2; fail "apt-get purge failed"; }
    while read -r f; do
        if [ -d "$f" ]; then   # shared directories stay (/usr/bin; /lib, a link to usr/lib)
            [ -L "$f" ] || [ -n "$(ls -A "$f")" ] || dpkg -S "$f" >/dev/null 2>&1 || fail "empty directory $f is left after purge"
            continue
        fi
        [ -e "$f" ] || [ -L "$f" ] && fail "$f is left after purge"
    done <"$WORK/listed"
    for f in /usr/src/qtfs-* /var/lib/dkms/qtfs /lib/modules/*/updates/dkms/qtfs.ko*; do
        [ -e "$f" ] && fail "$f is left after purge"
    done
    [ "$ETC_QTFS_EXISTED" = 1 ] || [ ! -e /etc/qtfs ] || fail "/etc/qtfs is left after purge: $(ls -A /etc/qtfs)"
    [ -z "$(dkms status qtfs)" ] || fail "dkms status still lists qtfs: $(dkms status qtfs)"
}

preconditions
build_and_lint
install_packages
check_dkms
check_libraries
run_demo
purge_and_check
log "PASS"
