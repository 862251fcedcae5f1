package netstack

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// TestUDPBroadcastReachesEveryBoundPort binds a UDP endpoint of a station
// every way gVisor gives one a port, moves the stack's ephemeral range away
// from that port, and broadcasts to it: the station reads the datagram with
// the receive filter on exactly when it does with the filter off (plain
// gVisor). The filter drops broadcasts to ports no endpoint was ever bound
// to without asking gVisor (udpports.go); this is what must not drop one it
// should have delivered.
func TestUDPBroadcastReachesEveryBoundPort(t *testing.T) {
	peer := tcpip.FullAddress{Addr: addrFrom(netip.MustParseAddr("10.0.0.1")), Port: 68}
	cases := []struct {
		name string
		// bind binds ep; this is the NIC the broadcast arrives on, other
		// the station's second NIC.
		bind func(ep tcpip.Endpoint, this, other tcpip.NICID) tcpip.Error
		// closes: the endpoint is closed before the broadcast.
		closes bool
		heard  bool
	}{
		{name: "Bind to a port number", bind: func(ep tcpip.Endpoint, _, _ tcpip.NICID) tcpip.Error {
			return ep.Bind(tcpip.FullAddress{Port: 5000})
		}, heard: true},
		{name: "Bind to port 0", bind: func(ep tcpip.Endpoint, _, _ tcpip.NICID) tcpip.Error {
			return ep.Bind(tcpip.FullAddress{})
		}, heard: true},
		{name: "sendto without bind", bind: func(ep tcpip.Endpoint, _, _ tcpip.NICID) tcpip.Error {
			var r bytes.Reader
			r.Reset([]byte("hi"))
			_, tcpipErr := ep.Write(&r, tcpip.WriteOptions{To: &peer})
			return tcpipErr
		}, heard: true},
		// gVisor registers a connected endpoint under its unicast local
		// address: no broadcast reaches it, filter or not.
		{name: "Connect without bind", bind: func(ep tcpip.Endpoint, _, _ tcpip.NICID) tcpip.Error {
			return ep.Connect(peer)
		}},
		// Disconnect gives the port up; the sendto takes another.
		{name: "Connect, Disconnect, sendto", bind: func(ep tcpip.Endpoint, _, _ tcpip.NICID) tcpip.Error {
			if tcpipErr := ep.Connect(peer); tcpipErr != nil {
				return tcpipErr
			}
			if tcpipErr := ep.Disconnect(); tcpipErr != nil {
				return tcpipErr
			}
			var r bytes.Reader
			r.Reset([]byte("hi"))
			_, tcpipErr := ep.Write(&r, tcpip.WriteOptions{To: &peer})
			return tcpipErr
		}, heard: true},
		{name: "Bind to a port number on this NIC", bind: func(ep tcpip.Endpoint, this, _ tcpip.NICID) tcpip.Error {
			if tcpipErr := ep.SocketOptions().SetBindToDevice(int32(this)); tcpipErr != nil {
				return tcpipErr
			}
			return ep.Bind(tcpip.FullAddress{Port: 5002})
		}, heard: true},
		{name: "Bind to port 0 on this NIC", bind: func(ep tcpip.Endpoint, this, _ tcpip.NICID) tcpip.Error {
			if tcpipErr := ep.SocketOptions().SetBindToDevice(int32(this)); tcpipErr != nil {
				return tcpipErr
			}
			return ep.Bind(tcpip.FullAddress{})
		}, heard: true},
		// The soft-AP's DHCP server: port 67 on the soft-AP's NIC only.
		{name: "Bind to a port number on the other NIC", bind: func(ep tcpip.Endpoint, _, other tcpip.NICID) tcpip.Error {
			if tcpipErr := ep.SocketOptions().SetBindToDevice(int32(other)); tcpipErr != nil {
				return tcpipErr
			}
			return ep.Bind(tcpip.FullAddress{Port: 5003})
		}},
		// SO_BINDTODEVICE counts when the endpoint registers: after Bind it
		// changes nothing until a Connect registers it again.
		{name: "Bind on any NIC, then SO_BINDTODEVICE the other", bind: func(ep tcpip.Endpoint, _, other tcpip.NICID) tcpip.Error {
			if tcpipErr := ep.Bind(tcpip.FullAddress{Port: 5004}); tcpipErr != nil {
				return tcpipErr
			}
			return ep.SocketOptions().SetBindToDevice(int32(other))
		}, heard: true},
		{name: "bound, then closed", bind: func(ep tcpip.Endpoint, _, _ tcpip.NICID) tcpip.Error {
			return ep.Bind(tcpip.FullAddress{Port: 5001})
		}, closes: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, off := range []bool{true, false} {
				w := newWorld(t, vclock.Fast, 1)
				_, anic := w.node("a", 1, 1, Impairments{})
				c, cnic := w.node("c", 3, 1, Impairments{})
				cnic.DropUnheardBroadcasts(true)
				other, err := NewMedium(MediumConfig{Name: "other", Clock: w.clock})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(other.Close)
				onic, err := c.AddNIC(other, NICConfig{Addr: netip.MustParsePrefix("10.1.0.3/24")})
				if err != nil {
					t.Fatal(err)
				}
				var wq waiter.Queue
				ep, tcpipErr := c.Stack().NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
				if tcpipErr != nil {
					t.Fatal(tcpipErr)
				}
				if tcpipErr := tc.bind(ep, cnic.ID(), onic.ID()); tcpipErr != nil {
					t.Fatalf("binding: %s", tcpipErr)
				}
				local, tcpipErr := ep.GetLocalAddress()
				if tcpipErr != nil || local.Port == 0 {
					t.Fatalf("GetLocalAddress() = %v, %v: not bound", local, tcpipErr)
				}
				// Move the ephemeral range away: only the filter's own record
				// of the port is left to say it is bound.
				lo := uint16(40000)
				if local.Port >= 30000 {
					lo = 20000
				}
				if tcpipErr := c.Stack().SetPortRange(lo, lo+10); tcpipErr != nil {
					t.Fatal(tcpipErr)
				}
				if tc.closes {
					ep.Close()
				}
				rxFilterOff.Store(off)
				anic.SendFrame(udpBroadcast(anic.mac, netip.MustParseAddr("10.0.0.1"), local.Port, []byte("broadcast")))
				if err := w.sockets(c, "wait").Actor.Sleep(w.ctx, 100*time.Millisecond); err != nil {
					t.Fatal(err)
				}
				rxFilterOff.Store(false)
				heard := false
				if !tc.closes {
					var got bytes.Buffer
					_, tcpipErr := ep.Read(&got, tcpip.ReadOptions{})
					heard = tcpipErr == nil && got.String() == "broadcast"
					ep.Close()
				}
				if heard != tc.heard {
					t.Errorf("filter off=%v: broadcast to port %d read = %v, want %v", off, local.Port, heard, tc.heard)
				}
				_, udpDrops := cnic.FilteredBroadcasts()
				if wantDrops := !tc.heard && !off; (udpDrops == 1) != wantDrops {
					t.Errorf("filter off=%v: %d broadcasts filtered, want filtered=%v", off, udpDrops, wantDrops)
				}
			}
		})
	}
}
