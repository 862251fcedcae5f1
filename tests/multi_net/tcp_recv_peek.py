# recv() with MSG_PEEK (extmod/modlwip.c, used by the ESP8266 port) returns
# data without taking it from the socket: the next recv() returns it again.

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
    print("peek", s2.recv(5, socket.MSG_PEEK))
    print("peek", s2.recv(5, socket.MSG_PEEK))
    print("recv", s2.recv(5))
    print("peek", s2.recv(6, socket.MSG_PEEK))
    print("recv", s2.recv(6))
    s2.close()
    s.close()


# Client
def instance1():
    multitest.next()
    s = socket.socket()
    s.connect(socket.getaddrinfo(IP, PORT)[0][-1])
    s.send(b"hello world")
    s.close()
