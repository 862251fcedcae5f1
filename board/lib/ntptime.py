# The board's ntptime (micropython-lib's, frozen by bundle-networking),
# written for this simulator: one SNTP query over UDP, the RTC set in UTC.
# host and timeout may be changed at runtime; a silent server ends in the
# socket's OSError (ETIMEDOUT), an unknown name in getaddrinfo's.
import socket
import struct
from time import gmtime

host = "pool.ntp.org"
timeout = 1


def time():
    q = bytearray(48)
    q[0] = 0x1B  # LI 0, version 3, mode 3 (client)
    addr = socket.getaddrinfo(host, 123)[0][-1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(q, addr)
        reply = s.recv(48)
    finally:
        s.close()
    secs = struct.unpack("!I", reply[40:44])[0]
    # Seconds before 2024 mean the 32-bit NTP era wrapped (after 2036).
    if secs < 3913056000:
        secs += 0x100000000
    epoch = gmtime(0)[0]
    if epoch == 2000:
        return secs - 3155673600
    if epoch == 1970:
        return secs - 2208988800
    raise Exception("Unsupported epoch: {}".format(epoch))


def settime():
    t = gmtime(time())
    import machine

    machine.RTC().datetime((t[0], t[1], t[2], t[6] + 1, t[3], t[4], t[5], 0))
