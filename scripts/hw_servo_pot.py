# A potentiometer on A0 steers a servo on GPIO 12 (50 Hz PWM, 0.5-2.5 ms
# pulses); UART1 (GPIO 2, transmit only) logs each change.
import time
from machine import ADC, PWM, Pin, UART

pot = ADC(0)
servo = PWM(Pin(12), freq=50)
log = UART(1, 115200)
last = -1
for i in range(40):
    duty = 26 + pot.read() * (128 - 26) // 1024
    if duty != last:
        servo.duty(duty)
        log.write("duty %d\n" % duty)
        print("adc", pot.read(), "duty", duty)
        last = duty
    time.sleep_ms(100)
try:
    log.read()
except OSError as e:
    print(e)
