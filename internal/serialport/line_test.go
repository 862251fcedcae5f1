package serialport

import (
	"bytes"
	"io"
	"testing"
	"time"
)

func TestLineFlowAndHold(t *testing.T) {
	l := NewLine("esp1")
	s := l.attach()
	l.Write([]byte("boot\n"))
	if got := s.take(); string(got) != "boot\n" {
		t.Fatalf("client got %q, want the board's output", got)
	}
	// Output beyond OutputLimit for a client that does not read is dropped.
	big := bytes.Repeat([]byte("x"), OutputLimit+10)
	l.Write(big)
	if got := len(s.take()); got != OutputLimit || l.Dropped.Load() != 10 {
		t.Fatalf("queued %d, dropped %d; want %d and 10", got, l.Dropped.Load(), OutputLimit)
	}
	// Held in reset: nothing goes either way.
	l.Hold(true)
	l.Write([]byte("hidden"))
	l.Feed([]byte("typed while held"))
	l.Announce("rom\n")
	if got := string(s.take()); got != "rom\n" {
		t.Fatalf("while held the client got %q, want only the ROM's text", got)
	}
	l.Hold(false)
	// A feeder waits while InputLimit bytes are queued, and resumes when the
	// board reads.
	fed := make(chan bool)
	go func() { fed <- l.Feed(bytes.Repeat([]byte("a"), InputLimit+1)) }()
	buf := make([]byte, 10)
	select {
	case <-fed:
		t.Fatal("feeding past InputLimit did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	if n, _ := l.Read(buf); n != 10 {
		t.Fatalf("read %d", n)
	}
	if !<-fed {
		t.Fatal("feed failed")
	}
	l.Close()
	if _, err := io.ReadAll(l); err != nil {
		t.Fatal(err)
	}
	if l.Feed([]byte("late")) {
		t.Error("Feed after Close succeeded")
	}
}

func TestLineControl(t *testing.T) {
	l := NewLine("esp1")
	var got []Pins
	l.OnPins(func(p Pins) { got = append(got, p) })
	// pyserial opening: DTR on, RTS on (no reset); then an RTS pulse.
	l.SetControl(true, false)
	l.SetControl(true, true)
	l.SetControl(false, true)
	l.SetControl(false, false)
	want := []Pins{{BootLow: true}, {}, {ResetHeld: true}, {}}
	if len(got) != len(want) {
		t.Fatalf("pins %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pins %+v, want %+v", got, want)
		}
	}
}
