# The live-view click test's board (issue #19): joins SimNet, keeps a TCP
# connection to echo.sim:7 open and prints a numbered tick every half second
# while the echo answers. When the connection ends (the test clicks the
# page's "SimNet down" button) it says how, then waits for the station to
# notice the lost access point, so the trace shows both endings.
import network, socket, time
sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect('SimNet', 'esp8266sim')
while not sta.isconnected():
    time.sleep(0.1)
print('connected', sta.ifconfig()[0])
s = socket.socket()
s.connect(socket.getaddrinfo('echo.sim', 7)[0][-1])
s.settimeout(2)
for i in range(120):
    try:
        s.send(b'tick %d\n' % i)
        s.recv(64)
    except OSError as e:
        print('connection ended', e)
        break
    print('tick', i)
    time.sleep(0.5)
s.close()
for _ in range(150):
    if not sta.isconnected():
        print('wifi lost')
        break
    time.sleep(0.1)
