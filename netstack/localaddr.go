package netstack

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The receive filter (rxfilter.go) drops an ARP request unless its target
// is one the NIC answers for. Asking gVisor (Stack.CheckLocalAddress) took
// three locks, a map walk and a closure per request; a fleet floods every
// board's ARP requests to every other board, and that was 7% of a
// 1000-board run (issue #20). So each NIC keeps its own copy of what gVisor's
// ARP would check (arp.endpoint.HandlePacket → nic.CheckLocalAddress): the
// NIC's permanent IPv4 addresses, the subnet broadcast address of each, and
// whether the NIC spoofs every address. The filter reads it without a lock.
//
// The copy must never miss an address gVisor answers for, or a board would
// fall silent to ARP. Every address change of a netstack NIC therefore goes
// through changeAddresses, which widens the copy before gVisor adds an
// address and reads gVisor's own list back after every change: the copy is
// a superset of gVisor's view at every instant and equal to it between
// changes. Code that holds only the gVisor stack (the DHCP client) is given
// the NIC's AssignAddress and UnassignAddress. Temporary addresses (a
// promiscuous NIC's, for one packet) are left out: gVisor creates and drops
// them inside the processing of that packet, on the goroutine that also
// runs the filter, so no ARP request can see one.

// localAddrs is one NIC's copy; never changed once stored.
type localAddrs struct {
	// spoofing NICs (a NAT's) claim every address.
	spoofing bool
	// targets are the addresses an ARP request gets an answer for.
	targets []tcpip.Address
	// perm is gVisor's list of the NIC's permanent addresses it was built
	// from (plus one being added), sorted: the self-check compares it.
	perm []tcpip.AddressWithPrefix
}

// answers reports whether gVisor's ARP would answer a request for target.
func (l *localAddrs) answers(target tcpip.Address) bool {
	return l == nil || l.spoofing || slices.Contains(l.targets, target)
}

func newLocalAddrs(spoofing bool, perm []tcpip.AddressWithPrefix) *localAddrs {
	slices.SortFunc(perm, compareAddrPrefix)
	l := &localAddrs{spoofing: spoofing, perm: perm}
	for _, p := range perm {
		l.targets = append(l.targets, p.Address)
		// IPv4's AcquireAssignedAddress also matches an address's subnet
		// broadcast address (not for /31 and /32, where IsBroadcast says
		// no; nor on loopback NICs' whole subnets, and ours are never
		// loopback).
		sub := p.Subnet()
		if b := sub.Broadcast(); sub.IsBroadcast(b) {
			l.targets = append(l.targets, b)
		}
	}
	return l
}

func compareAddrPrefix(a, b tcpip.AddressWithPrefix) int {
	if c := strings.Compare(string(a.Address.AsSlice()), string(b.Address.AsSlice())); c != 0 {
		return c
	}
	return a.PrefixLen - b.PrefixLen
}

// stackAddrs is gVisor's list of the NIC's permanent IPv4 addresses.
func (c *NIC) stackAddrs() []tcpip.AddressWithPrefix {
	ep, tcpipErr := c.node.stack.GetNetworkEndpoint(c.id, ipv4.ProtocolNumber)
	if tcpipErr != nil {
		return nil
	}
	ae, ok := ep.(stack.AddressableEndpoint)
	if !ok {
		return nil
	}
	return ae.PermanentAddresses()
}

// syncLocalLocked stores a fresh copy of gVisor's view, with extra added.
// c.addrMu is held.
func (c *NIC) syncLocalLocked(extra ...tcpip.AddressWithPrefix) {
	perm := c.stackAddrs()
	for _, e := range extra {
		if !slices.Contains(perm, e) {
			perm = append(perm, e)
		}
	}
	c.local.Store(newLocalAddrs(c.spoofing, perm))
}

// changeAddresses runs change, which adds add (if valid) to or removes
// addresses from the NIC's gVisor stack, keeping the receive filter's copy
// a superset of the stack's view throughout.
func (c *NIC) changeAddresses(add tcpip.AddressWithPrefix, change func() tcpip.Error) tcpip.Error {
	c.addrMu.Lock()
	defer c.addrMu.Unlock()
	if add.Address.Len() > 0 {
		c.syncLocalLocked(add)
	}
	tcpipErr := change()
	c.syncLocalLocked()
	return tcpipErr
}

// AssignAddress puts p's address on the NIC, and nothing else: no route, no
// entry in Addresses. It is for code that manages its own routes on the
// node's stack, as the DHCP client does (dhcp.ClientConfig.Addresses);
// adding an address to a NIC on Stack() directly would leave the NIC deaf
// to ARP requests for it (localaddr.go).
func (c *NIC) AssignAddress(p netip.Prefix) error {
	if !p.Addr().Is4() {
		return fmt.Errorf("netstack: %s: address %s is not IPv4", c.node.name, p)
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrFrom(p.Addr()), PrefixLen: p.Bits()},
	}
	if tcpipErr := c.changeAddresses(pa.AddressWithPrefix, func() tcpip.Error {
		return c.node.stack.AddProtocolAddress(c.id, pa, stack.AddressProperties{})
	}); tcpipErr != nil {
		return fmt.Errorf("netstack: %s: adding address %s: %w", c.node.name, p, FromTCPIP(tcpipErr))
	}
	return nil
}

// UnassignAddress takes an address AssignAddress put on the NIC off again.
func (c *NIC) UnassignAddress(a netip.Addr) error {
	if !a.Is4() {
		return fmt.Errorf("netstack: %s: address %s is not IPv4", c.node.name, a)
	}
	if tcpipErr := c.changeAddresses(tcpip.AddressWithPrefix{}, func() tcpip.Error {
		return c.node.stack.RemoveAddress(c.id, addrFrom(a))
	}); tcpipErr != nil {
		return fmt.Errorf("netstack: %s: removing address %s: %w", c.node.name, a, FromTCPIP(tcpipErr))
	}
	return nil
}

// setSpoofing makes the NIC claim every address (or stop).
func (c *NIC) setSpoofing(on bool) tcpip.Error {
	c.addrMu.Lock()
	defer c.addrMu.Unlock()
	if on {
		c.spoofing = true
		c.syncLocalLocked()
	}
	tcpipErr := c.node.stack.SetSpoofing(c.id, on)
	c.spoofing = on && tcpipErr == nil
	c.syncLocalLocked()
	return tcpipErr
}

// checkLocal makes the receive filter compare its copy with gVisor's view
// before every ARP decision and panic when they differ: the netstack tests
// switch it on (TestMain), so a path that changes addresses behind the
// copy's back fails them.
var checkLocal atomic.Bool

// CheckReceiveFilter reports an error when the receive filter's copy of the
// NIC's addresses differs from its stack's: an address was added or
// removed (or spoofing switched on) on Stack() directly instead of through
// the NIC (AddAddress, AssignAddress), so the NIC would ignore ARP requests
// it should answer. For tests of code that changes a NIC's addresses.
func (c *NIC) CheckReceiveFilter() error {
	// gVisor does not say which NIC spoofs, but a stack-wide question
	// about an address no NIC has is answered only by a spoofing one.
	if id := c.node.stack.CheckLocalAddress(0, ipv4.ProtocolNumber, tcpip.AddrFrom4([4]byte{})); id != 0 {
		for _, n := range c.node.NICs() {
			if n.id == id {
				n.addrMu.Lock()
				spoofing := n.spoofing
				n.addrMu.Unlock()
				if !spoofing {
					return fmt.Errorf("netstack: %s NIC %d spoofs, and its receive filter does not know", c.node.name, id)
				}
			}
		}
	}
	c.addrMu.Lock()
	defer c.addrMu.Unlock()
	want := c.stackAddrs()
	slices.SortFunc(want, compareAddrPrefix)
	got := c.local.Load()
	if got == nil || !slices.Equal(got.perm, want) {
		var have []tcpip.AddressWithPrefix
		if got != nil {
			have = got.perm
		}
		return fmt.Errorf("netstack: %s NIC %d: receive filter has addresses %v, the stack %v", c.node.name, c.id, have, want)
	}
	return nil
}
