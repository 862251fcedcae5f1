# A Timer blinks the LED on GPIO 2 every 500 ms while an interrupt counts
# presses of the button on GPIO 0 (to ground; the pin's pull-up holds it
# high). The main loop only sleeps: the handlers run between bytecodes.
import time
from machine import Pin, Timer

led = Pin(2, Pin.OUT)
button = Pin(0, Pin.IN, Pin.PULL_UP)
presses = 0


def on_press(pin):
    global presses
    presses += 1
    print("pressed", presses, "at", time.ticks_ms(), "ms, pin reads", pin.value())


def blink(t):
    led.toggle()


button.irq(trigger=Pin.IRQ_FALLING, handler=on_press)
tim = Timer(-1)
tim.init(period=500, mode=Timer.PERIODIC, callback=blink)
for i in range(10):
    time.sleep(1)
tim.deinit()
print("done,", presses, "presses; LED", led.value())
