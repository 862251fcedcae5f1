# The peer closes mid-stream: what it sent before its FIN is still read,
# then recv() returns b'' (lwIP marks the socket peer-closed), again and
# again; the closed side's accept socket is unaffected.

import socket

PORT = 8000


# Server
def instance0():
    multitest.globals(IP=multitest.get_network_ip())
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
    s.listen(1)
    multitest.next()
    s2, _ = s.accept()
    print(s2.recv(5))
    s2.send(b"last words")
    s2.close()
    multitest.broadcast("closed")
    s.close()


# Client
def instance1():
    multitest.next()
    s = socket.socket()
    s.connect(socket.getaddrinfo(IP, PORT)[0][-1])
    s.send(b"hello")
    multitest.wait("closed")
    data = b""
    while len(data) < 10:
        d = s.recv(10 - len(data))
        if not d:
            break
        data += d
    print(data)
    print(s.recv(10))
    print(s.recv(10))
    s.close()
