#!/usr/bin/env bash
# A name longer than 255 bytes gets ENAMETOOLONG from every call through the mount, as on
# a local file system (compared with a tmpfs directory; the export is a tmpfs too), also
# in a directory whose listing the client has prefetched. It used to be ENOENT, answered
# from the directory snapshot or a negative entry.
source "$(dirname "$0")/lib.sh"
mount_tmpfs "$WORK/local" "$WORK/export"
start_server "$WORK/export"
mount_qtfs "$WORK/export" "$WORK/mnt"
M=$WORK/mnt

# Runs the same calls in DIR and prints one line per call: its name and errno (or "ok").
cat > "$WORK/names.py" <<'PY'
import errno, os, sys
d = sys.argv[1]
long = os.path.join(d, "x" * 256)
longdir = os.path.join(d, "sub", "y" * 300)
max_ok = os.path.join(d, "m" * 255)
def call(name, f):
    try:
        f(); print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
os.mkdir(os.path.join(d, "sub"))
for i in range(5):
    open(os.path.join(d, "sub", "f%d" % i), "w").close()
for miss in ("miss1", "miss2"):   # two misses: the client fetches sub's listing
    call("stat " + miss, lambda: os.stat(os.path.join(d, "sub", miss)))
for path in (long, longdir):
    tag = "sub/" if "sub" in path else ""
    call(tag + "stat", lambda: os.stat(path))
    call(tag + "lstat", lambda: os.lstat(path))
    call(tag + "chmod", lambda: os.chmod(path, 0o600))
    call(tag + "rmdir", lambda: os.rmdir(path))
    call(tag + "unlink", lambda: os.unlink(path))
    call(tag + "open", lambda: os.close(os.open(path, os.O_RDONLY)))
    call(tag + "creat", lambda: os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)))
    call(tag + "mkdir", lambda: os.mkdir(path))
    call(tag + "symlink", lambda: os.symlink("t", path))
    call(tag + "link", lambda: os.link(os.path.join(d, "sub", "f0"), path))
    call(tag + "rename", lambda: os.rename(os.path.join(d, "sub", "f1"), path))
call("255 bytes: creat", lambda: os.close(os.open(max_ok, os.O_CREAT | os.O_WRONLY, 0o644)))
call("255 bytes: stat", lambda: os.stat(max_ok))
PY
log "names longer than 255 bytes"
python3 "$WORK/names.py" "$WORK/local" > "$WORK/names.local"
python3 "$WORK/names.py" "$M" > "$WORK/names.mnt"
grep -q "^sub/chmod ENAMETOOLONG$" "$WORK/names.local" || fail "the local reference is not ENAMETOOLONG: $(cat "$WORK/names.local")"
diff "$WORK/names.local" "$WORK/names.mnt" || fail "long names: the mount differs from tmpfs (< local, > mount)"

server_alive
log "ok"
