# The server closes a connection while data it received is still unread:
# lwIP's tcp_close() answers with a RST instead of a FIN. The client's poll
# reports POLLHUP; its next socket call fails with ECONNRESET (modlwip keeps
# ERR_RST in the socket state and maps it to errno 104) and the one after
# with EBADF (lwip_socket_check_connected marks the socket closed).

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
    print(s2.recv(4))
    multitest.wait("all sent")
    s2.close()  # 6 bytes unread: RST
    multitest.broadcast("closed")
    s.close()


# Client
def instance1():
    multitest.next()
    s = socket.socket()
    s.connect(socket.getaddrinfo(IP, PORT)[0][-1])
    s.send(b"0123")
    s.send(b"456789")
    # Wait until the server has really received the second part.
    s.settimeout(5)
    try:
        s.recv(1)
    except OSError as er:
        print("recv before close", er.errno == errno.ETIMEDOUT)
    multitest.broadcast("all sent")
    multitest.wait("closed")
    poller = select.poll()
    poller.register(s, select.POLLIN)
    ev = poller.poll(2000)
    if not ev:
        # The server's RST was lost: data for the closed connection draws
        # another one.
        s.send(b"more")
        for _ in range(30):
            ev = poller.poll(1000)
            if ev:
                break
    print("reset seen", bool(ev and ev[0][1] & select.POLLHUP))
    # The first call on a reset socket reports the reset, later ones find
    # the socket closed (modlwip's lwip_socket_check_connected).
    for _ in range(2):
        try:
            print(s.recv(10))
        except OSError as er:
            print("error", er.errno, errno.errorcode.get(er.errno))
    s.close()
