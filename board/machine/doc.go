// Package machine models the ESP8266's on-chip peripherals as the
// MicroPython v1.27.0 port exposes them (ports/esp8266/machine_pin.c,
// modmachine.c, machine_rtc.c, machine_wdt.c): GPIO levels with pull-ups
// and edge interrupts, virtual-time timers, the watchdog, RTC memory and
// alarm, deep sleep.
//
// It knows nothing of the interpreter: the board asks it, at each host
// call, what a pin reads, when the next hardware event is due and which
// interrupt handlers became pending; the board's Python machine module
// schedules those handlers with micropython.schedule, as the port's
// interrupt handlers do with mp_sched_schedule. Time is the simulator's,
// passed in as a duration since the simulation began, so the package is
// deterministic and testable without a board.
//
// Inputs from outside the chip (a button, a switch wired to a pin) are
// timelines of levels given with Drive, the A0 input a timeline given with
// DriveADC; parts on a bus (board/devices) attach with AttachI2C and
// AttachOneWire; outputs (pin writes, PWM, bitstream frames, UART1 bytes)
// are recorded for the report and the trace (Observe).
package machine
