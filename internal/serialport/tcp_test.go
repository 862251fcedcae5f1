package serialport

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

func TestTCPRawAndRFC2217(t *testing.T) {
	line := NewLine("esp1")
	var mu sync.Mutex
	var pins []Pins
	line.OnPins(func(p Pins) {
		mu.Lock()
		pins = append(pins, p)
		mu.Unlock()
	})
	l, err := ListenTCP(line, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer line.Close()

	// Raw client: bytes both ways, 0xFF included.
	raw, err := net.Dial("tcp", l.Addr)
	if err != nil {
		t.Fatal(err)
	}
	raw.Write([]byte("x=1\r"))
	buf := make([]byte, 16)
	n, _ := io.ReadAtLeast(line, buf, 4)
	if string(buf[:n]) != "x=1\r" {
		t.Errorf("board read %q", buf[:n])
	}
	// The board has read the client's bytes, so its output queue is attached.
	line.Write([]byte{'o', 'k', 0xff})
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 3)
	if _, err := io.ReadFull(raw, got); err != nil || !bytes.Equal(got, []byte{'o', 'k', 0xff}) {
		t.Errorf("raw client read %v %v", got, err)
	}
	raw.Close()

	// Telnet client: negotiation answered, RTS holds the reset, hanging up
	// releases it, and board output has IAC doubled.
	tc, err := net.Dial("tcp", l.Addr)
	if err != nil {
		t.Fatal(err)
	}
	tc.Write([]byte{tnIAC, tnWILL, optComPort, tnIAC, tnSB, optComPort, cpSetControl, ctlRTSOn, tnIAC, tnSE})
	want := []byte{tnIAC, tnDO, optComPort, tnIAC, tnSB, optComPort, cpSetControl + 100, ctlRTSOn, tnIAC, tnSE}
	tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	got = make([]byte, len(want))
	if _, err := io.ReadFull(tc, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("telnet answers %v %v, want %v", got, err, want)
	}
	line.Write([]byte{0xff})
	got = make([]byte, 2)
	if _, err := io.ReadFull(tc, got); err != nil || !bytes.Equal(got, []byte{tnIAC, tnIAC}) {
		t.Errorf("telnet client read %v %v, want IAC doubled", got, err)
	}
	tc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(pins)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pins) != 2 || pins[0] != (Pins{ResetHeld: true}) || pins[1] != (Pins{}) {
		t.Errorf("pins %+v; want reset held by RTS, then released when the client hung up", pins)
	}
}

func TestTCPPortInUse(t *testing.T) {
	l, err := ListenTCP(NewLine("esp1"), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = ListenTCP(NewLine("esp2"), l.Addr)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("address already in use")) {
		t.Errorf("second listener: %v", err)
	}
}
