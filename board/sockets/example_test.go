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
// print_pcbs, a sixth TCP socket is refused as on the ESP8266.
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
	for i := 0; i < 5; i++ {
		t.Socket(sockets.AFInet, sockets.SockStream, 0)
	}
	_, err = t.Socket(sockets.AFInet, sockets.SockStream, 0)
	fmt.Println(err, sockets.Errno(err) == sockets.ENOMEM)
	t.PrintPCBs(os.Stdout)
	// Output:
	// OSError: 12 true
	// Active PCB states:
	// Listen PCB states:
	// Local port 80, foreign port 0 snd_nxt 0 rcv_nxt 0 State: LISTEN
	// TIME-WAIT PCB states:
}
