# Client sockets, from "ESP32 In MicroPython: Client Sockets" (Fairhead &
# James), run on the ESP8266 profile: getaddrinfo, the address tuple,
# inet_ntop/inet_pton, a plain HTTP client and an HTTPS client over ssl.
import network
import socket
import ssl
import time

wlan = network.WLAN(network.STA_IF)
wlan.active(True)
wlan.connect("SimNet", "esp8266sim")
while not wlan.isconnected():
    time.sleep(0.5)
print("connected", wlan.ifconfig()[0])

ai = socket.getaddrinfo("www.example.com", 80, socket.AF_INET, socket.SOCK_DGRAM)
print(ai)
addr = ai[0][-1]
print(addr)

# The book's address conversions. The ESP8266 port's lwIP socket module
# (extmod/modlwip.c) has no inet_pton/inet_ntop, unlike the ESP32 the book
# targets, so on this board the call raises AttributeError.
try:
    packed = socket.inet_pton(socket.AF_INET, addr[0])
    print(packed)
    print(socket.inet_ntop(socket.AF_INET, packed))
except AttributeError as e:
    print("not on the ESP8266:", e)

s = socket.socket()
s.connect(addr)
request = b"GET / HTTP/1.1\r\nHost:example.org\r\n\r\n"
s.send(request)
print(s.recv(512))
s.close()

ai = socket.getaddrinfo("www.example.com", 443)
addr = ai[0][-1]
s = socket.socket()
s.connect(addr)
ss = ssl.wrap_socket(s)
ss.write(b"GET / HTTP/1.1\r\nHost:example.org\r\nConnection: close\r\n\r\n")
print(ss.read(512))
ss.close()
