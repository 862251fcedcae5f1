# UDP datagrams both ways: the client sends numbered requests, the server
# answers each one. Lost datagrams are sent again after a timeout, so the
# output is the same on a lossy network.

import socket

PORT = 8000
COUNT = 5


# Server
def instance0():
    multitest.globals(IP=multitest.get_network_ip())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
    multitest.next()
    seen = set()
    s.settimeout(3)
    while True:
        try:
            data, addr = s.recvfrom(100)
        except OSError:
            if len(seen) == COUNT:
                break
            continue
        n = int(data.split()[1])
        if n not in seen:
            print("server got", data)
            seen.add(n)
        s.sendto(b"reply %d" % n, addr)
    s.close()


# Client
def instance1():
    multitest.next()
    ai = socket.getaddrinfo(IP, PORT)[0][-1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    for i in range(COUNT):
        while True:
            s.sendto(b"request %d" % i, ai)
            try:
                data, addr = s.recvfrom(100)
            except OSError:
                continue
            if data == b"reply %d" % i:
                print("client got", data, "from server", addr == ai)
                break
    s.close()
