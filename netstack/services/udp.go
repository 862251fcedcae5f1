package services

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// udpService answers datagrams on one port. Its goroutine is an actor woken
// by gVisor when a datagram arrives.
type udpService struct {
	h      *Host
	port   int
	name   string
	answer func(payload []byte) []byte

	ep     tcpip.Endpoint
	wq     *waiter.Queue
	cancel context.CancelFunc
	once   sync.Once
}

type sliceCollector struct{ b []byte }

func (w *sliceCollector) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (h *Host) addUDP(port int, name string, answer func([]byte) []byte) error {
	if port <= 0 || port > 65535 {
		return fmt.Errorf("services: %s port %d is not a UDP port", name, port)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errors.New("services: host is closed")
	}
	if _, dup := h.udp[port]; dup {
		return fmt.Errorf("services: %s: UDP port %d already has a service", name, port)
	}
	wq := new(waiter.Queue)
	ep, tcpipErr := h.cfg.Stack.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, wq)
	if tcpipErr != nil {
		return fmt.Errorf("services: %s: new UDP endpoint: %w", name, translate(tcpipErr))
	}
	fa := tcpip.FullAddress{NIC: h.cfg.NIC, Port: uint16(port)}
	if h.cfg.Addr.Is4() && !h.cfg.Addr.IsUnspecified() {
		fa.Addr = tcpip.AddrFrom4(h.cfg.Addr.As4())
	}
	if tcpipErr := ep.Bind(fa); tcpipErr != nil {
		ep.Close()
		return fmt.Errorf("services: %s: bind UDP port %d: %w", name, port, translate(tcpipErr))
	}
	s := &udpService{h: h, port: port, name: name, answer: answer, ep: ep, wq: wq}
	ctx, cancel := context.WithCancel(h.ctx)
	s.cancel = cancel
	h.udp[port] = s
	actor := h.cfg.Clock.NewTurnActor(h.cfg.Name + "/" + name)
	entry := waiter.NewFunctionEntry(waiter.ReadableEvents, func(waiter.EventMask) { actor.Wake() })
	wq.EventRegister(&entry)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer actor.Close()
		defer wq.EventUnregister(&entry)
		for {
			for s.readOne() {
			}
			if err := actor.Park(ctx, -1); err != nil {
				return
			}
		}
	}()
	return nil
}

// readOne handles one queued datagram; false when none is queued.
func (s *udpService) readOne() bool {
	var w sliceCollector
	res, tcpipErr := s.ep.Read(&w, tcpip.ReadOptions{NeedRemoteAddr: true})
	if tcpipErr != nil {
		return false
	}
	h := s.h
	h.cfg.Clock.Poke()
	h.record(s.port, w.b)
	from := res.RemoteAddr
	faults := h.faults.roll(s.port)
	if _, ok := has(faults, FaultRefuse); ok {
		h.trace("%s: datagram from %v dropped (refuse fault)", s.name, from.Addr)
		return true
	}
	if _, ok := has(faults, FaultBlackhole); ok {
		h.trace("%s: datagram from %v dropped (blackhole fault)", s.name, from.Addr)
		return true
	}
	reply := s.answer(w.b)
	if reply == nil {
		return true
	}
	var delay time.Duration
	for _, f := range faults {
		if f.Kind == FaultLatency && f.Direction.down() {
			delay += h.faults.jitter(f)
		}
	}
	send := func() {
		to := from
		if _, tcpipErr := s.ep.Write(bytes.NewReader(reply), tcpip.WriteOptions{To: &to}); tcpipErr != nil {
			h.trace("%s: reply to %v lost: %v", s.name, to.Addr, translate(tcpipErr))
		}
		h.cfg.Clock.Poke()
	}
	if delay > 0 {
		h.cfg.Clock.AfterFunc(delay, send)
	} else {
		send()
	}
	return true
}

func (s *udpService) close() {
	s.once.Do(func() {
		s.cancel()
		s.ep.Close()
	})
}

// AddUDPEcho starts a UDP echo server: every datagram goes back to its
// sender unchanged.
func (h *Host) AddUDPEcho(port int) error {
	return h.addUDP(port, "udp-echo", func(b []byte) []byte { return b })
}

// NTPPort is the NTP port.
const NTPPort = 123

// ntpEpochOffset is the seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix).
const ntpEpochOffset = 2208988800

func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// AddNTP starts an NTP server (RFC 5905 server mode, stratum 1, reference
// "SIM") on UDP port 123 whose time is the simulator clock's.
func (h *Host) AddNTP() error {
	return h.addUDP(NTPPort, "ntp", func(q []byte) []byte { return NTPAnswer(q, h.cfg.Clock.Now()) })
}

// NTPAnswer builds the server reply to an NTP client request at time now;
// nil for anything that is not a client (mode 3) or symmetric (mode 1)
// request of 48 bytes or more.
func NTPAnswer(q []byte, now time.Time) []byte {
	if len(q) < 48 {
		return nil
	}
	mode := q[0] & 7
	if mode != 3 && mode != 1 {
		return nil
	}
	version := (q[0] >> 3) & 7
	if version == 0 {
		version = 4
	}
	r := make([]byte, 48)
	r[0] = 0<<6 | version<<3 | 4 // LI 0, server mode
	r[1] = 1                     // stratum 1
	r[2] = q[2]                  // poll
	r[3] = 0xec                  // precision 2^-20
	copy(r[12:16], "SIM\x00")    // reference id
	ts := ntpTime(now)
	binary.BigEndian.PutUint64(r[16:24], ts) // reference
	copy(r[24:32], q[40:48])                 // originate = client's transmit
	binary.BigEndian.PutUint64(r[32:40], ts) // receive
	binary.BigEndian.PutUint64(r[40:48], ts) // transmit
	return r
}

// NTPTime decodes the transmit timestamp of an NTP reply.
func NTPTime(reply []byte) (time.Time, error) {
	if len(reply) < 48 {
		return time.Time{}, fmt.Errorf("services: NTP reply of %d bytes, want 48", len(reply))
	}
	v := binary.BigEndian.Uint64(reply[40:48])
	secs := int64(v>>32) - ntpEpochOffset
	nanos := int64((v & 0xffffffff) * 1e9 >> 32)
	return time.Unix(secs, nanos).UTC(), nil
}

var _ = netip.Addr{}
