#!/usr/bin/env bash
# Installs the Debian packages qtfs-swift needs to build, run and test. Idempotent:
# does nothing when everything is present. Needs root (apt-get).
set -euo pipefail
PACKAGES=(
    libfuse3-dev fuse3 liburing-dev libnl-3-dev libnl-genl-3-dev   # build
    python3 python3-cryptography git tar procps util-linux iproute2 attr man-db groff-base systemd   # tests (python3-cryptography: the sealed-frame vectors and the test relay; man-db, groff-base: t06 formats the man pages; systemd: t07 verifies the unit)
    containerd runc docker.io                                      # the offload tests (unmodified containerd and dockerd on the DPU side)
    sshfs openssh-server openssh-client pkg-config                # benchmark (peer, passthrough_ll build)
    qemu-system-x86 busybox-static linux-image-amd64 linux-headers-amd64 gcc make cpio   # kernel module test
    dpkg-dev debhelper dh-dkms fakeroot dkms lintian               # make deb (t97 installs the packages)
)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "qtfs: missing packages: ${missing[*]}; run this as root (sudo $0) to install them" >&2
        exit 1
    fi
    echo "qtfs: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "qtfs: swift is not on PATH (expected Swift 6 at /opt/swift/usr/bin)" >&2; exit 1; }
