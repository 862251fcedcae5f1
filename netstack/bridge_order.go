package netstack

import (
	"context"
	"errors"
	"net"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Forwarded connections reach the board in the order the host opened them.
//
// A browser opens a second connection to the page's origin while the first
// carries its GET (Chromium preconnects for the favicon). On a LAN the two
// SYNs reach the board in that order, and a single-threaded server such as
// the tutorial's serves the GET, then waits on the idle one until the
// browser uses it. Each forwarded connection dials into the world on its own
// goroutine, so the second SYN could overtake the first on a loaded
// machine: the board then accepted the idle connection first and waited on
// it, while the browser waited for its page behind it — a deadlock no board
// on a real LAN would see. Sending the SYNs in order is not enough: gVisor
// spreads the segments of different connections over several processor
// goroutines, so the board's stack can complete the second handshake first
// (lwIP takes its input one packet at a time). The accept loop therefore
// hands each connection a turn: it connects once the previous connection is
// established (or refused), which on a LAN costs a round trip. A SYN the
// link loses holds the next ones back for at most turnWait.

// turnWait bounds how long a connection's handshake holds the next one back.
const turnWait = 200 * time.Millisecond

// dialTCPInTurn is gonet.DialContextTCP with a turn: it waits for prev to be
// closed before connecting and closes sent once connected, refused or
// turnWait after its SYN, so the next connection may start.
func dialTCPInTurn(ctx context.Context, s *stack.Stack, addr tcpip.FullAddress, prev <-chan struct{}, sent chan<- struct{}) (*gonet.TCPConn, error) {
	defer func() {
		if sent != nil {
			close(sent)
		}
	}()
	select {
	case <-prev:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var wq waiter.Queue
	ep, tcpErr := s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if tcpErr != nil {
		return nil, errors.New(tcpErr.String())
	}
	entry, notify := waiter.NewChannelEntry(waiter.WritableEvents)
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	tcpErr = ep.Connect(addr)
	if _, ok := tcpErr.(*tcpip.ErrConnectStarted); ok {
		turn := time.NewTimer(turnWait)
		defer turn.Stop()
	wait:
		for {
			select {
			case <-ctx.Done():
				ep.Close()
				return nil, ctx.Err()
			case <-turn.C:
				close(sent)
				sent = nil
			case <-notify:
				break wait
			}
		}
		tcpErr = ep.LastError()
	}
	if tcpErr != nil {
		ep.Close()
		return nil, &net.OpError{Op: "connect", Net: "tcp", Addr: &net.TCPAddr{IP: net.IP(addr.Addr.AsSlice()), Port: int(addr.Port)}, Err: errors.New(tcpErr.String())}
	}
	return gonet.NewTCPConn(&wq, ep), nil
}
