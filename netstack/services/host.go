package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// maxRecorded caps what a host keeps of the bytes it received, per port.
const maxRecorded = 1 << 20

// HostConfig describes a simulated computer (an internet host or a LAN
// peer) whose services run on a gVisor stack.
type HostConfig struct {
	// Name labels trace lines and actors.
	Name string
	// Stack is the host's stack; NIC 0 listens on every NIC.
	Stack *stack.Stack
	NIC   tcpip.NICID
	// Addr is the address services bind; invalid means every address.
	Addr netip.Addr
	// Clock is the world's clock.
	Clock *vclock.Clock
	// Seed drives fault probabilities and jitter.
	Seed uint64
	// Trace, when set, receives one line per connection event.
	Trace func(string)
}

// Host runs services on one stack and applies host faults to them.
type Host struct {
	cfg    HostConfig
	faults faultSet
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex
	// Guarded by mu.
	tcp      map[int]*tcpService
	udp      map[int]*udpService
	received map[int][]byte
	dialed   map[*Conn]struct{} // connections the host opened (chat connect mode)
	closed   bool

	wg sync.WaitGroup
}

// NewHost checks cfg and returns a host with no services.
func NewHost(cfg HostConfig) (*Host, error) {
	if cfg.Stack == nil {
		return nil, errors.New("services: HostConfig.Stack is nil")
	}
	if cfg.Clock == nil {
		return nil, errors.New("services: HostConfig.Clock is nil")
	}
	if cfg.Addr.IsValid() && !cfg.Addr.Is4() {
		return nil, fmt.Errorf("services: HostConfig.Addr %v is not IPv4", cfg.Addr)
	}
	if cfg.Name == "" {
		cfg.Name = "host"
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Host{
		cfg: cfg, ctx: ctx, cancel: cancel,
		tcp: map[int]*tcpService{}, udp: map[int]*udpService{}, received: map[int][]byte{},
		dialed: map[*Conn]struct{}{},
	}
	h.faults.rng = simrand.New(cfg.Seed, "host-faults/"+cfg.Name)
	return h, nil
}

// Name is the host's name.
func (h *Host) Name() string { return h.cfg.Name }

func (h *Host) trace(format string, args ...any) {
	if h.cfg.Trace != nil {
		h.cfg.Trace(h.cfg.Name + ": " + fmt.Sprintf(format, args...))
	}
}

// SetFaults replaces the host's faults; safe while running. A refuse fault
// of probability 1 closes the affected listeners until it is removed.
func (h *Host) SetFaults(fs []Fault) error {
	for i, f := range fs {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("fault %d: %w", i, err)
		}
	}
	h.faults.set(fs)
	h.mu.Lock()
	svcs := make([]*tcpService, 0, len(h.tcp))
	for _, s := range h.tcp {
		svcs = append(svcs, s)
	}
	h.mu.Unlock()
	for _, s := range svcs {
		s.syncListener()
	}
	return nil
}

// Faults returns the current faults.
func (h *Host) Faults() []Fault { return h.faults.list() }

// Received returns a copy of what clients sent to the host's services on
// port (0: every port, in port order), up to 1 MiB per port.
func (h *Host) Received(port int) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if port != 0 {
		return append([]byte(nil), h.received[port]...)
	}
	var ports []int
	for p := range h.received {
		ports = append(ports, p)
	}
	sort.Ints(ports)
	var out []byte
	for _, p := range ports {
		out = append(out, h.received[p]...)
	}
	return out
}

func (h *Host) record(port int, b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.received[port]
	if room := maxRecorded - len(r); room > 0 {
		h.received[port] = append(r, b[:min(len(b), room)]...)
	}
}

// Close stops every service and waits for their goroutines; idempotent.
func (h *Host) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return
	}
	h.closed = true
	tcps := h.tcp
	udps := h.udp
	dialed := h.dialed
	h.dialed = map[*Conn]struct{}{}
	h.mu.Unlock()
	h.cancel()
	for _, s := range tcps {
		s.close()
	}
	for _, s := range udps {
		s.close()
	}
	for c := range dialed {
		c.Reset()
	}
	h.wg.Wait()
}

// trackDialed registers a connection the host opened so Close can end it;
// false when the host is already closed.
func (h *Host) trackDialed(c *Conn, on bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !on {
		delete(h.dialed, c)
		return true
	}
	if h.closed {
		return false
	}
	h.dialed[c] = struct{}{}
	return true
}

// recordingConn copies what the service reads into the host's record.
type recordingConn struct {
	net.Conn
	h    *Host
	port int
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if n > 0 {
		r.h.record(r.port, p[:n])
	}
	return n, err
}

// tcpService is one listening port with a handler run per connection on
// that connection's goroutine.
type tcpService struct {
	h       *Host
	port    int
	name    string
	handler func(c net.Conn)

	mu sync.Mutex
	// Guarded by mu.
	ln     *Listener
	conns  map[*Conn]struct{}
	closed bool
}

// addTCP registers and starts a TCP service.
func (h *Host) addTCP(port int, name string, handler func(net.Conn)) error {
	if port <= 0 || port > 65535 {
		return fmt.Errorf("services: %s port %d is not a TCP port", name, port)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return errors.New("services: host is closed")
	}
	if _, dup := h.tcp[port]; dup {
		h.mu.Unlock()
		return fmt.Errorf("services: %s: TCP port %d already has a service", name, port)
	}
	s := &tcpService{h: h, port: port, name: name, handler: handler, conns: map[*Conn]struct{}{}}
	h.tcp[port] = s
	h.mu.Unlock()
	if h.faults.refusesAll(port) {
		return nil
	}
	return s.listen()
}

func (s *tcpService) listen() error {
	ln, err := ListenTCP(s.h.cfg.Stack, s.h.cfg.NIC, s.h.cfg.Addr, uint16(s.port), s.h.cfg.Clock, nil, s.h.cfg.Name+"/"+s.name)
	if err != nil {
		return fmt.Errorf("services: %s on port %d: %w", s.name, s.port, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		ln.closeActor()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	s.h.wg.Add(1)
	go s.acceptLoop(ln)
	return nil
}

// syncListener closes or reopens the listener to follow refuse faults.
func (s *tcpService) syncListener() {
	refuse := s.h.faults.refusesAll(s.port)
	s.mu.Lock()
	ln, closed := s.ln, s.closed
	if refuse && ln != nil {
		s.ln = nil
	}
	s.mu.Unlock()
	switch {
	case closed:
	case refuse && ln != nil:
		s.h.trace("%s port %d down (refusing connections)", s.name, s.port)
		ln.Close()
	case !refuse && ln == nil:
		s.h.trace("%s port %d up again", s.name, s.port)
		if err := s.listen(); err != nil {
			s.h.trace("cannot reopen: %v", err)
		}
	}
}

func (s *tcpService) acceptLoop(ln *Listener) {
	defer s.h.wg.Done()
	defer ln.closeActor()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		faults := s.h.faults.roll(s.port)
		peer := c.RemoteAddr()
		if _, ok := has(faults, FaultRefuse); ok {
			s.h.trace("%s: connection from %v reset (refuse fault)", s.name, peer)
			c.Reset()
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.h.trace("%s: connection from %v", s.name, peer)
		s.h.wg.Add(1)
		go s.serve(c, faults)
	}
}

func (s *tcpService) serve(c *Conn, faults []Fault) {
	defer s.h.wg.Done()
	c.WaitTurn()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	rc := &recordingConn{Conn: wrapFaults(c, faults, &s.h.faults), h: s.h, port: s.port}
	defer rc.Close()
	if _, ok := has(faults, FaultBlackhole); ok {
		s.h.trace("%s: connection from %v blackholed", s.name, c.RemoteAddr())
		io.Copy(io.Discard, rc)
		// Never answer, never close first: wait for the client to go or
		// for the host to stop.
		return
	}
	s.handler(rc)
}

func (s *tcpService) close() {
	s.mu.Lock()
	s.closed = true
	ln := s.ln
	s.ln = nil
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.Reset()
	}
}
