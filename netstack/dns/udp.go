package dns

import (
	"bytes"
	"fmt"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// udpSocket is a gVisor UDP endpoint whose readability is reported through
// a callback (an actor's Wake), read without blocking.
type udpSocket struct {
	ep    tcpip.Endpoint
	wq    *waiter.Queue
	entry waiter.Entry
}

// openUDP binds addr:port (addr may be invalid for 0.0.0.0, port 0 for an
// ephemeral port) on nic (0: any NIC).
func openUDP(s *stack.Stack, nic tcpip.NICID, addr netip.Addr, port uint16, onReadable func()) (*udpSocket, error) {
	wq := new(waiter.Queue)
	ep, tcpipErr := s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, wq)
	if tcpipErr != nil {
		return nil, fmt.Errorf("dns: new UDP endpoint: %s", tcpipErr)
	}
	if nic != 0 {
		if tcpipErr := ep.SocketOptions().SetBindToDevice(int32(nic)); tcpipErr != nil {
			ep.Close()
			return nil, fmt.Errorf("dns: bind to NIC %d: %s", nic, tcpipErr)
		}
	}
	fa := tcpip.FullAddress{Port: port}
	if addr.Is4() && !addr.IsUnspecified() {
		fa.Addr = tcpip.AddrFrom4(addr.As4())
	}
	if tcpipErr := ep.Bind(fa); tcpipErr != nil {
		ep.Close()
		return nil, fmt.Errorf("dns: bind %v:%d: %s", addr, port, tcpipErr)
	}
	u := &udpSocket{ep: ep, wq: wq}
	u.entry = waiter.NewFunctionEntry(waiter.ReadableEvents, func(waiter.EventMask) { onReadable() })
	wq.EventRegister(&u.entry)
	return u, nil
}

type collect struct{ b []byte }

func (w *collect) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// read returns the next queued datagram and its sender, or ok=false.
func (u *udpSocket) read() (payload []byte, from tcpip.FullAddress, ok bool) {
	var w collect
	res, tcpipErr := u.ep.Read(&w, tcpip.ReadOptions{NeedRemoteAddr: true})
	if tcpipErr != nil {
		return nil, tcpip.FullAddress{}, false
	}
	return w.b, res.RemoteAddr, true
}

func (u *udpSocket) writeTo(to tcpip.FullAddress, payload []byte) error {
	if _, tcpipErr := u.ep.Write(bytes.NewReader(payload), tcpip.WriteOptions{To: &to}); tcpipErr != nil {
		return fmt.Errorf("dns: send to %v:%d: %s", to.Addr, to.Port, tcpipErr)
	}
	return nil
}

func (u *udpSocket) close() {
	u.wq.EventUnregister(&u.entry)
	u.ep.Close()
}
