package machine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Reset causes, as machine.reset_cause() reports them (the SDK's
// rst_info.reason; modmachine.c maps machine.*_RESET onto REASON_*).
const (
	PowerOnReset   = 0 // machine.PWRON_RESET
	WDTReset       = 1 // machine.WDT_RESET
	SoftReset      = 4 // machine.SOFT_RESET
	DeepSleepReset = 5 // machine.DEEPSLEEP_RESET
	HardReset      = 6 // machine.HARD_RESET
)

// Event is one thing the hardware saw, for the trace and for tests.
type Event struct {
	At     time.Duration // simulator time since the simulation began
	Kind   string        // "pin", "irq", "timer", "wdt", "deepsleep", "pwm", "adc"
	Pin    int           // the GPIO, or the timer id, or -1
	Value  int           // the level, or the duty, or the count
	Detail string        // free text ("falling", "periodic 500ms", …)
}

func (e Event) String() string { return fmt.Sprintf("%.6fs %s", e.At.Seconds(), e.Text()) }

// Text is the event without its time, for the trace: "GPIO 2 = 1",
// "GPIO 0 falling: handler scheduled", "boot: reset cause 5".
func (e Event) Text() string {
	var s string
	switch e.Kind {
	case "pin":
		s = fmt.Sprintf("GPIO %d = %d", e.Pin, e.Value)
	case "irq":
		s = fmt.Sprintf("GPIO %d %s: handler scheduled", e.Pin, e.Detail)
	case "timer":
		if e.Value == 0 {
			return fmt.Sprintf("timer %d armed, %s", e.Pin, e.Detail)
		}
		s = fmt.Sprintf("timer %d expired: callback scheduled", e.Pin)
	case "boot":
		s = fmt.Sprintf("boot: reset cause %d", e.Value)
	case "deepsleep":
		s = fmt.Sprintf("deep sleep for %d ms", e.Value)
	case "pwm":
		s = fmt.Sprintf("PWM GPIO %d duty %d", e.Pin, e.Value)
	case "bitstream":
		s = fmt.Sprintf("GPIO %d bitstream %d bytes", e.Pin, e.Value)
	case "i2c":
		s = fmt.Sprintf("I2C %s %#x %d bytes", e.Detail, e.Pin, e.Value)
		return s
	case "spi":
		s = fmt.Sprintf("SPI sent %d bytes", e.Value)
	case "uart1":
		s = fmt.Sprintf("UART1 sent %d bytes", e.Value)
	case "wdt":
		return "watchdog not fed for 5s: reset"
	case "dht":
		s = fmt.Sprintf("DHT on GPIO %d answered", e.Pin)
	default:
		s = fmt.Sprintf("%s %d=%d", e.Kind, e.Pin, e.Value)
	}
	if e.Detail != "" && e.Kind != "irq" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// maxEvents bounds the event log: a script toggling a pin forever must not
// grow host memory without end.
const maxEvents = 1 << 16

// Hardware is one ESP8266's peripherals. Its methods are safe from any
// goroutine; the board calls them from its own.
type Hardware struct {
	mu sync.Mutex
	// Guarded by mu:
	pins    [17]pinState
	timers  map[int]*timer
	pending []string // IRQ sources waiting to be scheduled ("p4", "t0")
	events  []Event
	dropped int
	rtcMem  []byte // survives every reset but power loss
	alarm   time.Duration
	alarmOn bool
	alarmWk bool // machine.DEEPSLEEP wake configured for the alarm
	adc     []ADCPoint
	pwm     map[int]*pwmState
	wdtOn   bool
	wdtFed  time.Duration
	last    time.Duration // the time Advance last saw
	observe func(Event)   // Observe's function, or nil
	dht     map[int]*DHT
	i2c     map[int]I2CDevice
	uart1   []byte
	ow      map[int][]OneWireDevice
	flash   map[int][]byte // raw flash sectors written so far
	strips  map[int][]byte // last bitstream frame per pin
	spi     []spiSlot      // devices on the SPI bus
}

// New returns the peripherals of a board just powered on.
func New() *Hardware {
	h := &Hardware{timers: map[int]*timer{}, pwm: map[int]*pwmState{}}
	h.resetLocked()
	return h
}

// Boot puts the peripherals in their state after a reset of any kind: pins
// are inputs without pull, no interrupt or timer is armed, the watchdog is
// off. RTC memory, the RTC alarm and external inputs stay.
func (h *Hardware) Boot() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.resetLocked()
}

func (h *Hardware) resetLocked() {
	for i := range h.pins {
		drive := h.pins[i].drive
		h.pins[i] = pinState{drive: drive}
	}
	h.timers = map[int]*timer{}
	h.pending = nil
	h.pwm = map[int]*pwmState{}
	h.wdtOn = false
}

// Observe makes f see every event as it is recorded (for a trace). f runs
// with the hardware locked: it must not call back into it.
func (h *Hardware) Observe(f func(Event)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.observe = f
}

func (h *Hardware) logLocked(e Event) {
	if h.observe != nil {
		h.observe(e)
	}
	if len(h.events) >= maxEvents {
		h.dropped++
		return
	}
	h.events = append(h.events, e)
}

// Events returns what the hardware saw, in order.
func (h *Hardware) Events() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Event(nil), h.events...)
}

// Advance brings the hardware to time now: input edges and timer expiries
// up to now make their interrupt handlers pending. It reports whether any
// handler is pending.
func (h *Hardware) Advance(now time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.advanceLocked(now)
	return len(h.pending) > 0
}

func (h *Hardware) advanceLocked(now time.Duration) {
	if now < h.last {
		now = h.last
	}
	// Events in time order: input edges and timer expiries interleave.
	type due struct {
		at  time.Duration
		src string
	}
	var list []due
	for p := range h.pins {
		for _, c := range h.pins[p].drive {
			if c.At > h.last && c.At <= now {
				list = append(list, due{c.At, "p" + strconv.Itoa(p)})
			}
		}
	}
	for id, t := range h.timers {
		if !t.armed || t.next > now {
			continue
		}
		// Expiries the script could not see one by one (it did not wait
		// between them) coalesce into one pending callback, as the
		// scheduler's single slot per timer does; skipping ahead also
		// keeps a 1 µs timer over an hour from costing 3.6e9 steps.
		list = append(list, due{t.next, "t" + strconv.Itoa(id)})
		if t.periodic {
			t.next += ((now-t.next)/t.period + 1) * t.period
		} else {
			t.armed = false
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].at != list[j].at {
			return list[i].at < list[j].at
		}
		return list[i].src < list[j].src
	})
	for _, d := range list {
		if d.src[0] == 't' {
			id, _ := strconv.Atoi(d.src[1:])
			h.logLocked(Event{At: d.at, Kind: "timer", Pin: id, Value: 1})
			h.pendLocked(d.src)
			continue
		}
		p, _ := strconv.Atoi(d.src[1:])
		before := h.levelLocked(p, d.at-1)
		after := h.levelLocked(p, d.at)
		h.edgeLocked(p, d.at, before, after)
	}
	h.last = now
}

// pendLocked queues an interrupt source once: the port's GPIO status bit
// and soft timer are one flag each, so edges that arrive before the
// handler runs coalesce.
func (h *Hardware) pendLocked(src string) {
	for _, s := range h.pending {
		if s == src {
			return
		}
	}
	h.pending = append(h.pending, src)
}

// TakePending returns and clears the interrupt sources whose handlers are
// due, as a comma-separated list ("p4,t0").
func (h *Hardware) TakePending() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := strings.Join(h.pending, ",")
	h.pending = nil
	return s
}

// Next returns the next time after now at which something may happen that
// a waiting script must see (an input edge on a pin with an interrupt, a
// timer expiry), and false when nothing is due.
func (h *Hardware) Next(now time.Duration) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	best, ok := time.Duration(0), false
	take := func(t time.Duration) {
		if t > now && (!ok || t < best) {
			best, ok = t, true
		}
	}
	for p := range h.pins {
		if h.pins[p].trigger == 0 {
			continue
		}
		for _, c := range h.pins[p].drive {
			if c.At > now {
				take(c.At)
				break
			}
		}
	}
	for _, t := range h.timers {
		if t.armed {
			take(t.next)
		}
	}
	return best, ok
}

// Booted records a boot with its reset cause (for the trace and the
// reset_cause expectation).
func (h *Hardware) Booted(now time.Duration, cause int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logLocked(Event{At: now, Kind: "boot", Pin: -1, Value: cause})
}

// Causes returns the reset cause of each boot, in order.
func (h *Hardware) Causes() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var c []int
	for _, e := range h.events {
		if e.Kind == "boot" {
			c = append(c, e.Value)
		}
	}
	return c
}

// LevelAt is the level pin p had at t, as far as the record tells: the
// last write the script made to it by then, else the outside input, else
// what it reads now.
func (h *Hardware) LevelAt(p int, t time.Duration) int {
	if !ValidPin(p) {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	lv, seen := 0, false
	for _, e := range h.events {
		if e.At > t {
			break
		}
		if e.Kind == "pin" && e.Pin == p {
			lv, seen = e.Value, true
		}
	}
	if seen {
		return lv
	}
	if d := h.driveAt(p, t); d >= 0 {
		return d
	}
	return h.levelLocked(p, t)
}
