package netstack

import (
	"slices"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// The receive filter's UDP half (rxfilter.go) asked gVisor's demuxer about
// every broadcast datagram a board heard: four hashed map lookups under
// two locks, for the DHCP DISCOVER and REQUEST of every other board of a
// fleet, a second of a 1000-board run (issue #20). Almost always the port
// (67) is one nothing on the board was ever bound to, and that can be known
// without gVisor: every UDP endpoint of a node is made by its stack's UDP
// protocol, which the node wraps (udpProtocol), and a UDP endpoint's local
// port comes from one of two places (udp endpoint.registerWithStack):
//
//   - Bind with a port number: the wrapper records the port before gVisor
//     binds it;
//   - the stack's ephemeral range (ports.PortManager.PickEphemeralPort), for
//     Bind to port 0, Connect, Disconnect or a write of an unbound
//     endpoint: the filter reads the range at every check, and the wrapper
//     also records the port such a call chose, once it returns (the range
//     could move later).
//
// A port outside both can have no endpoint, so a broadcast to it is
// dropped without asking gVisor; any other goes through the demuxer check
// as before. Recorded ports are never forgotten (a closed socket's port
// merely costs the slow check), so the set only grows and stays a
// superset of the bound ports.

// udpPorts is one node's record of the UDP ports its endpoints were bound
// to.
type udpPorts struct {
	mu sync.Mutex
	// ports is sorted and replaced whole under mu; the filter reads it
	// without a lock.
	ports atomic.Pointer[[]uint16]
}

func (p *udpPorts) add(port uint16) {
	if port == 0 || p.has(port) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var cur []uint16
	if old := p.ports.Load(); old != nil {
		cur = *old
	}
	i, found := slices.BinarySearch(cur, port)
	if found {
		return
	}
	next := slices.Insert(slices.Clone(cur), i, port)
	p.ports.Store(&next)
}

func (p *udpPorts) has(port uint16) bool {
	cur := p.ports.Load()
	if cur == nil {
		return false
	}
	_, found := slices.BinarySearch(*cur, port)
	return found
}

// mayBeBound reports whether an endpoint of s's node may be bound to port.
func (p *udpPorts) mayBeBound(s *stack.Stack, port uint16) bool {
	if first, last := s.PortRange(); first <= port && port <= last {
		return true
	}
	return p.has(port)
}

// protocol is the node's UDP transport protocol factory: gVisor's, with
// endpoints that report their ports.
func (p *udpPorts) protocol(s *stack.Stack) stack.TransportProtocol {
	return &udpProtocol{TransportProtocol: udp.NewProtocol(s), ports: p}
}

type udpProtocol struct {
	stack.TransportProtocol
	ports *udpPorts
}

// NewEndpoint implements stack.TransportProtocol.
func (u *udpProtocol) NewEndpoint(netProto tcpip.NetworkProtocolNumber, wq *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
	ep, tcpipErr := u.TransportProtocol.NewEndpoint(netProto, wq)
	if tcpipErr != nil {
		return nil, tcpipErr
	}
	return &udpEndpoint{Endpoint: ep, ports: u.ports}, nil
}

// udpEndpoint is gVisor's UDP endpoint, recording the ports it binds.
type udpEndpoint struct {
	tcpip.Endpoint
	ports *udpPorts
	// bound is set once the endpoint's port is recorded; Disconnect may
	// give it another.
	bound atomic.Bool
}

var _ tcpip.EndpointWithPreflight = (*udpEndpoint)(nil)

// noteBound records the port a call may have bound.
func (e *udpEndpoint) noteBound() {
	if e.bound.Load() {
		return
	}
	if a, tcpipErr := e.Endpoint.GetLocalAddress(); tcpipErr == nil && a.Port != 0 {
		e.ports.add(a.Port)
		e.bound.Store(true)
	}
}

// Bind implements tcpip.Endpoint.
func (e *udpEndpoint) Bind(addr tcpip.FullAddress) tcpip.Error {
	e.ports.add(addr.Port)
	tcpipErr := e.Endpoint.Bind(addr)
	e.noteBound()
	return tcpipErr
}

// Connect implements tcpip.Endpoint.
func (e *udpEndpoint) Connect(addr tcpip.FullAddress) tcpip.Error {
	tcpipErr := e.Endpoint.Connect(addr)
	e.bound.Store(false)
	e.noteBound()
	return tcpipErr
}

// Disconnect implements tcpip.Endpoint.
func (e *udpEndpoint) Disconnect() tcpip.Error {
	tcpipErr := e.Endpoint.Disconnect()
	e.bound.Store(false)
	e.noteBound()
	return tcpipErr
}

// Write implements tcpip.Endpoint.
func (e *udpEndpoint) Write(p tcpip.Payloader, opts tcpip.WriteOptions) (int64, tcpip.Error) {
	n, tcpipErr := e.Endpoint.Write(p, opts)
	e.noteBound()
	return n, tcpipErr
}

// Preflight implements tcpip.EndpointWithPreflight, as gVisor's endpoint
// does.
func (e *udpEndpoint) Preflight(opts tcpip.WriteOptions) tcpip.Error {
	var tcpipErr tcpip.Error
	if p, ok := e.Endpoint.(tcpip.EndpointWithPreflight); ok {
		tcpipErr = p.Preflight(opts)
	}
	e.noteBound()
	return tcpipErr
}
