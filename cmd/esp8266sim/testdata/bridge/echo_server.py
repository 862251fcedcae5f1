# A line echo server: join SimNet, listen on port 7, accept one client and
# send every line back until the client closes its side, then report how
# many lines were echoed.
import network
import socket
import time

wlan = network.WLAN(network.STA_IF)
wlan.active(True)
wlan.connect("SimNet", "esp8266sim")
while not wlan.isconnected():
    time.sleep_ms(100)
print("connected", wlan.ifconfig()[0])

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(socket.getaddrinfo("0.0.0.0", 7)[0][-1])
s.listen(1)
print("listening on 7")
cl, peer = s.accept()
print("client connected from", peer)
n = 0
while True:
    line = cl.readline()
    if not line:
        break
    cl.write(line)
    n += 1
cl.close()
s.close()
print("echoed", n, "lines")
