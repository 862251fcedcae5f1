package netstack

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// TestARPAnsweredAcrossAddressChanges changes a station's addresses every
// way a NIC's can change and, after each change, asks for a set of targets:
// the station answers exactly the requests for its current addresses, the
// same with the receive filter on as with it off (plain gVisor), and the
// filter's copy of the addresses matches the stack's.
func TestARPAnsweredAcrossAddressChanges(t *testing.T) {
	w := newWorld(t, vclock.Fast, 1)
	_, anic := w.node("a", 1, 1, Impairments{})
	c, cnic := w.node("c", 3, 1, Impairments{})
	wait := w.sockets(c, "wait")
	ip := netip.MustParseAddr
	// replies sends who-has target from a and counts c's answers.
	replies := func(target netip.Addr, filterOff bool) uint64 {
		t.Helper()
		rxFilterOff.Store(filterOff)
		defer rxFilterOff.Store(false)
		before, _ := cnic.att.Load().Stats()
		anic.SendFrame(arpRequest(anic.mac, ip("10.0.0.1"), target))
		if err := wait.Actor.Sleep(w.ctx, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		after, _ := cnic.att.Load().Stats()
		return after.Frames - before.Frames
	}
	steps := []struct {
		name     string
		change   func() error
		answered []string
		ignored  []string
		// same are targets only compared with plain gVisor (a subnet's
		// broadcast address, which gVisor's ARP also claims).
		same []string
	}{
		{name: "as created", change: func() error { return nil },
			answered: []string{"10.0.0.3"}, ignored: []string{"10.0.0.7", "10.0.1.5"}, same: []string{"10.0.0.255", "10.0.0.0", "255.255.255.255"}},
		{name: "AddAddress", change: func() error { return cnic.AddAddress(netip.MustParsePrefix("10.0.1.5/24")) },
			answered: []string{"10.0.0.3", "10.0.1.5"}, ignored: []string{"10.0.1.6"}, same: []string{"10.0.1.255"}},
		{name: "RemoveAddress", change: func() error { return cnic.RemoveAddress(ip("10.0.0.3")) },
			answered: []string{"10.0.1.5"}, ignored: []string{"10.0.0.3"}, same: []string{"10.0.0.255"}},
		{name: "AssignAddress", change: func() error { return cnic.AssignAddress(netip.MustParsePrefix("10.0.2.9/32")) },
			answered: []string{"10.0.1.5", "10.0.2.9"}, ignored: []string{"10.0.0.3"}, same: []string{"10.0.2.255"}},
		{name: "UnassignAddress", change: func() error { return cnic.UnassignAddress(ip("10.0.2.9")) },
			answered: []string{"10.0.1.5"}, ignored: []string{"10.0.2.9"}},
		{name: "AssignAddress again after removal", change: func() error { return cnic.AssignAddress(netip.MustParsePrefix("10.0.0.3/24")) },
			answered: []string{"10.0.0.3", "10.0.1.5"}, ignored: []string{"10.0.0.4"}},
		{name: "spoofing", change: func() error { return FromTCPIP(cnic.setSpoofing(true)) },
			answered: []string{"10.0.0.3", "10.0.0.4", "192.0.2.1"}},
		{name: "spoofing off", change: func() error { return FromTCPIP(cnic.setSpoofing(false)) },
			answered: []string{"10.0.0.3"}, ignored: []string{"10.0.0.4", "192.0.2.1"}},
	}
	for _, st := range steps {
		if err := st.change(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if err := cnic.CheckReceiveFilter(); err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
		check := func(targets []string, want uint64, known bool) {
			for _, s := range targets {
				off, on := replies(ip(s), true), replies(ip(s), false)
				if on != off || (known && on != want) {
					t.Errorf("%s: who-has %s answered %d times with the filter, %d without; want %d", st.name, s, on, off, want)
				}
			}
		}
		check(st.answered, 1, true)
		check(st.ignored, 0, true)
		check(st.same, 0, false)
	}
}

// TestCheckReceiveFilterSeesStackChanges: an address put on the stack
// (or spoofing switched on) behind the NIC's back is what CheckReceiveFilter (and the tests' self-check
// in the filter) exists to catch.
func TestCheckReceiveFilterSeesStackChanges(t *testing.T) {
	w := newWorld(t, vclock.Fast, 1)
	c, cnic := w.node("c", 3, 1, Impairments{})
	if err := cnic.CheckReceiveFilter(); err != nil {
		t.Fatalf("fresh NIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrFrom(netip.MustParseAddr("10.0.0.8")), PrefixLen: 24}}
	if tcpipErr := c.Stack().AddProtocolAddress(cnic.ID(), pa, stack.AddressProperties{}); tcpipErr != nil {
		t.Fatal(tcpipErr)
	}
	err := cnic.CheckReceiveFilter()
	if err == nil || !strings.Contains(err.Error(), "10.0.0.8") {
		t.Errorf("CheckReceiveFilter after Stack().AddProtocolAddress = %v, want an error naming 10.0.0.8", err)
	}
	c.Stack().RemoveAddress(cnic.ID(), pa.AddressWithPrefix.Address)
	if err := cnic.CheckReceiveFilter(); err != nil {
		t.Errorf("after removing it again: %v", err)
	}
	c.Stack().SetSpoofing(cnic.ID(), true)
	if err := cnic.CheckReceiveFilter(); err == nil || !strings.Contains(err.Error(), "spoofs") {
		t.Errorf("CheckReceiveFilter after Stack().SetSpoofing = %v, want an error saying the NIC spoofs", err)
	}
	c.Stack().SetSpoofing(cnic.ID(), false)
	if err := FromTCPIP(cnic.setSpoofing(true)); err != nil {
		t.Fatal(err)
	}
	if err := cnic.CheckReceiveFilter(); err != nil {
		t.Errorf("after setSpoofing: %v", err)
	}
}
