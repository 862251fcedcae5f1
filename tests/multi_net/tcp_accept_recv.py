# accept() then recv(): the accepted socket gets the client's data, while
# recv() on the listening socket fails with ENOTCONN (modlwip: a listening
# socket is "not the accepted connection"), blocking or not.

import socket, errno

PORT = 8000


# Server
def instance0():
    multitest.globals(IP=multitest.get_network_ip())
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
    s.listen(2)
    multitest.next()
    for blocking in (True, False):
        c, addr = s.accept()
        print("accepted, peer address is a tuple", type(addr) is tuple)
        s.setblocking(blocking)
        try:
            print("recv", s.recv(10))
        except OSError as er:
            print("listening socket recv:", er.errno == errno.ENOTCONN)
        s.setblocking(True)
        print("accepted socket recv:", c.recv(7))
        c.close()
        multitest.broadcast("done %s" % blocking)
    s.close()


# Client
def instance1():
    multitest.next()
    for blocking in (True, False):
        s = socket.socket()
        s.connect(socket.getaddrinfo(IP, PORT)[0][-1])
        s.send(b"request")
        multitest.wait("done %s" % blocking)
        s.close()
