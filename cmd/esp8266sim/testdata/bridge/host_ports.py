# The board reaches the host's loopback only on allowed ports: it greets the
# program on the allowed port, then tries a port the user did not allow (a
# program listens there too) and is refused as by a closed port: lwIP
# reports a refused connection as ECONNRESET. The test replaces the ports.
import network
import socket
import time

ALLOWED = 8888
DENIED = 9999

wlan = network.WLAN(network.STA_IF)
wlan.active(True)
wlan.connect("SimNet", "esp8266sim")
while not wlan.isconnected():
    time.sleep_ms(100)

s = socket.socket()
s.connect(socket.getaddrinfo("host.sim.internal", ALLOWED)[0][-1])
s.send(b"hello from the board\n")
print("allowed port answered:", s.recv(100))
s.close()

s = socket.socket()
try:
    s.connect(socket.getaddrinfo("host.sim.internal", DENIED)[0][-1])
    print("connected to a port that is not allowed")
except OSError as e:
    print("refused with errno", e.errno)
    raise
finally:
    s.close()
