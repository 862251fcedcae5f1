package trace

import (
	"net/netip"
	"sync"
)

// Names maps link and IP addresses to the names of the nodes that own them.
// A nil *Names is valid and knows no names. Safe for concurrent use.
type Names struct {
	mu struct {
		sync.RWMutex
		macs map[[6]byte]string
		ips  map[netip.Addr]string
	}
}

// NewNames returns an empty registry.
func NewNames() *Names {
	n := &Names{}
	n.mu.macs = make(map[[6]byte]string)
	n.mu.ips = make(map[netip.Addr]string)
	return n
}

// SetMAC names a 6-byte MAC address; other lengths are ignored.
func (n *Names) SetMAC(mac []byte, name string) {
	if n == nil || len(mac) != 6 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.macs[[6]byte(mac)] = name
}

// SetIP names an IP address.
func (n *Names) SetIP(ip netip.Addr, name string) {
	if n == nil || !ip.IsValid() {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.ips[ip.Unmap()] = name
}

// ForgetIP removes an IP address's name (a lease ended).
func (n *Names) ForgetIP(ip netip.Addr) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.mu.ips, ip.Unmap())
}

// MAC returns the name of mac, if known.
func (n *Names) MAC(mac []byte) (string, bool) {
	if n == nil || len(mac) != 6 {
		return "", false
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	s, ok := n.mu.macs[[6]byte(mac)]
	return s, ok
}

// IP returns the name of ip, if known.
func (n *Names) IP(ip netip.Addr) (string, bool) {
	if n == nil {
		return "", false
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	s, ok := n.mu.ips[ip.Unmap()]
	return s, ok
}
