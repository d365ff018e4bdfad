#!/usr/bin/env python3
"""Drives `qtfs-rexec -t` on a real pseudo-terminal: checks that the host program sees
the terminal's size (stty size) and a window change forwarded by SIGWINCH.
usage: rexec_pty.py QTFS_REXEC_COMMAND..."""
import fcntl, os, select, signal, struct, sys, termios, time

def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

def read_until(fd, needle, seconds):
    out, end = b"", time.monotonic() + seconds
    while needle not in out:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise SystemExit(f"timed out waiting for {needle!r}; got {out!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            raise SystemExit(f"terminal closed before {needle!r}; got {out!r}")
        out += chunk
    return out

script = 'trap "stty size; exit 0" WINCH; stty size; echo ready; while :; do sleep 0.05; done'
master, slave = os.openpty()
set_size(slave, 41, 103)   # before qtfs-rexec starts: it sends the size it finds
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.execvp(sys.argv[1], sys.argv[1:] + ["/bin/sh", "-c", script])
os.close(slave)
first = read_until(master, b"ready", 20)
if b"41 103" not in first:
    raise SystemExit(f"stty size on the host did not show 41 103: {first!r}")
set_size(master, 27, 88)
os.kill(pid, signal.SIGWINCH)
read_until(master, b"27 88", 20)
_, status = os.waitpid(pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    raise SystemExit(f"qtfs-rexec -t exited with {os.waitstatus_to_exitcode(status)}")
print("pty ok")
