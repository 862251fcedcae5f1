package sockets

import (
	"bytes"
	"context"
	"io"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// limitWriter copies into a fixed buffer, at most len(p) bytes. A short
// write reports io.ErrShortWrite so TCP keeps the rest queued (a datagram's
// rest is dropped by the UDP endpoint, as lwIP does).
type limitWriter struct {
	p []byte
	n int
}

func (w *limitWriter) Write(b []byte) (int, error) {
	n := copy(w.p[w.n:], b)
	w.n += n
	if n < len(b) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// pbufWriter is limitWriter for TCP receives: it takes bytes from one
// received segment only. lwip_tcp_receive copies from the first pbuf of the
// chain and stops at its end, so recv(4096) after three segments of 1420,
// 1420 and 80 bytes returns 1420. gVisor hands each segment's payload to
// one Write call (a frame arrives as one view); the second call is refused,
// which ends the read.
type pbufWriter struct {
	p     []byte
	n     int
	calls int
}

func (w *pbufWriter) Write(b []byte) (int, error) {
	w.calls++
	if w.calls > 1 {
		return 0, io.ErrShortWrite
	}
	n := copy(w.p[w.n:], b)
	w.n += n
	if n < len(b) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// sndAvail approximates tcp_sndbuf(): the endpoint's send buffer is sized
// to lwIP's TCP_SND_BUF, so gVisor accepts (and partially writes) exactly
// what lwIP would; this reports whether any space is free (SendBuffer) or
// not (0).
func (t *Table) sndAvail(s *sock) int {
	if s.ep.Readiness(waiter.WritableEvents)&waiter.WritableEvents != 0 {
		return t.cfg.SendBuffer
	}
	return 0
}

// tcpSend is modlwip's lwip_tcp_send: one write of at most the free send
// buffer.
func (t *Table) tcpSend(ctx context.Context, s *sock, p []byte) (int, error) {
	t.refresh(s)
	if s.ep == nil {
		return 0, oserr(lwipErr(s.state).errno())
	}
	if s.state == stNew || s.state == stListening {
		return 0, oserr(ENOTCONN) // tcp_write on a pcb that is not connected: ERR_CONN
	}
	avail := 0
	if s.state != stConnecting {
		avail = t.sndAvail(s)
	}
	if avail == 0 {
		if s.timeout == 0 {
			return 0, oserr(EAGAIN)
		}
		deadline, has := t.deadline(s.timeout, true)
		ws := t.watch(s.wq)
		defer ws.done()
		for {
			t.refresh(s)
			if s.state == stConnecting {
				// wait
			} else if s.state >= stConnected && s.ep != nil {
				if avail = t.sndAvail(s); avail >= 16 {
					break
				}
			} else {
				break
			}
			timedOut, err := ws.wait(ctx, deadline, has)
			if err != nil {
				return 0, err
			}
			if timedOut {
				return 0, oserr(ETIMEDOUT)
			}
		}
		if s.ep == nil {
			return 0, oserr(lwipErr(s.state).errno())
		}
		if s.state < stConnected {
			return 0, oserr(ENOTCONN)
		}
	}
	n := min(avail, len(p))
	if n == 0 {
		return 0, nil
	}
	var r bytes.Reader
	r.Reset(p[:n])
	written, tcpipErr := s.ep.Write(&r, tcpip.WriteOptions{})
	if tcpipErr != nil {
		if _, ok := tcpipErr.(*tcpip.ErrWouldBlock); ok && written == 0 {
			if s.timeout == 0 {
				return 0, oserr(EAGAIN)
			}
		}
		if written == 0 {
			return 0, oserr(lwipFromTCPIP(tcpipErr, false).errno())
		}
	}
	t.mu.Lock()
	s.bytesOut += uint64(written)
	t.mu.Unlock()
	return int(written), nil
}

// tcpRecv is modlwip's lwip_tcp_receive.
func (t *Table) tcpRecv(ctx context.Context, s *sock, p []byte, flags int) (int, error) {
	t.refresh(s)
	if s.ep == nil {
		return 0, oserr(lwipErr(s.state).errno())
	}
	if s.state == stListening {
		return 0, oserr(ENOTCONN)
	}
	if s.state == stNew {
		// lwip_tcp_receive on a PCB that never connected: no pbuf, so a
		// non-blocking call says EAGAIN and a blocking one skips its wait
		// loop and says ENOTCONN. The PCB stays: the socket can still
		// connect or listen.
		if s.timeout == 0 || flags&MsgDontWait != 0 {
			return 0, oserr(EAGAIN)
		}
		return 0, oserr(ENOTCONN)
	}
	peek := flags&MsgPeek != 0
	ws := t.watch(s.wq)
	defer ws.done()
	n, eof, err := t.tryRead(s, p, peek)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		return n, nil
	}
	if eof && s.state == stConnected {
		t.setState(s, stPeerClosed)
	}
	if s.timeout == 0 || flags&MsgDontWait != 0 {
		if s.state == stPeerClosed {
			return 0, nil
		}
		return 0, oserr(EAGAIN)
	}
	deadline, has := t.deadline(s.timeout, true)
	for s.state == stConnected {
		timedOut, err := ws.wait(ctx, deadline, has)
		if err != nil {
			return 0, err
		}
		t.refresh(s)
		if s.ep == nil {
			break
		}
		n, eof, err := t.tryRead(s, p, peek)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			return n, nil
		}
		if eof && s.state == stConnected {
			t.setState(s, stPeerClosed)
		}
		if timedOut && s.state == stConnected {
			return 0, oserr(ETIMEDOUT)
		}
	}
	switch {
	case s.state == stPeerClosed:
		return 0, nil
	case s.state >= 0:
		return 0, oserr(ENOTCONN)
	default:
		// The PCB failed while we waited: report it like the stream
		// error check, the socket keeps its error for the next call.
		return 0, oserr(lwipErr(s.state).errno())
	}
}

// tryRead reads what is there without waiting.
func (t *Table) tryRead(s *sock, p []byte, peek bool) (n int, eof bool, err error) {
	if s.ep == nil {
		return 0, false, oserr(lwipErr(s.state).errno())
	}
	if len(p) == 0 {
		return 0, false, nil
	}
	w := pbufWriter{p: p}
	res, tcpipErr := s.ep.Read(&w, tcpip.ReadOptions{Peek: peek})
	if tcpipErr != nil {
		switch tcpipErr.(type) {
		case *tcpip.ErrWouldBlock:
			return 0, false, nil
		case *tcpip.ErrClosedForReceive:
			return 0, true, nil
		}
		t.refresh(s)
		if s.ep != nil {
			t.fail(s, lwipFromTCPIP(tcpipErr, false), errCLSD)
		}
		return 0, false, oserr(lwipErr(s.state).errno())
	}
	if !peek {
		t.mu.Lock()
		s.bytesIn += uint64(res.Count)
		// The pbuf was read to its end if the read stopped short of p;
		// a full p may have left some of it (recv_offset).
		if res.Count < len(p) {
			s.recvOff = 0
		} else {
			s.recvOff += res.Count
		}
		t.mu.Unlock()
	}
	return res.Count, false, nil
}

// udpRecv is lwip_raw_udp_receive.
func (t *Table) udpRecv(ctx context.Context, s *sock, p []byte, flags int) (int, tcpip.FullAddress, error) {
	peek := flags&MsgPeek != 0
	read := func() (int, tcpip.FullAddress, bool, error) {
		n, from, ok := s.udpq.take(p, peek)
		if ok && !peek {
			t.mu.Lock()
			s.bytesIn += uint64(n)
			t.mu.Unlock()
		}
		return n, from, ok, nil
	}
	ws := t.watch(s.wq)
	defer ws.done()
	n, from, ok, err := read()
	if err != nil || ok {
		return n, from, err
	}
	if s.timeout == 0 || flags&MsgDontWait != 0 {
		return 0, from, oserr(EAGAIN)
	}
	deadline, has := t.deadline(s.timeout, true)
	for {
		timedOut, err := ws.wait(ctx, deadline, has)
		if err != nil {
			return 0, from, err
		}
		if s.ep == nil {
			return 0, from, oserr(EBADF)
		}
		n, from, ok, err := read()
		if err != nil || ok {
			return n, from, err
		}
		if timedOut {
			return 0, from, oserr(ETIMEDOUT)
		}
	}
}

// udpSend is lwip_raw_udp_send.
func (t *Table) udpSend(s *sock, p []byte, to *tcpip.FullAddress) (int, error) {
	if len(p) > 0xffff {
		p = p[:0xffff]
	}
	if err := t.admitDatagram(s, len(p)); err != nil {
		return 0, err
	}
	var r bytes.Reader
	r.Reset(p)
	n, tcpipErr := s.ep.Write(&r, tcpip.WriteOptions{To: to})
	if tcpipErr != nil {
		switch tcpipErr.(type) {
		case *tcpip.ErrMessageTooLong:
			return 0, oserr(ENOMEM) // pbuf_alloc fails for such a datagram
		case *tcpip.ErrDestinationRequired:
			return 0, oserr(EHOSTUNREACH)
		}
		return 0, oserr(lwipFromTCPIP(tcpipErr, true).errno())
	}
	t.mu.Lock()
	s.bytesOut += uint64(n)
	t.mu.Unlock()
	return len(p), nil
}

// Send is send(data): the number of bytes queued.
func (t *Table) Send(ctx context.Context, fd int, p []byte) (int, error) {
	s, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	t.refresh(s)
	if err := t.checkConnected(s); err != nil {
		return 0, err
	}
	return t.writeOnce(ctx, s, p)
}

func (t *Table) writeOnce(ctx context.Context, s *sock, p []byte) (int, error) {
	switch s.kind {
	case kindTLS:
		return t.tlsWrite(ctx, s, p)
	case kindUDP:
		if s.ep == nil {
			return 0, oserr(EBADF)
		}
		return t.udpSend(s, p, nil)
	default:
		return t.tcpSend(ctx, s, p)
	}
}

func (t *Table) readOnce(ctx context.Context, s *sock, p []byte, flags int) (int, error) {
	switch s.kind {
	case kindTLS:
		return t.tlsRead(ctx, s, p)
	case kindUDP:
		if s.ep == nil {
			return 0, oserr(EBADF)
		}
		n, _, err := t.udpRecv(ctx, s, p, flags)
		return n, err
	default:
		return t.tcpRecv(ctx, s, p, flags)
	}
}

// SendTo is sendto(data, (host, port)).
func (t *Table) SendTo(ctx context.Context, fd int, p []byte, host string, port int) (int, error) {
	s, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	t.refresh(s)
	if err := t.checkConnected(s); err != nil {
		return 0, err
	}
	fa, err := parseAddr(host, port)
	if err != nil {
		return 0, err
	}
	if s.kind == kindUDP {
		if fa.Addr.Len() == 0 {
			fa.Addr = tcpip.AddrFrom4([4]byte{})
		}
		if fa.Port == 0 && !s.raw && s.ep != nil {
			return t.sendToPort0(s, p, fa)
		}
		return t.udpSend(s, p, &fa)
	}
	return t.writeOnce(ctx, s, p)
}

// SendAll is sendall(data).
func (t *Table) SendAll(ctx context.Context, fd int, p []byte) error {
	s, err := t.get(fd)
	if err != nil {
		return err
	}
	t.refresh(s)
	if err := t.checkConnected(s); err != nil {
		return err
	}
	switch s.kind {
	case kindUDP:
		return &OSError{Errno: -1, Msg: "NotImplementedError"}
	case kindTLS:
		_, err := t.WriteStream(ctx, fd, p)
		return err
	}
	if s.timeout == 0 && s.ep != nil && s.state != stConnecting && len(p) > t.sndAvail(s) {
		return oserr(EAGAIN)
	}
	for len(p) > 0 {
		n, err := t.tcpSend(ctx, s, p)
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// Recv is recv(n, flags): the bytes read into p (0 = peer closed).
func (t *Table) Recv(ctx context.Context, fd int, p []byte, flags int) (int, error) {
	s, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	t.refresh(s)
	if err := t.checkConnected(s); err != nil {
		return 0, err
	}
	return t.readOnce(ctx, s, p, flags)
}

// RecvFrom is recvfrom(n, flags).
func (t *Table) RecvFrom(ctx context.Context, fd int, p []byte, flags int) (int, string, int, error) {
	s, err := t.get(fd)
	if err != nil {
		return 0, "", 0, err
	}
	t.refresh(s)
	if err := t.checkConnected(s); err != nil {
		return 0, "", 0, err
	}
	if s.kind == kindUDP {
		n, from, err := t.udpRecv(ctx, s, p, flags)
		return n, addrString(from), int(from.Port), err
	}
	n, err := t.readOnce(ctx, s, p, flags)
	peer := s.remote
	if s.kind == kindTLS && s.tls.under != nil {
		peer = s.tls.under.remote
	}
	return n, addrString(peer), int(peer.Port), err
}

// ReadStream is the stream protocol's read(n)/readinto(buf): it reads until
// p is full or the peer closes (once: a single read). A non-blocking socket
// with nothing to read reports EAGAIN (the script sees None); with some data
// read it returns the data.
func (t *Table) ReadStream(ctx context.Context, fd int, p []byte, once bool) (int, error) {
	s, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	done := 0
	for done < len(p) {
		t.refresh(s)
		if s.kind != kindTLS && s.ep == nil {
			if done > 0 && lwipErr(s.state).errno() == EAGAIN {
				return done, nil
			}
			return done, oserr(lwipErr(s.state).errno())
		}
		n, err := t.readOnce(ctx, s, p[done:], 0)
		if err != nil {
			if Errno(err) == EAGAIN && done > 0 {
				return done, nil
			}
			return done, err
		}
		if n == 0 {
			return done, nil
		}
		done += n
		if once {
			return done, nil
		}
	}
	return done, nil
}

// ReadAll is read() with no size: everything until the peer closes (or, for
// a non-blocking socket, until nothing is left).
func (t *Table) ReadAll(ctx context.Context, fd int, limit int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 256)
	for {
		n, err := t.ReadStream(ctx, fd, buf, true)
		out = append(out, buf[:n]...)
		if err != nil {
			if Errno(err) == EAGAIN && len(out) > 0 {
				return out, nil
			}
			return out, err
		}
		if n == 0 {
			return out, nil
		}
		if limit > 0 && len(out) > limit {
			return out, oserr(ENOMEM)
		}
	}
}

// ReadLine is the unbuffered readline(max): one byte at a time up to and
// including '\n'. A non-blocking socket with nothing read reports EAGAIN.
func (t *Table) ReadLine(ctx context.Context, fd int, max int) ([]byte, error) {
	s, err := t.get(fd)
	if err != nil {
		return nil, err
	}
	var out []byte
	var b [1]byte
	for max < 0 || len(out) < max {
		t.refresh(s)
		if s.kind != kindTLS && s.ep == nil {
			return nil, oserr(lwipErr(s.state).errno())
		}
		n, err := t.readOnce(ctx, s, b[:], 0)
		if err != nil {
			if Errno(err) == EAGAIN && len(out) > 0 {
				return out, nil
			}
			return nil, err
		}
		if n == 0 {
			break
		}
		out = append(out, b[0])
		if b[0] == '\n' {
			break
		}
	}
	return out, nil
}

// WriteStream is the stream protocol's write(buf): it writes everything
// unless the socket is non-blocking (then what fit; EAGAIN if nothing did).
func (t *Table) WriteStream(ctx context.Context, fd int, p []byte) (int, error) {
	s, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	done := 0
	for done < len(p) {
		t.refresh(s)
		if s.kind != kindTLS && s.ep == nil {
			return done, oserr(lwipErr(s.state).errno())
		}
		n, err := t.writeOnce(ctx, s, p[done:])
		if err != nil {
			if Errno(err) == EAGAIN && done > 0 {
				return done, nil
			}
			return done, err
		}
		if n == 0 {
			return done, nil
		}
		done += n
	}
	return done, nil
}

// PollFlags is the socket's ioctl(MP_STREAM_POLL, events): the ready flags.
func (t *Table) PollFlags(fd int, events int) int {
	s, err := t.get(fd)
	if err != nil {
		return PollNval
	}
	return t.pollFlags(s, events)
}

func (t *Table) pollFlags(s *sock, events int) int {
	if s.kind == kindTLS {
		return t.tlsPollFlags(s, events)
	}
	t.refresh(s)
	ret := 0
	if events&PollIn != 0 && s.ep != nil {
		switch {
		case s.state == stListening:
			t.drainListeners()
			if t.hasPending(s) {
				ret |= PollIn
			}
		case s.kind == kindTCP:
			if n, tcpipErr := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); tcpipErr == nil && n > 0 {
				ret |= PollIn
			}
		default:
			if s.udpq != nil && s.udpq.ready() {
				ret |= PollIn
			}
		}
	}
	if events&PollOut != 0 && s.ep != nil {
		if s.kind == kindUDP {
			ret |= PollOut
		} else if s.state == stNew {
			// A fresh PCB's tcp_sndbuf is TCP_SND_BUF: modlwip reports a
			// new or bound socket writable (with HUP, below).
			ret |= PollOut
		} else if s.state != stConnecting && s.state != stListening && t.sndAvail(s) > 0 {
			ret |= PollOut
		}
	}
	switch {
	case s.state == stNew:
		ret |= PollHup
	case s.state == stPeerClosed:
		ret |= events & (PollIn | PollOut)
	case s.state == int(errRST):
		ret |= events & PollOut
		ret |= PollHup
	case s.state == int(errBADF):
		ret |= PollNval
	case s.state < 0:
		ret |= PollErr
	}
	return ret
}

// PollReq is one registered object of a poll: a socket and the events asked.
type PollReq struct {
	FD     int
	Events int
}

// Poll waits until at least one socket is ready or timeout passes (timeout
// < 0: forever) and returns each socket's ready flags.
func (t *Table) Poll(ctx context.Context, reqs []PollReq, timeout time.Duration) ([]int, error) {
	out := make([]int, len(reqs))
	var deadline time.Duration
	has := timeout >= 0
	if has {
		deadline = t.now() + timeout
	}
	for {
		var qs []*waiter.Queue
		socks := make([]*sock, len(reqs))
		for i, r := range reqs {
			if s, err := t.get(r.FD); err == nil {
				socks[i] = s
				qs = append(qs, s.queues()...)
			}
		}
		ws := t.watch(qs...)
		ready := 0
		heldBack := false
		for i, r := range reqs {
			s := socks[i]
			if s == nil {
				out[i] = PollNval
				ready++
				continue
			}
			out[i] = t.pollFlags(s, r.Events)
			if out[i] != 0 {
				ready++
			} else if s.state == stListening && s.ep != nil && r.Events&PollIn != 0 &&
				s.ep.Readiness(waiter.ReadableEvents)&waiter.ReadableEvents != 0 {
				heldBack = true
			}
		}
		if ready > 0 || (has && t.now() >= deadline) {
			ws.done()
			return out, nil
		}
		wait, waitHas := deadline, has
		// A listener held back by a full PCB pool becomes ready when a slot
		// frees, which no queue signals: look again at lwIP's slow-timer pace.
		if next := t.now() + 500*time.Millisecond; heldBack && (!has || next < deadline) {
			wait, waitHas = next, true
		}
		_, err := ws.wait(ctx, wait, waitHas)
		ws.done()
		if err != nil {
			return out, err
		}
	}
}

func (s *sock) queues() []*waiter.Queue {
	if s.kind == kindTLS {
		if s.tls.under != nil {
			return []*waiter.Queue{s.tls.under.wq}
		}
		return nil
	}
	return []*waiter.Queue{s.wq}
}
