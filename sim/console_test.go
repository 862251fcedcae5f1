package sim

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// TestConsoleLinear: recording and watching n lines of 1000 characters
// allocates O(n) bytes. The console used to hand every watcher a fresh copy
// of its whole text on each write (8000 lines: 32 GB copied).
func TestConsoleLinear(t *testing.T) {
	const lines, width = 8000, 1000
	c := newConsole("esp1", vclock.New(vclock.Config{}), nil, false)
	seen := 0
	c.watch(func(text []byte, from int, at time.Duration) {
		if containsNew(text, from, "line 7999\n") {
			seen++
		}
	})
	line := []byte(strings.Repeat("a", width-len("line 0000\n")))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < lines; i++ {
		c.Write(line)
		c.Write([]byte("line "))
		c.Write([]byte(itoa4(i)))
		c.Write([]byte("\n"))
	}
	runtime.ReadMemStats(&after)
	out := uint64(lines * width)
	if got := after.TotalAlloc - before.TotalAlloc; got > 20*out {
		t.Errorf("writing %d bytes of console allocated %d bytes (want < %d): not linear", out, got, 20*out)
	}
	if seen != 1 {
		t.Errorf("watcher saw the last line's marker %d times, want 1", seen)
	}
	if got := len(c.Text()); got != lines*width {
		t.Errorf("console holds %d bytes, want %d", got, lines*width)
	}
}

func itoa4(i int) string {
	s := "0000" + strconv.Itoa(i)
	return s[len(s)-4:]
}

// TestConsoleMatchAcrossWrites: a text split over several writes is found
// once it is complete, a one-line pattern sees the start of its line, and a
// pattern that spans lines still sees the whole console.
func TestConsoleMatchAcrossWrites(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		check  func(text []byte, from int) bool
		want   []bool
	}{
		{
			name:   "contains split over writes",
			writes: []string{"hel", "lo wo", "rld\n"},
			check:  func(text []byte, from int) bool { return containsNew(text, from, "hello world") },
			want:   []bool{false, false, true},
		},
		{
			name:   "one-line regexp from the start of its line",
			writes: []string{"x\nval", "ue=4", "2\n"},
			check:  newConsoleRegexp(`^value=42$`).matchNew,
			want:   []bool{false, false, true},
		},
		{
			name:   "multi-line regexp",
			writes: []string{"begin\n", "noise\n", "end\n"},
			check:  newConsoleRegexp(`begin\n(.*\n)*end`).matchNew,
			want:   []bool{false, false, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConsole("esp1", vclock.New(vclock.Config{}), nil, false)
			var got []bool
			c.watch(func(text []byte, from int, _ time.Duration) { got = append(got, tt.check(text, from)) })
			for _, w := range tt.writes {
				c.Write([]byte(w))
			}
			for i := range tt.want {
				if i >= len(got) || got[i] != tt.want[i] {
					t.Fatalf("matches after each write = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
