# Sends 20,000 datagrams of 1000 bytes to echo.sim:7 without yielding
# (TestUDPSendBackPressure): the radio queue fills and sendto raises
# OSError(ENOMEM), as on the ESP8266 when it runs out of pbufs.
import network, socket, time
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('SimNet', 'esp8266sim')
while not w.isconnected():
    time.sleep(0.1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a = socket.getaddrinfo('echo.sim', 7)[0][-1]
buf = b'x' * 1000
sent = nomem = 0
t0 = time.ticks_us()
for i in range(20000):
    try:
        s.sendto(buf, a)
        sent += 1
    except OSError as e:
        if e.errno == 12:
            nomem += 1
us = time.ticks_diff(time.ticks_us(), t0)
print('sent', sent, 'ENOMEM', nomem, 'other', 20000 - sent - nomem, 'us', us)
