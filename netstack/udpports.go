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
// to, each with the NIC the endpoint was bound to (SO_BINDTODEVICE, 0 for
// any): an ESP8266's soft-AP DHCP server listens on port 67 on the soft-AP's
// NIC only, and the DISCOVERs its station NIC hears are none of its
// business (the demuxer registers an endpoint under the device it is bound
// to when it binds, connects or disconnects, which are the calls after
// which the device is read again).
type udpPorts struct {
	mu sync.Mutex
	// ports is sorted and replaced whole under mu; the filter reads it
	// without a lock.
	ports atomic.Pointer[[]boundPort]
}

type boundPort struct {
	port uint16
	nic  tcpip.NICID // 0: any
}

func compareBoundPort(a, b boundPort) int {
	if a.port != b.port {
		return int(a.port) - int(b.port)
	}
	return int(a.nic) - int(b.nic)
}

func (p *udpPorts) add(port uint16, nic tcpip.NICID) {
	bp := boundPort{port, nic}
	if port == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var cur []boundPort
	if old := p.ports.Load(); old != nil {
		cur = *old
	}
	i, found := slices.BinarySearchFunc(cur, bp, compareBoundPort)
	if found {
		return
	}
	next := slices.Insert(slices.Clone(cur), i, bp)
	p.ports.Store(&next)
}

// has reports whether an endpoint may be bound to port on nic.
func (p *udpPorts) has(port uint16, nic tcpip.NICID) bool {
	cur := p.ports.Load()
	if cur == nil {
		return false
	}
	ports := *cur
	i, _ := slices.BinarySearchFunc(ports, boundPort{port: port}, compareBoundPort)
	for ; i < len(ports) && ports[i].port == port; i++ {
		if ports[i].nic == 0 || ports[i].nic == nic {
			return true
		}
	}
	return false
}

// mayBeBound reports whether an endpoint of s's node may be bound to port
// and hear a datagram arriving on nic.
func (p *udpPorts) mayBeBound(s *stack.Stack, port uint16, nic tcpip.NICID) bool {
	if first, last := s.PortRange(); first <= port && port <= last {
		return true
	}
	return p.has(port, nic)
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

// device is the NIC the endpoint is bound to (SO_BINDTODEVICE), 0 for any.
func (e *udpEndpoint) device() tcpip.NICID {
	return tcpip.NICID(e.Endpoint.SocketOptions().GetBindToDevice())
}

// noteBound records the port a call may have bound.
func (e *udpEndpoint) noteBound() {
	if e.bound.Load() {
		return
	}
	if a, tcpipErr := e.Endpoint.GetLocalAddress(); tcpipErr == nil && a.Port != 0 {
		e.ports.add(a.Port, e.device())
		e.bound.Store(true)
	}
}

// Bind implements tcpip.Endpoint.
func (e *udpEndpoint) Bind(addr tcpip.FullAddress) tcpip.Error {
	e.ports.add(addr.Port, e.device())
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
