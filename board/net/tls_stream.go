package net

import (
	"errors"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
	"github.com/esp8266sim/esp8266sim/board/sockets"
)

// axTLS over a stream that is not a board socket (wrap_socket takes any
// stream on the ESP8266): the TLS engine lives here, the board's tls module
// moves bytes between it and the stream object. Handles are small integers
// per board.

type axStreamsKey struct{}

type axStreams struct {
	m    map[int]*sockets.AxStream
	next int
}

// maxAxStreams bounds the engines a script may hold open: each costs the
// board's heap on the ESP8266 (axTLS's buffers are 5 KB), so more than a
// few fail there too.
const maxAxStreams = 8

func axStreamsOf(b hostabi.Host) *axStreams {
	if s, _ := b.Value(axStreamsKey{}).(*axStreams); s != nil {
		return s
	}
	s := &axStreams{m: map[int]*sockets.AxStream{}}
	b.SetValue(axStreamsKey{}, s)
	return s
}

func axStream(b hostabi.Host, args []hostabi.Value) (*sockets.AxStream, int, error) {
	id, err := hostabi.ArgInt(args, 0)
	if err != nil {
		return nil, 0, err
	}
	s := axStreamsOf(b).m[id]
	if s == nil {
		return nil, id, &sockets.OSError{Errno: sockets.EBADF}
	}
	return s, id, nil
}

func init() {
	// tls_snew(hostname|None) -> handle
	regSock("tls_snew", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		host := ""
		if len(args) > 0 && args[0] != nil {
			var err error
			if host, err = hostabi.ArgStr(args, 0); err != nil {
				return nil, err
			}
		}
		reg := axStreamsOf(b)
		if len(reg.m) >= maxAxStreams {
			return nil, &hostabi.PyError{Type: "MemoryError"}
		}
		reg.next++
		reg.m[reg.next] = st.table.NewAxStream(host)
		return int64(reg.next), nil
	})
	// tls_sfeed(handle, addr, len): what the stream read; len 0: its end.
	regSock("tls_sfeed", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		s, _, err := axStream(b, args)
		if err != nil {
			return nil, err
		}
		n, err := hostabi.ArgInt(args, 2)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			s.Feed(nil, true)
			return nil, nil
		}
		p, err := b.ArgBuf(args, 1)
		if err != nil {
			return nil, err
		}
		s.Feed(p[:min(n, len(p))], false)
		return nil, nil
	})
	// tls_sout(handle) -> length of the bytes to write to the stream
	// (staged for take).
	regSock("tls_sout", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		s, _, err := axStream(b, args)
		if err != nil {
			return nil, err
		}
		st.stage = append(st.stage[:0], s.Output()...)
		return int64(len(st.stage)), nil
	})
	// tls_shs(handle) -> 1 done, 0 waiting for the stream.
	regSock("tls_shs", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		s, _, err := axStream(b, args)
		if err != nil {
			return nil, err
		}
		switch err := s.Handshake(); {
		case err == nil:
			return int64(1), nil
		case errors.Is(err, sockets.ErrNeedInput):
			return int64(0), nil
		default:
			return nil, err
		}
	})
	// tls_sneed(handle) -> how many bytes the engine wants from the stream.
	regSock("tls_sneed", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		s, _, err := axStream(b, args)
		if err != nil {
			return nil, err
		}
		return int64(s.Need()), nil
	})
	// tls_sread(handle, n) -> bytes staged (>0), 0 at the end, -1 waiting
	// for the stream.
	regSock("tls_sread", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		s, _, err := axStream(b, args)
		if err != nil {
			return nil, err
		}
		n, err := hostabi.ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		p, err := s.Read(n)
		if errors.Is(err, sockets.ErrNeedInput) {
			return int64(-1), nil
		}
		if err != nil {
			return nil, err
		}
		st.stage = append(st.stage[:0], p...)
		return int64(len(p)), nil
	})
	// tls_swrite(handle, addr, len) -> bytes taken; -1 waiting for the
	// stream (handshake).
	regSock("tls_swrite", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		s, _, err := axStream(b, args)
		if err != nil {
			return nil, err
		}
		n, err := hostabi.ArgInt(args, 2)
		if err != nil {
			return nil, err
		}
		var p []byte
		if n > 0 {
			if p, err = b.ArgBuf(args, 1); err != nil {
				return nil, err
			}
			p = p[:min(n, len(p))]
		}
		k, err := s.Write(p)
		if errors.Is(err, sockets.ErrNeedInput) {
			return int64(-1), nil
		}
		if err != nil {
			return nil, err
		}
		return int64(k), nil
	})
	// tls_sclose(handle) -> length of the close_notify to write (staged);
	// the handle is gone.
	regSock("tls_sclose", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		s, id, err := axStream(b, args)
		if err != nil {
			return nil, err
		}
		s.Close()
		delete(axStreamsOf(b).m, id)
		st.stage = append(st.stage[:0], s.Output()...)
		return int64(len(st.stage)), nil
	})
}
