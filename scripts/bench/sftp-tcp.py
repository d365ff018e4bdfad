#!/usr/bin/env python3
"""sftp-tcp.py PORT [SFTP_SERVER]: serves OpenSSH's sftp-server on 127.0.0.1:PORT over plain
TCP (no ssh, no encryption) for `sshfs -o directport=PORT`, so the benchmark can show sshfs
without ssh's cipher cost. Each connection gets its own sftp-server process (forked, the
socket as its stdin and stdout), as sshd would start one per session. Loopback only; runs
until killed."""
import os
import signal
import socket
import sys

port = int(sys.argv[1])
server = sys.argv[2] if len(sys.argv) > 2 else "/usr/lib/openssh/sftp-server"
if not os.access(server, os.X_OK):
    sys.exit(f"sftp-tcp: {server} is not an executable sftp-server (install openssh-server)")
signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # children are reaped by the kernel
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
while True:
    conn, _ = listener.accept()
    if os.fork() == 0:
        listener.close()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        os.dup2(conn.fileno(), 0)
        os.dup2(conn.fileno(), 1)
        conn.close()
        os.execv(server, [server])
    conn.close()
