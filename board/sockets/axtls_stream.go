package sockets

import (
	"bytes"
	"io"
)

// AxStream is an axTLS client over a stream that is not a board socket
// (wrap_socket takes any object with the stream methods, as
// modtls_axtls.c does). The engine does no I/O: the board's tls module
// writes Output to the stream and Feeds it what the stream reads.
type AxStream struct {
	c   *axClient
	in  []byte
	eof bool
	out bytes.Buffer
}

// NewAxStream starts a client for host (SNI; empty: none) with the table's
// seeded randomness and clock.
func (t *Table) NewAxStream(host string) *AxStream {
	s := &AxStream{}
	s.c = newAxClient(streamIO{s}, t.cfg.Rand, t.cfg.Clock.Now, host)
	s.c.charge = t.charge
	return s
}

// streamIO is the engine's side of an AxStream: reads take fed bytes
// (EAGAIN when there are none yet, EOF after the stream ended), writes
// queue output.
type streamIO struct{ s *AxStream }

func (i streamIO) Read(p []byte) (int, error) {
	if len(i.s.in) == 0 {
		if i.s.eof {
			return 0, io.EOF
		}
		return 0, errAgain{}
	}
	n := copy(p, i.s.in)
	i.s.in = i.s.in[n:]
	return n, nil
}

func (i streamIO) Write(p []byte) (int, error) { return i.s.out.Write(p) }

// Feed adds what the stream returned; eof: it returned nothing (end).
func (s *AxStream) Feed(p []byte, eof bool) {
	s.in = append(s.in, p...)
	s.eof = s.eof || eof
}

// Output takes the bytes the engine wants written to the stream.
func (s *AxStream) Output() []byte {
	b := append([]byte(nil), s.out.Bytes()...)
	s.out.Reset()
	return b
}

// ErrNeedInput is what Handshake and Read return when the engine waits for
// the stream: feed it and call again.
var ErrNeedInput = errAgain{}

// Handshake runs the handshake as far as the fed bytes allow: nil when
// done, ErrNeedInput, or the axTLS error (close_notify during the
// handshake is ENOTCONN, as modtls_axtls.c raises it).
func (s *AxStream) Handshake() error {
	err := s.c.Handshake()
	if err == nil {
		return nil
	}
	if _, again := err.(errAgain); again {
		return ErrNeedInput
	}
	if ae, ok := err.(*AxError); ok {
		if ae.Code == axCloseNotify {
			return oserr(ENOTCONN)
		}
		return ae.scriptError()
	}
	return (&AxError{Code: axConnLost}).scriptError()
}

// Read returns up to n bytes of application data: (nil, ErrNeedInput)
// while the engine waits for the stream, (nil, nil) at the end (EOF).
func (s *AxStream) Read(n int) ([]byte, error) {
	p := make([]byte, max(n, 0))
	k, err := s.c.Read(p)
	if k > 0 {
		return p[:k], nil
	}
	switch e := err.(type) {
	case nil:
		return nil, nil
	case errAgain:
		return nil, ErrNeedInput
	case *AxError:
		return nil, e.scriptError()
	}
	return nil, nil // io.EOF: close_notify or a lost stream read as EOF
}

// Write encrypts p (handshaking first if needed); the records go to
// Output.
func (s *AxStream) Write(p []byte) (int, error) {
	n, err := s.c.Write(p)
	if err != nil {
		if _, again := err.(errAgain); again {
			return 0, ErrNeedInput
		}
		if ae, ok := err.(*AxError); ok {
			if ae.Code == axConnLost || ae.Code == axCloseNotify {
				return 0, nil
			}
			return 0, ae.scriptError()
		}
		return 0, err
	}
	return n, nil
}

// Close queues close_notify (after a completed handshake).
func (s *AxStream) Close() { s.c.Close() }

// Need is how many bytes complete the record the engine is reading: axTLS
// asks its stream for exactly that (5 for a header, then the rest of the
// record), so a stream that fills whole buffers never blocks for more.
func (s *AxStream) Need() int {
	in := append(append([]byte(nil), s.c.in...), s.in...)
	if len(in) < 5 {
		return 5 - len(in)
	}
	n := int(in[3])<<8 | int(in[4])
	if n > axMaxRecord || 5+n <= len(in) {
		return 5
	}
	return 5 + n - len(in)
}
