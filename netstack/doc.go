// Package netstack is the simulated network: gVisor TCP/IP stacks ("nodes")
// with Ethernet NICs plugged into learning switches ("media") through
// impaired links, all driven by the world's one clock, with a pcapng capture
// and a readable trace of every frame.
//
// Build a world in this order:
//
//  1. a *vclock.Clock (running), a *trace.Log and optionally a *Capture;
//  2. one Medium per network (NewMedium): the WiFi LAN of an access point,
//     the WAN of the simulated internet;
//  3. a Router (NewRouter) joining a LAN and the WAN, and internet hosts on
//     the WAN (Router.AddInternetHost);
//  4. other nodes (NewNode) with NICs (Node.AddNIC), attached at once or
//     later (NIC.Attach / NIC.Detach, as a WiFi station associates and
//     leaves).
//
// Frames leave a NIC through its Attachment's egress link, cross the switch
// and enter the destination's ingress link. Each link applies Impairments
// (latency, jitter, random and bursty loss, duplication, reordering,
// corruption, bandwidth with a queue, MTU, up/down), changeable while frames
// flow, with every random decision drawn from a stream derived from the
// world's seed and the link's name. Delays are clock timers; frames reach a
// stack only on the clock's goroutine, never inside the sender's call.
//
// Services and boards use a node's gVisor stack directly (Node.Stack,
// NIC.ID). Code that plays a program and must block (a test client, a
// board's socket call) parks a vclock.Actor while it waits so fast mode can
// advance time: WaitFor is the pattern, Sockets/Conn/Listener/PacketConn use
// it. An actor that is neither parked nor closed holds time still.
//
// gVisor processes inbound TCP segments on its own goroutines, so after a
// delivery, after a stack timer and before an actor parks, the clock's
// goroutine or the actor yields until the Go scheduler has nothing runnable
// (quiesce.go): fast mode must not jump time while segments wait.
//
// The host bridge (StartForward, StartHostAccess) joins real programs on the
// host to the world: a port forward splices a host loopback connection into
// a connection from the router to a board; host access relays connections
// to allow-listed host ports. Both need a realtime clock.
//
// Errors from gVisor leave this package as *Error (FromTCPIP), which
// unwraps to the POSIX errno it means.
package netstack
