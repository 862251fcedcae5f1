# A battery data logger: every wake it joins WiFi, reads the DHT22 on
# GPIO 4, POSTs the reading and deep-sleeps for 10 minutes until the RTC
# alarm wakes it. RTC memory (kept through deep sleep) counts the wakes.
import machine
import network
import socket
import time
import dht

rtc = machine.RTC()
mem = rtc.memory()
wakes = int(mem) if mem else 0
if machine.reset_cause() == machine.DEEPSLEEP_RESET:
    wakes += 1
rtc.memory(str(wakes))

sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect("SimNet", "esp8266sim")
while not sta.isconnected():
    time.sleep_ms(100)

sensor = dht.DHT22(machine.Pin(4))
sensor.measure()
body = "wake=%d cause=%d temp=%.1f hum=%.1f" % (
    wakes, machine.reset_cause(), sensor.temperature(), sensor.humidity())
print(body)

addr = socket.getaddrinfo("logger.example", 80)[0][-1]
s = socket.socket()
s.connect(addr)
s.send(("POST /log HTTP/1.0\r\nHost: logger.example\r\nContent-Type: text/plain\r\n"
        "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
print(s.recv(15))
s.close()

rtc.irq(trigger=rtc.ALARM0, wake=machine.DEEPSLEEP)
rtc.alarm(rtc.ALARM0, 10 * 60 * 1000)
machine.deepsleep()
