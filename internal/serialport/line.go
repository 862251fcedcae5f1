package serialport

import (
	"io"
	"sync"
	"sync/atomic"
)

// InputLimit is how many bytes of client input wait for the board before a
// client's writes are held back (the PTY's or socket's own buffer then
// fills and the client's write blocks, which is flow control rather than
// loss).
const InputLimit = 64 << 10

// OutputLimit bounds the board output queued for one client that does not
// read it; beyond it output for that client is dropped (and counted), so a
// client holding the port open without reading never stalls the board.
const OutputLimit = 1 << 20

// Pins is the state of the board's reset (EN) and boot-mode (GPIO0) pins as
// the auto-reset circuit drives them.
type Pins struct {
	// ResetHeld is true while EN is pulled low.
	ResetHeld bool
	// BootLow is true while GPIO0 is pulled low (the ROM's download mode
	// if the chip leaves reset then).
	BootLow bool
}

// PinsFor is the NodeMCU (and Wemos D1 mini) auto-reset circuit: two
// transistors cross-wired between DTR and RTS. EN is low only when RTS is
// asserted and DTR is not; GPIO0 is low only when DTR is asserted and RTS
// is not. Both asserted (pyserial's default on open) or both released
// leaves the chip running.
func PinsFor(dtr, rts bool) Pins {
	return Pins{ResetHeld: rts && !dtr, BootLow: dtr && !rts}
}

// Line is one board's serial line. The board reads it (Read) and writes it
// (Write); endpoints feed client input and take output. Safe for
// concurrent use.
type Line struct {
	// Name is the board's name, for messages.
	Name string

	mu sync.Mutex
	// cond signals changes of in and closed; guarded by mu.
	cond *sync.Cond
	// in is client input the board has not read yet; guarded by mu.
	in []byte
	// closed ends Read with EOF and releases feeders; guarded by mu.
	closed bool
	// sinks are the connected clients' output queues; guarded by mu.
	sinks map[*sink]struct{}
	// pinsFn is told about pin changes; guarded by mu.
	pinsFn func(Pins)
	// dtr and rts are the last control line state set by a client;
	// guarded by mu.
	dtr, rts bool
	// held silences the line (a chip held in reset, or in its ROM
	// bootloader, sends nothing and reads nothing); guarded by mu.
	held bool

	// Dropped counts output bytes dropped because a client did not read.
	Dropped atomic.Int64
}

// NewLine returns an open line for the named board.
func NewLine(name string) *Line {
	l := &Line{Name: name, sinks: map[*sink]struct{}{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

var _ io.ReadWriteCloser = (*Line)(nil)

// Read returns client input, blocking until some arrives; io.EOF once the
// line is closed.
func (l *Line) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.in) == 0 && !l.closed {
		l.cond.Wait()
	}
	if len(l.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.in)
	l.in = l.in[n:]
	if len(l.in) == 0 {
		l.in = nil
	}
	l.cond.Broadcast()
	return n, nil
}

// Write sends board output to every connected client. It never blocks.
func (l *Line) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.held {
		l.mu.Unlock()
		return len(p), nil
	}
	for s := range l.sinks {
		l.Dropped.Add(int64(s.push(p)))
	}
	l.mu.Unlock()
	return len(p), nil
}

// Close ends the board's input (Read returns io.EOF) and releases clients
// waiting to feed it. Endpoints are closed by their own Close.
func (l *Line) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cond.Broadcast()
	return nil
}

// Feed queues client input for the board, waiting while InputLimit bytes
// are already queued. It returns false once the line is closed.
func (l *Line) Feed(p []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(p) > 0 {
		for len(l.in) >= InputLimit && !l.closed {
			l.cond.Wait()
		}
		if l.closed {
			return false
		}
		if l.held {
			return true
		}
		n := min(len(p), InputLimit-len(l.in))
		l.in = append(l.in, p[:n]...)
		p = p[n:]
		l.cond.Broadcast()
	}
	return true
}

// Discard drops client input not yet read by the board (RFC 2217 purge,
// and what a chip held in reset never received).
func (l *Line) Discard() {
	l.mu.Lock()
	l.in = nil
	l.mu.Unlock()
	l.cond.Broadcast()
}

// Hold silences the line (true) or lets it carry bytes again (false).
// While held, board output and client input are dropped and input already
// queued is discarded.
func (l *Line) Hold(held bool) {
	l.mu.Lock()
	l.held = held
	if held {
		l.in = nil
	}
	l.mu.Unlock()
	l.cond.Broadcast()
}

// Announce sends text to every connected client even while the line is
// held (what the ROM prints, not the board's program).
func (l *Line) Announce(text string) {
	l.mu.Lock()
	for s := range l.sinks {
		l.Dropped.Add(int64(s.push([]byte(text))))
	}
	l.mu.Unlock()
}

// OnPins sets the function told when a client changes DTR or RTS so that
// the reset or boot-mode pin changes. It is called on the client's
// goroutine, with no lock held.
func (l *Line) OnPins(f func(Pins)) {
	l.mu.Lock()
	l.pinsFn = f
	l.mu.Unlock()
}

// SetControl records a client's DTR and RTS and tells OnPins's function
// when the pins they drive change.
func (l *Line) SetControl(dtr, rts bool) {
	l.mu.Lock()
	before := PinsFor(l.dtr, l.rts)
	l.dtr, l.rts = dtr, rts
	after := PinsFor(dtr, rts)
	f := l.pinsFn
	l.mu.Unlock()
	if f != nil && before != after {
		f(after)
	}
}

// Control returns the last DTR and RTS a client set.
func (l *Line) Control() (dtr, rts bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dtr, l.rts
}

// attach adds a client's output queue.
func (l *Line) attach() *sink {
	s := &sink{wake: make(chan struct{}, 1)}
	l.mu.Lock()
	l.sinks[s] = struct{}{}
	l.mu.Unlock()
	return s
}

// detach removes a client's output queue.
func (l *Line) detach(s *sink) {
	l.mu.Lock()
	delete(l.sinks, s)
	l.mu.Unlock()
}

// sink is one client's queue of board output.
type sink struct {
	mu sync.Mutex
	// buf is output not yet sent to the client; guarded by mu.
	buf []byte
	// wake has a token when buf became non-empty.
	wake chan struct{}
}

// push queues p, dropping what does not fit in OutputLimit; it returns the
// number of bytes dropped.
func (s *sink) push(p []byte) int {
	s.mu.Lock()
	room := OutputLimit - len(s.buf)
	n := min(len(p), max(room, 0))
	s.buf = append(s.buf, p[:n]...)
	s.mu.Unlock()
	if n > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return len(p) - n
}

// take returns and clears the queued output.
func (s *sink) take() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf
	s.buf = nil
	return b
}
