# A watchdog the program stops feeding resets the board: the next boot
# reports WDT_RESET and the program takes the other branch.
import time
import machine

if machine.reset_cause() == machine.WDT_RESET:
    print("rebooted by the watchdog")
else:
    wdt = machine.WDT()
    for i in range(4):
        time.sleep(1)
        wdt.feed()
    print("stopped feeding at", time.ticks_ms(), "ms")
    while True:
        time.sleep(1)
