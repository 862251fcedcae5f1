# Non-blocking recv: EAGAIN while nothing has arrived, the data once it
# has, and b'' (not EAGAIN) once the peer has closed (modlwip's
# lwip_tcp_receive checks STATE_PEER_CLOSED first). A non-blocking connect
# raises EINPROGRESS.

import socket, select, errno

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
    multitest.wait("tried")
    s2.send(b"now there is data")
    multitest.wait("got data")
    s2.close()
    multitest.broadcast("closed")
    s.close()


# Client
def instance1():
    multitest.next()
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(socket.getaddrinfo(IP, PORT)[0][-1])
    except OSError as er:
        print("connect", er.errno == errno.EINPROGRESS)
    poller = select.poll()
    poller.register(s, select.POLLOUT)
    print("writable", len(poller.poll(20000)))
    try:
        print(s.recv(10))
    except OSError as er:
        print("recv before data", er.errno == errno.EAGAIN)
    multitest.broadcast("tried")
    poller.modify(s, select.POLLIN)
    data = b""
    while len(data) < 17:
        poller.poll(5000)
        try:
            data += s.recv(17 - len(data))
        except OSError as er:
            if er.errno != errno.EAGAIN:
                raise
    print(data)
    multitest.broadcast("got data")
    multitest.wait("closed")
    for _ in range(50):
        poller.poll(1000)
        try:
            print("recv after close", s.recv(10))
            break
        except OSError as er:
            if er.errno != errno.EAGAIN:
                raise
    s.close()
