# Project 29.2 "As Server" (Freenove ESP8266 kit, chapter TCP/IP): the board
# listens on port 8000, the PC connects, and the board prints and echoes
# everything it receives.
import network
import socket
import time

ssidRouter = "SimNet"          # Enter the router name
passwordRouter = "esp8266sim"  # Enter the router password
port = 8000                    # input the remote port
wlan = None
listenSocket = None


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
    ip = wlan.ifconfig()[0]
    listenSocket = socket.socket()
    listenSocket.bind((ip, port))
    listenSocket.listen(1)
    listenSocket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    print('tcp waiting...')
    while True:
        print("Server IP:", ip, "\tPort:", port)
        print("accepting.....")
        conn, addr = listenSocket.accept()
        print(addr, "connected")
        break
    conn.send('I am Server')
    while True:
        data = conn.recv(1024)
        if(len(data) == 0):
            print("close socket")
            listenSocket.close()
            wlan.disconnect()
            wlan.active(False)
            break
        else:
            print(data)
            ret = conn.send(data)
except:
    print("Close TCP-Server, please reset.")
    if (listenSocket):
        listenSocket.close()
    wlan.disconnect()
    wlan.active(False)
