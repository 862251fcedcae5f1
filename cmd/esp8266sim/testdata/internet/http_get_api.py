# HTTP GET over a raw socket, printed in 200-byte chunks.
# From "Socket programming in ESP8266 using MicroPython" and the TCP client
# example of "TCP server/client on ESP8266/ESP32" (engineersgarage): join the
# WiFi, then fetch http://micropython.org/ks/test.html.
import network

station = network.WLAN(network.STA_IF)
if station.isconnected() == True:
    print("Already connected")
station.active(True)
station.connect("SimNet", "esp8266sim")
while station.isconnected() == False:
    pass
print("Connection successful")
print(station.ifconfig())


def http_get(url):
    import socket
    _, _, host, path = url.split('/', 3)
    addr = socket.getaddrinfo(host, 80)[0][-1]
    s = socket.socket()
    s.connect(addr)
    s.send(bytes('GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n' % (path, host), 'utf8'))
    while True:
        data = s.recv(200)
        if data:
            print(str(data, 'utf8'), end='')
        else:
            break
    s.close()


http_get('http://api.test/ks/test.html')
