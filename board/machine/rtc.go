package machine

import (
	"errors"
	"time"
)

// RTCMemoryMax is the user RTC memory machine.RTC().memory() holds
// (MEM_USER_MAXLEN in machine_rtc.c).
const RTCMemoryMax = 492

// ErrRTCMemoryTooLong is machine_rtc.c's "buffer too long".
var ErrRTCMemoryTooLong = errors.New("buffer too long")

// SetRTCMemory is RTC.memory(data).
func (h *Hardware) SetRTCMemory(data []byte) error {
	if len(data) > RTCMemoryMax {
		return ErrRTCMemoryTooLong
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rtcMem = append([]byte(nil), data...)
	return nil
}

// RTCMemory is RTC.memory(): it survives every reset and deep sleep.
func (h *Hardware) RTCMemory() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]byte(nil), h.rtcMem...)
}

// SetAlarm is RTC.alarm(RTC.ALARM0, ms): at is the simulator time it
// expires. wake is RTC.irq(trigger=RTC.ALARM0, wake=machine.DEEPSLEEP).
func (h *Hardware) SetAlarm(at time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.alarm, h.alarmOn = at, true
}

// SetAlarmWake records whether the alarm wakes the chip from deep sleep.
func (h *Hardware) SetAlarmWake(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.alarmWk = on
}

// AlarmLeft is RTC.alarm_left(): time until the alarm, 0 when past.
func (h *Hardware) AlarmLeft(now time.Duration) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.alarmOn || h.alarm <= now {
		return 0
	}
	return h.alarm - now
}

// DeepSleepFor is how long machine.deepsleep(max) sleeps, as
// mp_machine_deepsleep computes it: until the alarm when it is set to wake
// the chip (at once if it passed), at most max when max >= 0; forever
// (ok false) with neither.
func (h *Hardware) DeepSleepFor(now, max time.Duration) (d time.Duration, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.alarmOn && h.alarmWk {
		d, ok = time.Microsecond, true
		if h.alarm > now {
			d = h.alarm - now
		}
	}
	if max >= 0 && (!ok || max < d) {
		d, ok = max, true
	}
	h.logLocked(Event{At: now, Kind: "deepsleep", Pin: -1, Value: int(d / time.Millisecond)})
	return d, ok
}
