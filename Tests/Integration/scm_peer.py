"""Both ends of a unix socket that pass file descriptors (SCM_RIGHTS), for the socket
bridge tests. Each line the client prints is checked by the test.

  scm_peer.py serve PATH HOSTFILE      answers requests (host side, or a DPU server)
  scm_peer.py client PATH FILE LOCAL   passes FILE, a pipe, a socket and LOCAL; asks for
                                       a file, a pipe and a socket back
  scm_peer.py pass PATH FILE           passes FILE (offset 2), prints the answer and the
                                       file passed back
SCM_PEER_TYPE=seqpacket: SOCK_SEQPACKET sockets instead of SOCK_STREAM.
"""
import os, socket, sys

KIND = socket.SOCK_SEQPACKET if os.environ.get("SCM_PEER_TYPE") == "seqpacket" else socket.SOCK_STREAM

def unix():
    return socket.socket(socket.AF_UNIX, KIND)

def recv_msg(c):
    msg, fds, _, _ = socket.recv_fds(c, 1000, 8)
    return msg, fds

def read_all(fd):
    data = b""
    while True:
        b = os.read(fd, 100)
        if not b: return data
        data += b

def serve_one(c, hostfile):
    """Requests: 'file' + fd (read 4 bytes at its offset, write WXYZ through it), 'pipe' +
    fd (read it to the end), 'sock' + fd, 'give' (a file of ours at offset 5 comes back),
    'give-pipe' (a pipe comes back, with data), 'give-sock' (a socket comes back)."""
    while True:
        msg, fds = recv_msg(c)
        if not msg:
            return
        if msg == b"file":
            got = os.read(fds[0], 4) if fds else b"none"
            if fds:
                os.write(fds[0], b"WXYZ")
            c.sendall(b"read:%s fds:%d" % (got, len(fds)))
        elif msg == b"pipe":
            c.sendall(b"pipe fds:%d data:%s" % (len(fds), read_all(fds[0]) if fds else b"-"))
        elif msg == b"sock":
            c.sendall(b"sock fds:%d" % len(fds))
        elif msg == b"give":
            fd = os.open(hostfile, os.O_RDONLY); os.lseek(fd, 5, os.SEEK_SET)
            socket.send_fds(c, [b"back"], [fd]); os.close(fd)
        elif msg == b"give-pipe":
            r, w = os.pipe()
            socket.send_fds(c, [b"pipe-back"], [r]); os.close(r)
            os.write(w, b"from the host"); os.close(w)
        elif msg == b"give-sock":
            a, b = socket.socketpair()
            socket.send_fds(c, [b"sock-back"], [a.fileno()]); a.close(); b.close()
        for fd in fds:
            os.close(fd)

def serve(path, hostfile):
    s = unix(); s.bind(path); s.listen(8)
    while True:
        c, _ = s.accept()
        with c:
            serve_one(c, hostfile)

def client(path, file, local):
    c = unix(); c.settimeout(20); c.connect(path)
    fd = os.open(file, os.O_RDWR); os.lseek(fd, 4, os.SEEK_SET)
    socket.send_fds(c, [b"file"], [fd])
    print(c.recv(100).decode())
    r, w = os.pipe()
    socket.send_fds(c, [b"pipe"], [r]); os.close(r)
    os.write(w, b"through the pipe"); os.close(w)
    print(c.recv(100).decode())
    a, b = socket.socketpair()
    socket.send_fds(c, [b"sock"], [a.fileno()])
    print(c.recv(100).decode())
    c.sendall(b"give")
    msg, fds = recv_msg(c)
    print(msg.decode(), len(fds), os.read(fds[0], 100).decode() if fds else "-")
    c.sendall(b"give-pipe")
    msg, fds = recv_msg(c)
    print(msg.decode(), len(fds), read_all(fds[0]).decode() if fds else "-")
    c.sendall(b"give-sock")
    msg, fds = recv_msg(c)
    print(msg.decode(), len(fds))
    lfd = os.open(local, os.O_RDWR)
    socket.send_fds(c, [b"file"], [lfd])
    print(c.recv(100).decode())

def pass_file(path, file):
    c = unix(); c.settimeout(20); c.connect(path)
    fd = os.open(file, os.O_RDONLY); os.lseek(fd, 2, os.SEEK_SET)
    socket.send_fds(c, [b"take"], [fd])
    msg, fds = recv_msg(c)
    print(msg.decode(), len(fds), os.read(fds[0], 100).decode() if fds else "-")

def answer_pass(path, file):
    """A DPU server for pass_file: reads the passed file, passes FILE back."""
    s = unix(); s.bind(path); s.listen(1)
    c, _ = s.accept()
    msg, fds = recv_msg(c)
    got = os.read(fds[0], 100) if fds else b"-"
    fd = os.open(file, os.O_RDONLY)
    socket.send_fds(c, [b"%s:%s" % (msg, got)], [fd])
    c.recv(10)

if __name__ == "__main__":
    {"serve": serve, "client": client, "pass": pass_file, "answer": answer_pass}[sys.argv[1]](*sys.argv[2:])
