package board

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/syncbuf"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// syncBuffer is a console the test reads while the board writes it.
type syncBuffer = syncbuf.Buffer

func testFirmware(tb testing.TB) *Firmware {
	tb.Helper()
	fw, err := DefaultFirmware()
	if err != nil {
		tb.Fatalf("DefaultFirmware: %v", err)
	}
	return fw
}

// newClock starts a fast clock owned by the test.
func newClock(tb testing.TB) *vclock.Clock {
	tb.Helper()
	c := vclock.New(vclock.Config{Mode: vclock.Fast})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
		c.Close()
	})
	return c
}

// runScript runs main.py (and optional extra files) on a fresh board and
// returns the console output and result.
func runScript(tb testing.TB, cfg Config, clock *vclock.Clock) (string, Result) {
	tb.Helper()
	if cfg.Name == "" {
		cfg.Name = "esp1"
	}
	var out syncBuffer
	cfg.Console = &out
	if clock == nil {
		clock = newClock(tb)
	}
	b, err := New(cfg, testFirmware(tb), clock)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := b.Run(ctx)
	if err != nil {
		tb.Errorf("Run: %v\nconsole:\n%s", err, out.String())
	}
	return out.String(), res
}

func files(main string) map[string][]byte { return map[string][]byte{"main.py": []byte(main)} }

// wantInOrder fails unless out contains each of want, in order.
func wantInOrder(tb testing.TB, out string, want []string) {
	tb.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			tb.Fatalf("console lacks %q (in order) in:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

// scriptCase is a main.py and the console it must print.
type scriptCase struct{ name, src, want string }

// runScripts runs each case on a board of its own (sharing one clock) as a
// subtest.
func runScripts(t *testing.T, cases []scriptCase) {
	t.Helper()
	clock := newClock(t)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := runScript(t, Config{Files: files(tt.src)}, clock)
			if got != tt.want {
				t.Errorf("console = %q, want %q", got, tt.want)
			}
		})
	}
}
