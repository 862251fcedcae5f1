# A sensor node in the style of the umqtt examples: join the WiFi, publish
# a reading every 2 seconds with umqtt.robust (which reconnects when the
# broker goes away) and switch the LED when a command arrives.
import network
import time
import machine
from umqtt.robust import MQTTClient

sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect("SimNet", "esp8266sim")
while not sta.isconnected():
    time.sleep_ms(100)
print("connected", sta.ifconfig()[0])

led = machine.Pin(2, machine.Pin.OUT)


def on_message(topic, msg):
    print("command", msg)
    led.value(0 if msg == b"on" else 1)  # the ESP8266's LED is active-low


client = MQTTClient("esp8266-sensor", "test.mosquitto.org", keepalive=60)
client.DELAY = 1
client.set_callback(on_message)
client.connect(clean_session=False)
client.subscribe(b"home/sensor/led")
for n in range(20):
    client.publish(b"home/sensor/temp", b"%d.%d" % (20 + n % 5, n % 10))
    client.check_msg()
    time.sleep(2)
client.disconnect()
print("done")
