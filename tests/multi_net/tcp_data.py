# TCP data both ways: the client sends, the server answers, several rounds,
# then a block larger than one segment in each direction.

import socket

PORT = 8000
ROUNDS = 3
BIG = 3000  # more than one 1460-byte segment


def recv_exactly(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            break
        buf += d
    return buf


# Server
def instance0():
    multitest.globals(IP=multitest.get_network_ip())
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
    s.listen(1)
    multitest.next()
    s2, _ = s.accept()
    for i in range(ROUNDS):
        data = recv_exactly(s2, 8)
        print("server got", data)
        s2.send(b"reply %d" % i)
    big = recv_exactly(s2, BIG)
    print("server got big", len(big), big == bytes(i % 251 for i in range(BIG)))
    s2.write(bytes(i % 241 for i in range(BIG)))
    s2.close()
    s.close()


# Client
def instance1():
    multitest.next()
    s = socket.socket()
    s.connect(socket.getaddrinfo(IP, PORT)[0][-1])
    for i in range(ROUNDS):
        s.send(b"round %2d" % i)
        print("client got", recv_exactly(s, 7))
    s.write(bytes(i % 251 for i in range(BIG)))
    big = recv_exactly(s, BIG)
    print("client got big", len(big), big == bytes(i % 241 for i in range(BIG)))
    print("client got after close", s.recv(10))
    s.close()
