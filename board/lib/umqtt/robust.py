# The board's umqtt.robust (micropython-lib's, frozen in ESP8266_GENERIC),
# written for this simulator: umqtt.simple whose publish, wait_msg and
# check_msg survive a lost broker. An OSError is logged (when DEBUG), the
# client reconnects with clean_session False (trying every DELAY seconds,
# forever) and the operation runs again; check_msg gives up after its
# attempts and returns None.
import time
from . import simple


class MQTTClient(simple.MQTTClient):
    DELAY = 2
    DEBUG = False

    def delay(self, i):
        time.sleep(self.DELAY)

    def log(self, in_reconnect, e):
        if self.DEBUG:
            print(("mqtt reconnect: %r" if in_reconnect else "mqtt: %r") % e)

    def reconnect(self):
        tries = 0
        while 1:
            try:
                return simple.MQTTClient.connect(self, False)
            except OSError as e:
                self.log(True, e)
                tries += 1
                self.delay(tries)

    def _again(self, op, args, attempts=-1, nonblock=False):
        while attempts:
            if nonblock:
                self.sock.setblocking(False)
            try:
                return op(self, *args)
            except OSError as e:
                self.log(False, e)
            self.reconnect()
            attempts -= 1

    def publish(self, topic, msg, retain=False, qos=0):
        return self._again(simple.MQTTClient.publish, (topic, msg, retain, qos))

    def wait_msg(self):
        return self._again(simple.MQTTClient.wait_msg, ())

    def check_msg(self, attempts=2):
        return self._again(simple.MQTTClient.wait_msg, (), attempts, True)
