package serialport

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// MaxClients bounds the TCP connections one board's listener serves at
// once; more are closed on accept (a real port has one adapter).
const MaxClients = 4

// writeTimeout bounds one write to a client that does not read: its queue
// then fills and its output is dropped, but the goroutine stays free to
// notice Close.
const writeTimeout = 200 * time.Millisecond

// TCP is a listener whose connections are the board's serial port: raw
// bytes (pyserial socket://), or telnet with RFC 2217 when the client's
// first byte is a telnet command (pyserial rfc2217:// starts by
// negotiating).
type TCP struct {
	line *Line
	ln   net.Listener
	// Addr is the address it listens on.
	Addr string

	mu sync.Mutex
	// conns are the open connections; guarded by mu.
	conns map[net.Conn]struct{}
	// closed is set by Close; guarded by mu.
	closed bool

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// ListenTCP listens on addr (host:port) for clients of line.
func ListenTCP(line *Line, addr string) (*TCP, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
		}
		return nil, fmt.Errorf("cannot listen on %s for board %s's serial port: %w", addr, line.Name, err)
	}
	t := &TCP{line: line, ln: ln, Addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	t.wg.Add(1)
	go t.acceptLoop()
	return t, nil
}

// Close stops listening, closes every connection and waits for their
// goroutines.
func (t *TCP) Close() error {
	t.closeOnce.Do(func() {
		t.ln.Close()
		t.mu.Lock()
		t.closed = true
		for c := range t.conns {
			c.Close()
		}
		t.mu.Unlock()
		t.wg.Wait()
	})
	return nil
}

func (t *TCP) acceptLoop() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		t.mu.Lock()
		if t.closed || len(t.conns) >= MaxClients {
			t.mu.Unlock()
			c.Close()
			continue
		}
		t.conns[c] = struct{}{}
		t.wg.Add(1)
		t.mu.Unlock()
		go t.serve(c)
	}
}

// tcpConn is one client.
type tcpConn struct {
	c    net.Conn
	line *Line
	sink *sink
	// mu orders writes of board output and telnet answers; telnet is set
	// (under mu) once the client's first byte is a telnet command.
	mu     sync.Mutex
	telnet bool
	done   chan struct{}
}

func (t *TCP) serve(c net.Conn) {
	defer t.wg.Done()
	tc := &tcpConn{c: c, line: t.line, sink: t.line.attach(), done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tc.writeLoop()
	}()
	tc.readLoop()
	close(tc.done)
	c.Close()
	wg.Wait()
	t.line.detach(tc.sink)
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// readLoop feeds the client's bytes to the board until the client or the
// listener closes the connection. A telnet client's control-line changes
// reach the line's pins; when it disconnects, its lines are released as
// an unplugged adapter's would be.
func (tc *tcpConn) readLoop() {
	var ts *telnetSession
	first := true
	buf := make([]byte, 4096)
	for {
		n, err := tc.c.Read(buf)
		if n > 0 {
			data := buf[:n]
			if first {
				first = false
				if data[0] == tnIAC {
					ts = newTelnetSession()
					tc.mu.Lock()
					tc.telnet = true
					tc.mu.Unlock()
				}
			}
			if ts != nil {
				var reply []byte
				var ev telnetEvent
				data, reply, ev = ts.feed(data)
				if len(reply) > 0 {
					tc.send(reply, true)
				}
				if ev.purgeRX {
					tc.line.Discard()
				}
				if ev.control {
					tc.line.SetControl(ev.dtr, ev.rts)
				}
			}
			if len(data) > 0 && !tc.line.Feed(data) {
				return
			}
		}
		if err != nil {
			if ts != nil {
				tc.line.SetControl(false, false)
			}
			return
		}
	}
}

// send writes p to the client; raw telnet answers go as they are, board
// output is escaped in telnet mode. It reports false when the client is
// gone or does not read.
func (tc *tcpConn) send(p []byte, control bool) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.telnet && !control {
		p = escapeIAC(p)
	}
	tc.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := tc.c.Write(p)
	return err == nil
}

// writeLoop sends board output to the client. A client that stops reading
// loses output (its queue is bounded) but never holds the board.
func (tc *tcpConn) writeLoop() {
	for {
		select {
		case <-tc.done:
			return
		case <-tc.sink.wake:
		}
		if data := tc.sink.take(); len(data) > 0 && !tc.send(data, false) {
			tc.line.Dropped.Add(int64(len(data)))
		}
	}
}
