# Sends 256 KiB to echo.sim:7 and reads it back, driven by select.poll(0):
# a script spinning on a zero-timeout poll (TestPollEchoFastMode).
import network, socket, select, time
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('SimNet', 'esp8266sim')
while not w.isconnected():
    time.sleep(0.1)
s = socket.socket()
s.connect(socket.getaddrinfo('echo.sim', 7)[0][-1])
s.setblocking(False)
p = select.poll()
p.register(s, select.POLLIN | select.POLLOUT)
TOTAL = 256 * 1024
sent = got = 0
buf = b'x' * 1024
while got < TOTAL:
    for obj, ev in p.poll(0):
        if ev & select.POLLOUT and sent < TOTAL:
            try:
                n = s.send(buf)
                if n:
                    sent += n
            except OSError:
                pass
        if ev & select.POLLIN:
            d = s.recv(1024)
            if d:
                got += len(d)
    if sent >= TOTAL:
        p.modify(s, select.POLLIN)
print('done', sent, got)
