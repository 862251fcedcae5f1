# The network_tcp tutorial's idea: a web page with a table of GPIO levels.
# GPIO 0 and 2 have the module's boot-strap pull-ups, 4 and 5 use the
# chip's pull-up, the rest float; the FLASH button on GPIO 0 is held down.
import machine
import network
import socket
import time

sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect("SimNet", "esp8266sim")
while not sta.isconnected():
    time.sleep_ms(100)

pins = [machine.Pin(i, machine.Pin.IN) for i in (0, 2, 12, 13, 14, 15)]
pins += [machine.Pin(i, machine.Pin.IN, machine.Pin.PULL_UP) for i in (4, 5)]

page = """<!DOCTYPE html>
<html><head><title>ESP8266 Pins</title></head>
<body><h1>ESP8266 Pins</h1><table border="1"><tr><th>Pin</th><th>Value</th></tr>%s</table></body>
</html>
"""

srv = socket.socket()
srv.bind(socket.getaddrinfo("0.0.0.0", 80)[0][-1])
srv.listen(1)
print("listening")
while True:
    conn, peer = srv.accept()
    f = conn.makefile("rwb", 0)
    while True:
        line = f.readline()
        if not line or line == b"\r\n":
            break
    rows = "".join("<tr><td>%s</td><td>%d</td></tr>" % (str(p), p.value()) for p in pins)
    conn.send("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n")
    conn.send(page % rows)
    conn.close()
    print("served", peer[0])
