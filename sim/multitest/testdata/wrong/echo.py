# A correct test whose .exp is deliberately wrong: the runner must report
# FAIL with a readable diff.

import socket

PORT = 8000


def instance0():
    multitest.globals(IP=multitest.get_network_ip())
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
    s.listen(1)
    multitest.next()
    s2, _ = s.accept()
    print(s2.recv(5))
    s2.send(b"world")
    s2.close()
    s.close()


def instance1():
    multitest.next()
    s = socket.socket()
    s.connect(socket.getaddrinfo(IP, PORT)[0][-1])
    s.send(b"hello")
    print(s.recv(5))
    s.close()
