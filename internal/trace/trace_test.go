package trace

import (
	"bytes"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestLineString(t *testing.T) {
	tests := []struct {
		line Line
		want string
	}{
		{Line{12004 * time.Millisecond, "esp1", "esp1 → router DHCP DISCOVER xid=0x1"}, "12.004s esp1 → router DHCP DISCOVER xid=0x1"},
		{Line{1500 * time.Millisecond, "wifi", "esp1 associated with home"}, "1.500s wifi esp1 associated with home"},
		{Line{0, "", "start"}, "0.000s start"},
		{Line{-2 * time.Millisecond, "x", "y"}, "-0.002s x y"},
	}
	for _, tt := range tests {
		if got := tt.line.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestLogKeepsWritesAndSubscribes(t *testing.T) {
	var out bytes.Buffer
	l := New(Config{Writer: &out, Keep: 3})
	var seen []string
	l.Subscribe(func(line Line) { seen = append(seen, line.Text) })
	for i, s := range []string{"a", "b", "c", "d\nsecond line"} {
		l.Add(time.Duration(i)*time.Second, "n", s)
	}
	lines := l.Lines()
	if len(lines) != 3 || lines[0].Text != "b" || lines[2].Text != "d second line" {
		t.Errorf("Lines() = %v, want the last 3 with the newline flattened", lines)
	}
	if l.Total() != 4 {
		t.Errorf("Total() = %d, want 4", l.Total())
	}
	want := "0.000s n a\n1.000s n b\n2.000s n c\n3.000s n d second line\n"
	if out.String() != want {
		t.Errorf("writer got %q, want %q", out.String(), want)
	}
	if len(seen) != 4 {
		t.Errorf("subscriber saw %d lines, want 4", len(seen))
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestLogWriterError(t *testing.T) {
	l := New(Config{Writer: failWriter{}})
	l.Add(0, "x", "y")
	if err := l.Err(); err == nil {
		t.Fatal("Err() = nil after a failed write")
	}
	if len(l.Lines()) != 1 {
		t.Error("the line was not kept after the writer failed")
	}
}

func TestNilLogAndNames(t *testing.T) {
	var l *Log
	l.Add(0, "x", "y")
	l.Addf(0, "x", "%d", 1)
	if l.Lines() != nil || l.Total() != 0 || l.Err() != nil || l.Names() != nil {
		t.Error("a nil Log is not empty")
	}
	var n *Names
	n.SetIP(netip.MustParseAddr("1.2.3.4"), "x")
	if _, ok := n.IP(netip.MustParseAddr("1.2.3.4")); ok {
		t.Error("a nil Names knows a name")
	}
}

func TestNamesForget(t *testing.T) {
	n := NewNames()
	a := netip.MustParseAddr("192.168.1.23")
	n.SetIP(a, "esp1")
	if got, ok := n.IP(a); !ok || got != "esp1" {
		t.Fatalf("IP() = %q, %v", got, ok)
	}
	n.ForgetIP(a)
	if _, ok := n.IP(a); ok {
		t.Error("name still known after ForgetIP")
	}
	n.SetMAC([]byte{1, 2, 3}, "bad")
	if _, ok := n.MAC([]byte{1, 2, 3}); ok {
		t.Error("a 3-byte MAC was accepted")
	}
}

func TestLogConcurrent(t *testing.T) {
	l := New(Config{Keep: 100})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				l.Add(time.Duration(i), "g", "line")
				_ = l.Lines()
			}
		}()
	}
	wg.Wait()
	if l.Total() != 4000 || len(l.Lines()) != 100 {
		t.Errorf("Total() = %d, kept %d; want 4000, 100", l.Total(), len(l.Lines()))
	}
}
