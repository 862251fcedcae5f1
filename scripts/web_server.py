# The board serves a web page, from "TCP server/client on ESP8266/ESP32"
# (engineersgarage): a browser on the LAN opens http://<board ip>/ and gets
# "Welcome to ESP8266 Server".
import network
import machine

station = network.WLAN(network.STA_IF)
if station.isconnected() == True:
    print("Already connected")
station.active(True)
station.connect("SimNet", "esp8266sim")
while station.isconnected() == False:
    pass
print("Connection successful")
print(station.ifconfig())

html = """<!DOCTYPE html>
<html>
<head> <title>ESP8266 Server</title> </head>
<body>
<h1>Welcome to ESP8266 Server</h1>
</body>
</html>
"""

import socket
addr = socket.getaddrinfo('0.0.0.0', 80)[0][-1]
s = socket.socket()
s.bind(addr)
s.listen(1)
print('listening on', addr)
while True:
    cl, addr = s.accept()
    print('client connected from', addr)
    cl_file = cl.makefile('rwb', 0)
    while True:
        line = cl_file.readline()
        if not line or line == b'\r\n':
            break
    response = html
    cl.send('HTTP/1.0 200 OK\r\nContent-type: text/html\r\n\r\n')
    cl.send(response)
    cl.close()
