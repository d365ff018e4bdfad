# unix_echo.py PATH TAG [seqpacket]: a unix socket server answering each message with
# "TAG:" + the message, for as many connections as come, until killed.
import socket, sys, threading

path, tag = sys.argv[1], sys.argv[2].encode()
kind = socket.SOCK_SEQPACKET if sys.argv[3:] == ["seqpacket"] else socket.SOCK_STREAM
server = socket.socket(socket.AF_UNIX, kind)
server.bind(path)
server.listen(256)

def answer(conn):
    with conn:
        while True:
            b = conn.recv(65536)
            if not b:
                return
            conn.sendall(tag + b":" + b)

while True:
    conn, _ = server.accept()
    threading.Thread(target=answer, args=(conn,), daemon=True).start()
