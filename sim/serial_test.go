package sim

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/syncbuf"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// syncBuf is a board's serial output as a client sees it.
type syncBuf struct{ syncbuf.Buffer }

func (s *syncBuf) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %q; serial shows %q", want, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSerialBoardRunsUntilCancelled: a board with a Serial sits at the REPL
// past its scenario's duration, answers typed lines, reboots on
// ExternalReset with HARD_RESET, and the run ends when cancelled.
func TestSerialBoardRunsUntilCancelled(t *testing.T) {
	sc := parseYAML(t, "serial.yaml", "duration: 1s\ntime_mode: realtime\nboards:\n  - name: esp1\n")
	in, typer := io.Pipe()
	out := &syncBuf{}
	w := newTestWorld(t, sc, Options{Watchdog: -1, MaxResets: 100, ConsoleKeep: 4096,
		Serial: map[string]Serial{"esp1": {In: in, Out: out}}})
	if err := w.ExternalReset("nope"); err == nil {
		t.Error("ExternalReset of an unknown board succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := w.Run(ctx, RunOptions{UntilCancelled: true})
		done <- result{res, err}
	}()
	out.waitFor(t, ">>> ")
	time.Sleep(1500 * time.Millisecond) // past the scenario's duration
	typer.Write([]byte("print(6*7)\r"))
	out.waitFor(t, "42\r\n>>> ")
	if err := w.ExternalReset("esp1"); err != nil {
		t.Fatal(err)
	}
	typer.Write([]byte("import machine; print('cause', machine.reset_cause())\r"))
	out.waitFor(t, "cause 6\r\n")
	cancel()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		// Stopping is how a run until cancelled ends: not a cancelled
		// verdict, the board still running.
		if !strings.Contains(r.res.EndReason, "stopped") || r.res.Cancelled || r.res.Boards[0].Outcome != "running" {
			t.Errorf("ended %q (cancelled %v) with board %q; want stopped as asked while running", r.res.EndReason, r.res.Cancelled, r.res.Boards[0].Outcome)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not end when cancelled")
	}
	typer.Close()
}

func TestConsoleKeepBoundsTheRecord(t *testing.T) {
	c := newConsole("esp1", vclock.New(vclock.Config{Mode: vclock.Fast}), nil, false)
	c.keep = 1000
	for i := 0; i < 10000; i++ {
		c.Write([]byte("0123456789abcdef\n"))
	}
	c.Write([]byte("last line\n"))
	if n := len(c.Text()); n > 2000 || !strings.HasSuffix(c.Text(), "last line\n") {
		t.Errorf("kept %d bytes ending %q; want at most 2000 ending with the last line", n, c.Text()[max(0, n-20):])
	}
	if tail := c.Tail(1); len(tail) != 1 || tail[0] != "last line" {
		t.Errorf("tail %q", tail)
	}
	if len(c.lines) > 2*1000/64+16 {
		t.Errorf("kept %d lines", len(c.lines))
	}
}

// TestServedBoardBootsAgain: in a run that lasts until cancelled, a served
// board whose program ended (here: a reset loop past MaxResets) boots again
// and keeps serving, as a board on a desk does after a crash.
func TestServedBoardBootsAgain(t *testing.T) {
	sc := parseYAML(t, "reboot.yaml", `time_mode: realtime
boards:
  - name: esp1
    code: |
      import machine, os
      n = 0
      try:
          n = len(open('count').read())
      except OSError:
          pass
      open('count', 'a').write('x')
      print('boot', n)
      if n < 3:
          machine.reset()
`)
	in, typer := io.Pipe()
	defer typer.Close()
	out := &syncBuf{}
	w := newTestWorld(t, sc, Options{Watchdog: -1, MaxResets: 1,
		Serial: map[string]Serial{"esp1": {In: in, Out: out}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *Result, 1)
	go func() {
		res, err := w.Run(ctx, RunOptions{UntilCancelled: true})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	out.waitFor(t, "boot 3\r\n")
	out.waitFor(t, ">>> ")
	typer.Write([]byte("print('still', 'serving')\r"))
	out.waitFor(t, "still serving\r\n")
	cancel()
	select {
	case res := <-done:
		if res == nil || !strings.Contains(res.Boards[0].Message, "rebooted 1 time(s)") {
			t.Errorf("result %+v; want the reboot noted", res)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not end when cancelled")
	}
}
