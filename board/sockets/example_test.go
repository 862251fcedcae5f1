package sockets_test

import (
	"fmt"
	"os"

	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// A board's table on a stack with no interface: a listening socket shows in
// print_pcbs and its repr; PCBs come from the heap (esp-open-lwip's
// MEMP_MEM_MALLOC), so socket() fails only once the heap is spent.
func Example() {
	clock := vclock.New(vclock.Config{})
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
		Clock:              clock,
	})
	defer s.Close()
	actor := clock.NewActor("esp1")
	defer actor.Close()
	t, err := sockets.New(sockets.Config{Stack: s, Clock: clock, Actor: actor})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.CloseAll()

	srv, _ := t.Socket(sockets.AFInet, sockets.SockStream, 0)
	t.Bind(srv, "", 80)
	t.Listen(srv, 0, false)
	fmt.Println(t.ReprOrClosed(srv))
	n := 0
	for ; n < 1000; n++ {
		if _, err = t.Socket(sockets.AFInet, sockets.SockStream, 0); err != nil {
			break
		}
	}
	fmt.Println(n == sockets.DefaultMaxTCPPCBs, err, sockets.Errno(err) == sockets.ENOMEM)
	t.PrintPCBs(os.Stdout)
	// Output:
	// <socket state=1 timeout=4294967295 incoming=0 off=0>
	// true OSError: 12 true
	// Active PCB states:
	// Listen PCB states:
	// Local port 80, foreign port 0 snd_nxt 0 rcv_nxt 0 State: LISTEN
	// TIME-WAIT PCB states:
}
