package machine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const ms = time.Millisecond

func TestPinLevels(t *testing.T) {
	tests := []struct {
		name            string
		pin, mode, pull int
		value           int
		drive           []Change
		at              time.Duration
		want            int
	}{
		{"pull-up, nothing drives", 4, ModeIn, PullUp, -1, nil, 0, 1},
		{"floating input reads 0", 4, ModeIn, 0, -1, nil, 0, 0},
		{"module pull-up on GPIO 0", 0, ModeIn, 0, -1, nil, 0, 1},
		{"GPIO 15 is pulled down", 15, ModeIn, 0, -1, nil, 0, 0},
		{"button pressed", 5, ModeIn, PullUp, -1, []Change{{10 * ms, 0}}, 20 * ms, 0},
		{"button released again", 5, ModeIn, PullUp, -1, []Change{{10 * ms, 0}, {30 * ms, -1}}, 40 * ms, 1},
		{"before the press", 5, ModeIn, PullUp, -1, []Change{{10 * ms, 0}}, 5 * ms, 1},
		{"output wins over the outside", 5, ModeOut, 0, 1, []Change{{0, 0}}, 0, 1},
		{"open drain low", 4, ModeOpenDrain, PullUp, 0, nil, 0, 0},
		{"open drain released", 4, ModeOpenDrain, PullUp, 1, nil, 0, 1},
		{"open drain released, device pulls low", 4, ModeOpenDrain, PullUp, 1, []Change{{0, 0}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New()
			if err := h.Drive(tt.pin, tt.drive); err != nil {
				t.Fatal(err)
			}
			if err := h.InitPin(0, tt.pin, tt.mode, tt.pull, tt.value); err != nil {
				t.Fatal(err)
			}
			if got := h.Read(tt.at, tt.pin); got != tt.want {
				t.Errorf("Read(%v, %d) = %d, want %d", tt.at, tt.pin, got, tt.want)
			}
		})
	}
}

func TestPinRules(t *testing.T) {
	h := New()
	for _, p := range []int{6, 7, 8, 11, 17, -1} {
		if err := h.InitPin(0, p, ModeIn, 0, -1); err == nil || err.Error() != "ValueError: invalid pin" {
			t.Errorf("InitPin(%d) = %v, want invalid pin", p, err)
		}
	}
	for _, p := range []int{9, 10, 16} {
		if err := h.InitPin(0, p, ModeIn, 0, -1); err != nil {
			t.Errorf("InitPin(%d) = %v", p, err)
		}
	}
	if err := h.InitPin(0, 16, ModeIn, PullUp, -1); err == nil {
		t.Error("PULL_UP on GPIO 16 accepted")
	}
	if err := h.SetIRQ(0, 16, IRQRising); err == nil {
		t.Error("IRQ on GPIO 16 accepted")
	}
}

func TestIRQEdges(t *testing.T) {
	h := New()
	_ = h.Drive(0, []Change{{100 * ms, 0}, {150 * ms, -1}, {300 * ms, 0}, {400 * ms, -1}})
	_ = h.InitPin(0, 0, ModeIn, PullUp, -1)
	_ = h.SetIRQ(0, 0, IRQFalling)
	if n, ok := h.Next(0); !ok || n != 100*ms {
		t.Fatalf("Next = %v %v, want 100ms", n, ok)
	}
	if h.Advance(99 * ms) {
		t.Fatal("pending before the press")
	}
	if !h.Advance(100 * ms) {
		t.Fatal("no handler pending at the falling edge")
	}
	if got := h.TakePending(); got != "p0" {
		t.Fatalf("TakePending = %q", got)
	}
	// The release is a rising edge: not this trigger.
	if h.Advance(200 * ms) {
		t.Fatal("rising edge made a falling-edge handler pending")
	}
	// Two edges before the handler runs coalesce into one, as the GPIO
	// status bit does.
	_ = h.SetIRQ(200*ms, 0, IRQFalling|IRQRising)
	h.Advance(500 * ms)
	if got := h.TakePending(); got != "p0" {
		t.Fatalf("TakePending = %q, want one p0", got)
	}
}

func TestTimers(t *testing.T) {
	h := New()
	_ = h.ArmTimer(0, 1, 500*ms, true)
	_ = h.ArmTimer(0, 2, 700*ms, false)
	var fired []string
	for now := time.Duration(0); now <= 2*time.Second; {
		n, ok := h.Next(now)
		if !ok || n > 2*time.Second {
			break
		}
		now = n
		h.Advance(now)
		fired = append(fired, h.TakePending()+"@"+now.String())
	}
	want := []string{"t1@500ms", "t2@700ms", "t1@1s", "t1@1.5s", "t1@2s"}
	if diff := cmp.Diff(want, fired); diff != "" {
		t.Errorf("expiries (-want +got):\n%s", diff)
	}
	h.StopTimer(1)
	if _, ok := h.Next(2 * time.Second); ok {
		t.Error("a stopped timer is still due")
	}
}

func TestPulse(t *testing.T) {
	h := New()
	_ = h.Drive(5, []Change{{10 * ms, 1}, {10*ms + 1500*time.Microsecond, 0}})
	_ = h.InitPin(0, 5, ModeIn, 0, -1)
	tests := []struct {
		level   int
		timeout time.Duration
		want    int64
	}{
		{1, time.Second, 1500},
		{1, time.Millisecond, -2},
		{0, time.Millisecond, -1},
	}
	for _, tt := range tests {
		if got, _ := h.PulseUS(0, 5, tt.level, tt.timeout); got != tt.want {
			t.Errorf("PulseUS(level %d, %v) = %d, want %d", tt.level, tt.timeout, got, tt.want)
		}
	}
}

func TestDHTFrames(t *testing.T) {
	tests := []struct {
		d    DHT
		want [5]byte
	}{
		{DHT{22, 21.5, 45.2}, [5]byte{1, 196, 0, 215, 156}},
		{DHT{22, -10.1, 65}, [5]byte{2, 138, 0x80, 101, 0x71}},
		{DHT{11, 23, 40}, [5]byte{40, 0, 23, 0, 63}},
	}
	for _, tt := range tests {
		h := New()
		h.AttachDHT(4, &tt.d)
		got, err := h.DHTRead(0, 4)
		if err != nil || got != tt.want {
			t.Errorf("DHTRead(%+v) = %v, %v; want %v", tt.d, got, err, tt.want)
		}
	}
	if _, err := New().DHTRead(0, 4); err != ErrNoSensor {
		t.Errorf("no sensor: %v", err)
	}
}

func TestDeepSleepFor(t *testing.T) {
	tests := []struct {
		name   string
		alarm  time.Duration // 0: none
		wake   bool
		max    time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"time given", 0, false, time.Minute, time.Minute, true},
		{"forever", 0, false, -1, 0, false},
		{"alarm set to wake", 10 * time.Second, true, -1, 10 * time.Second, true},
		{"alarm without wake", 10 * time.Second, false, -1, 0, false},
		{"time shorter than alarm", 10 * time.Second, true, time.Second, time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New()
			if tt.alarm > 0 {
				h.SetAlarm(tt.alarm)
			}
			h.SetAlarmWake(tt.wake)
			d, ok := h.DeepSleepFor(0, tt.max)
			if d != tt.want || ok != tt.wantOK {
				t.Errorf("DeepSleepFor = %v %v, want %v %v", d, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRTCMemorySurvivesBoot(t *testing.T) {
	h := New()
	if err := h.SetRTCMemory([]byte("3")); err != nil {
		t.Fatal(err)
	}
	h.Boot()
	if got := string(h.RTCMemory()); got != "3" {
		t.Errorf("after boot RTC memory = %q", got)
	}
	if err := h.SetRTCMemory(make([]byte, RTCMemoryMax+1)); err != ErrRTCMemoryTooLong {
		t.Errorf("too long: %v", err)
	}
}

func TestWDT(t *testing.T) {
	h := New()
	if h.WDTExpired(time.Hour) {
		t.Fatal("expired without being started")
	}
	h.StartWDT(0)
	h.FeedWDT(3 * time.Second)
	if h.WDTExpired(7 * time.Second) {
		t.Fatal("expired 4s after a feed")
	}
	if !h.WDTExpired(8 * time.Second) {
		t.Fatal("not expired 5s after the last feed")
	}
}

// A fast periodic timer that nobody waits for coalesces: one callback per
// wait, computed in constant time.
func TestTimerCoalesces(t *testing.T) {
	h := New()
	_ = h.ArmTimer(0, 1, time.Microsecond, true)
	if !h.Advance(time.Hour) {
		t.Fatal("no callback pending after an hour")
	}
	if got := h.TakePending(); got != "t1" {
		t.Fatalf("TakePending = %q", got)
	}
	if n, ok := h.Next(time.Hour); !ok || n != time.Hour+time.Microsecond {
		t.Fatalf("Next = %v %v, want 1h+1µs", n, ok)
	}
}
