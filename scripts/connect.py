# Join the WiFi network and print the address DHCP gave us: the first lines
# of every ESP8266 networking tutorial.
import network
import time

SSID = 'SimNet'
PASSWORD = 'esp8266sim'

sta = network.WLAN(network.STA_IF)
sta.active(True)
if not sta.isconnected():
    print('connecting to network...')
    sta.connect(SSID, PASSWORD)
    while not sta.isconnected():
        time.sleep_ms(100)
print('network config:', sta.ifconfig())
