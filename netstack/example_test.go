package netstack_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// Two nodes on one LAN exchange a UDP datagram over a 10 ms link; the trace
// shows the ARP exchange and the datagram, in simulator time.
func Example() {
	clock := vclock.New(vclock.Config{Mode: vclock.Fast})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); clock.Run(ctx) }()
	defer func() { cancel(); <-done }()

	log := trace.New(trace.Config{})
	lan, _ := netstack.NewMedium(netstack.MediumConfig{Name: "lan", Clock: clock, Seed: 1, Trace: log})
	defer lan.Close()
	esp, _ := netstack.NewNode(netstack.NodeConfig{Name: "esp1", Clock: clock, Seed: 1, Trace: log})
	defer esp.Close()
	pc, _ := netstack.NewNode(netstack.NodeConfig{Name: "pc", Clock: clock, Seed: 1, Trace: log})
	defer pc.Close()
	esp.AddNIC(lan, netstack.NICConfig{Addr: netip.MustParsePrefix("192.168.1.23/24"),
		Impairments: netstack.Impairments{Latency: 10 * time.Millisecond}})
	pc.AddNIC(lan, netstack.NICConfig{Addr: netip.MustParsePrefix("192.168.1.10/24")})

	rx := &netstack.Sockets{Node: pc, Actor: clock.NewActor("pc"), Ctx: ctx}
	defer rx.Actor.Close()
	tx := &netstack.Sockets{Node: esp, Actor: clock.NewActor("esp1"), Ctx: ctx}
	defer tx.Actor.Close()
	in, _ := rx.ListenUDP(netip.MustParseAddrPort("192.168.1.10:5000"))
	out, _ := tx.ListenUDP(netip.MustParseAddrPort("192.168.1.23:4000"))
	out.WriteTo([]byte("hello"), netip.MustParseAddrPort("192.168.1.10:5000"))
	tx.Actor.Close() // the sender is done: let time pass

	buf := make([]byte, 64)
	n, from, err := in.ReadFrom(buf, time.Second)
	fmt.Printf("%q from %v, err %v\n", buf[:n], from, err)
	for _, l := range log.Lines() {
		fmt.Println(l)
	}
	// Output:
	// "hello" from 192.168.1.23:4000, err <nil>
	// 0.000s esp1 → broadcast ARP who-has 192.168.1.10 tell 192.168.1.23
	// 0.010s pc → esp1 ARP 192.168.1.10 is-at 02:36:f9:e4:92:ba
	// 0.020s esp1:4000 → pc:5000 UDP len=5
}
