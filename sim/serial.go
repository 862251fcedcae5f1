package sim

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/internal/trace"
)

// Serial is a board's UART as the host sees it: what clients type and
// where the board's output goes (a PTY, a TCP client: see
// internal/serialport). A board with a Serial is interactive: after
// main.py it sits at the REPL until the run ends, like a board on a desk.
// The scenario's console_input is typed on it too, at its times.
type Serial struct {
	// In is read for the board's input; it should block until input comes
	// and return an error only when the board's input ends for good.
	In io.Reader
	// Out receives the board's output byte for byte as its UART sends it
	// (an interactive board cooks print's newlines to CR LF itself). It
	// should not block for long: the board waits for it.
	Out io.Writer
}

// serialConsole is what a board with a serial port writes to: the
// recorded console and the port.
func serialConsole(rec *console, out io.Writer) io.Writer {
	if out == nil {
		return rec
	}
	return io.MultiWriter(rec, out)
}

// rebootPause is the simulated time a served board whose program ended
// stays off before it boots again, so a board that dies while booting does
// not spin the host.
const rebootPause = time.Second

// runBoard runs a board; in a run that lasts until cancelled, a board with
// a serial port whose program ends (an internal error, a reset loop, the
// watchdog) boots again, as a board on a desk does after a crash, until its
// input ends or the run is cancelled.
func (w *World) runBoard(ctx context.Context, b *board.Board, bn *boardNode, forever bool) (board.Result, error) {
	for {
		res, err := b.Run(ctx)
		in := bn.serialIn
		if !forever || in == nil || ctx.Err() != nil || in.ended() {
			return res, err
		}
		bn.reboots++
		bn.lastEnd = res.Outcome.String()
		if err != nil {
			bn.lastEnd = err.Error()
		} else if res.Message != "" {
			bn.lastEnd = res.Message
		}
		if w.opts.Console != nil {
			fmt.Fprintf(w.opts.Console, "%s %s | [esp8266sim: the board's program ended (%s); it boots again]\n",
				trace.FormatTime(w.clock.Elapsed()), bn.inst.Name, bn.lastEnd)
		}
		// The input the ended run's reader waits for goes to the next run.
		in.nextRun()
		b.ExternalReset()
		wake := make(chan struct{})
		t := w.clock.AfterFunc(rebootPause, func() { close(wake) })
		select {
		case <-ctx.Done():
			t.Stop()
			return res, err
		case <-wake:
		}
	}
}

// serialIn is a served board's input across its runs. One goroutine
// forwards the port's input; each run's reader gets it until the run
// ends, when a reader still waiting gets io.EOF (the board's input pump
// of an ended run must not take the next run's keystrokes). The
// forwarding goroutine ends when the port's input does.
type serialIn struct {
	chunks chan []byte
	// eof is closed when the port's input ended.
	eof chan struct{}

	mu sync.Mutex
	// runEnded is closed when the current run ended; guarded by mu.
	runEnded chan struct{}
	// rest is what a reader did not take of the last chunk; guarded by mu.
	rest []byte
}

func newSerialIn(src io.Reader, done <-chan struct{}) *serialIn {
	in := &serialIn{chunks: make(chan []byte), eof: make(chan struct{}), runEnded: make(chan struct{})}
	go func() {
		defer close(in.eof)
		for {
			buf := make([]byte, 4096)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case in.chunks <- buf[:n]:
				case <-done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return in
}

// Read implements io.Reader for the current run's input pump.
func (in *serialIn) Read(p []byte) (int, error) {
	in.mu.Lock()
	if len(in.rest) > 0 {
		n := copy(p, in.rest)
		in.rest = in.rest[n:]
		in.mu.Unlock()
		return n, nil
	}
	ended := in.runEnded
	in.mu.Unlock()
	select {
	case data := <-in.chunks:
		return in.take(p, data), nil
	case <-in.eof:
		return 0, io.EOF
	case <-ended:
		return 0, io.EOF
	}
}

// take copies data into p and keeps what does not fit for the next Read.
func (in *serialIn) take(p, data []byte) int {
	n := copy(p, data)
	if n < len(data) {
		in.mu.Lock()
		in.rest = append(in.rest, data[n:]...)
		in.mu.Unlock()
	}
	return n
}

// nextRun ends the current run's reads.
func (in *serialIn) nextRun() {
	in.mu.Lock()
	close(in.runEnded)
	in.runEnded = make(chan struct{})
	in.mu.Unlock()
}

// ended reports whether the port's input has ended.
func (in *serialIn) ended() bool {
	select {
	case <-in.eof:
		return true
	default:
		return false
	}
}

// ExternalReset pulls the named board's RST pin: it reboots with
// machine.reset_cause() == machine.HARD_RESET.
func (w *World) ExternalReset(name string) error {
	bn := w.byName[name]
	if bn == nil {
		return fmt.Errorf("no board named %q", name)
	}
	bn.mu.Lock()
	b := bn.board
	bn.mu.Unlock()
	if b == nil {
		return fmt.Errorf("board %s has not started", name)
	}
	b.ExternalReset()
	return nil
}
