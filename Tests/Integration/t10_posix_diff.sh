#!/usr/bin/env bash
# The same POSIX operations, as root and as three other users, on a local directory and
# through a qtfs mount of another directory on the same file system: results, errnos and
# stat fields must be identical.
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/local" "$WORK/export/remote"
chmod 755 "$WORK"
start_server "$WORK/export"
mount_qtfs "$WORK/export/remote" "$WORK/mnt"
python3 "$REPO/Tests/Integration/posix_diff.py" "$WORK/local" "$WORK/mnt"
server_alive
