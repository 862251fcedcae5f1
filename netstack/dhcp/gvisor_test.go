package dhcp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/internal/lantest"
)

// These tests pin down the gVisor behaviour the package relies on (see the
// package comment), so a gVisor upgrade that changes it fails here first.
func TestGVisorAssumptions(t *testing.T) {
	lan := lantest.New(t, vclock.Fast)
	router := lan.AddNode(t, "router", netip.PrefixFrom(routerIP, 24), netip.Addr{})
	board := lan.AddNode(t, "board", netip.Prefix{}, netip.Addr{})
	actor := lan.Clock.NewActor("test")
	defer actor.Close()

	sock, err := listenUDP(board.Stack, board.NIC, ClientPort, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.close()
	drain := func() [][]byte {
		actor.Sleep(t.Context(), 10*time.Millisecond)
		var out [][]byte
		for {
			p, _, ok := sock.read()
			if !ok {
				return out
			}
			out = append(out, p)
		}
	}

	// 1. Without SO_BROADCAST a UDP endpoint may not send to 255.255.255.255.
	var wq waiter.Queue
	ep, tcpipErr := router.Stack.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if tcpipErr != nil {
		t.Fatal(tcpipErr)
	}
	defer ep.Close()
	to := tcpip.FullAddress{NIC: router.NIC, Addr: tcpip.AddrFrom4([4]byte{255, 255, 255, 255}), Port: ClientPort}
	if _, tcpipErr := ep.Write(bytes.NewReader([]byte("b1")), tcpip.WriteOptions{To: &to}); tcpipErr == nil {
		t.Error("broadcast write without SO_BROADCAST succeeded; gVisor used to refuse it (ErrBroadcastDisabled)")
	} else if _, ok := tcpipErr.(*tcpip.ErrBroadcastDisabled); !ok {
		t.Errorf("broadcast write without SO_BROADCAST: %v, want ErrBroadcastDisabled", tcpipErr)
	}
	// 2. With it, the broadcast reaches 0.0.0.0:68 on a NIC with no address.
	ep.SocketOptions().SetBroadcast(true)
	if _, tcpipErr := ep.Write(bytes.NewReader([]byte("b2")), tcpip.WriteOptions{To: &to}); tcpipErr != nil {
		t.Fatalf("broadcast write with SO_BROADCAST: %v", tcpipErr)
	}
	if d := drain(); len(d) != 1 || string(d[0]) != "b2" {
		t.Errorf("address-less board received %q, want the broadcast b2", d)
	}
	// 3. A unicast to an address the board does not have yet (the OFFER to
	// yiaddr) is dropped by gVisor, unless the NIC is promiscuous.
	yiaddr := netip.MustParseAddr("192.168.1.100")
	send := func(msg string) {
		if err := sendRaw(router.Stack, router.NIC, board.MAC, routerIP, yiaddr, ServerPort, ClientPort, 1, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	send("u1")
	if d := drain(); len(d) != 0 {
		t.Errorf("non-promiscuous board received %q for an address it lacks; the client's promiscuous mode may be unnecessary now", d)
	}
	board.Stack.SetPromiscuousMode(board.NIC, true)
	send("u2")
	if d := drain(); len(d) != 1 || string(d[0]) != "u2" {
		t.Errorf("promiscuous board received %q, want u2", d)
	}
	// 4. Sending from 0.0.0.0 with a hand-built datagram works with no
	// address on the NIC; the router's 0.0.0.0:67 socket receives it.
	var rwq waiter.Queue
	rep, _ := router.Stack.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &rwq)
	defer rep.Close()
	rep.Bind(tcpip.FullAddress{Port: ServerPort})
	if err := sendRaw(board.Stack, board.NIC, broadcastMAC, netip.IPv4Unspecified(), limitedBroadcast, ClientPort, ServerPort, 1, []byte("d")); err != nil {
		t.Fatalf("raw send from 0.0.0.0: %v", err)
	}
	actor.Sleep(t.Context(), 10*time.Millisecond)
	var w tcpipBuf
	res, tcpipErr := rep.Read(&w, tcpip.ReadOptions{NeedRemoteAddr: true})
	if tcpipErr != nil || string(w.b) != "d" || res.RemoteAddr.Addr != tcpip.AddrFrom4([4]byte{}) {
		t.Errorf("router read %q from %v (%v), want d from 0.0.0.0", w.b, res.RemoteAddr.Addr, tcpipErr)
	}
}
