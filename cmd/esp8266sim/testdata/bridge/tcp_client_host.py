# scripts/tcp_client.py (Freenove Project 13.1 "As Client") with the PC
# program on the real host: the board finds the host by the name
# host.sim.internal (lwIP's connect takes only IP literals, so the name is
# resolved first). The test replaces the port with the one nc listens on.
import network
import socket
import time

ssidRouter = "SimNet"          # Enter the router name
passwordRouter = "esp8266sim"  # Enter the router password
port = 8888                    # input the remote port
host = 'host.sim.internal'   # the PC: the real host running nc

wlan = None
s = None


def connectWifi(ssid, passwd):
    global wlan
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.disconnect()
    wlan.connect(ssid, passwd)
    while(wlan.ifconfig()[0] == '0.0.0.0'):
        time.sleep(1)
    return True


try:
    connectWifi(ssidRouter, passwordRouter)
    addr = socket.getaddrinfo(host, port)[0][-1]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.connect(addr)
    print("TCP Connected to:", host, ":", port)
    s.send('Hello')
    s.send('This is my IP.')
    while True:
        data = s.recv(1024)
        if(len(data) == 0):
            print("Close socket")
            s.close()
            break
        print(data)
        ret = s.send(data)
except:
    print("TCP close, please reset!")
    if (s):
        s.close()
    wlan.disconnect()
    wlan.active(False)
