# sendall() of a block much larger than the ESP8266's TCP send buffer
# (2 x 1460 bytes): every byte arrives, in order.

import socket

PORT = 8000
SIZE = 12000


def pattern(n):
    return bytes((i * 7 + 3) & 0xFF for i in range(n))


# Server
def instance0():
    multitest.globals(IP=multitest.get_network_ip())
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
    s.listen(1)
    multitest.next()
    s2, _ = s.accept()
    total = 0
    ok = True
    while True:
        d = s2.recv(500)
        if not d:
            break
        for i in range(len(d)):
            if d[i] != ((total + i) * 7 + 3) & 0xFF:
                ok = False
        total += len(d)
    print("received", total, "in order", ok)
    s2.close()
    s.close()


# Client
def instance1():
    multitest.next()
    s = socket.socket()
    s.connect(socket.getaddrinfo(IP, PORT)[0][-1])
    data = pattern(SIZE)
    print("sendall returns", s.sendall(data))
    # close() lets lwIP send what is still queued, then the FIN ends the
    # server's recv loop.
    s.close()
