# The PC side of the echo demonstration: connect to the board's echo server
# through the forward on 127.0.0.1:PORT, send N lines (a thread sends while
# the main thread reads, as a real client would) and check every line comes
# back, in order. Usage: python3 echo_client.py PORT N
import socket
import sys
import threading
import time

port, n = int(sys.argv[1]), int(sys.argv[2])
lines = [("line %04d of %d: the quick brown fox jumps over the lazy dog\n" % (i, n)).encode() for i in range(n)]


def connect():
    # The forward is open before the board has joined the WiFi and listens:
    # until then the connection is reset. Retry until the first line echoes.
    deadline = time.monotonic() + 20
    while True:
        s = None
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(lines[0])
            f = s.makefile("rb")
            got = f.readline()
            if got == lines[0]:
                return s, f
            print("first echo was %r" % got, file=sys.stderr)
        except OSError as e:
            print("not ready yet: %s" % e, file=sys.stderr)
        if s:
            s.close()
        if time.monotonic() > deadline:
            sys.exit("the board's echo server never answered on port %d" % port)
        time.sleep(0.2)


s, f = connect()
s.settimeout(30)


def send():
    for line in lines[1:]:
        s.sendall(line)


t = threading.Thread(target=send)
t.start()
for i in range(1, n):
    got = f.readline()
    if got != lines[i]:
        sys.exit("line %d: got %r, want %r" % (i, got, lines[i]))
t.join()
s.shutdown(socket.SHUT_WR)
if f.read() != b"":
    sys.exit("extra bytes after the last echo")
s.close()
print("echoed %d lines in order" % n)
