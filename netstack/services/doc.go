// Package services is the simulated internet's (and the LAN peers')
// servers: HTTP and HTTPS static sites, TCP and UDP echo, a scripted
// line-based chat peer (the tutorials' PC program) and NTP, each on a gVisor
// stack, plus host faults of the kinds fault-injection proxies offer.
//
// Use one Host per simulated computer:
//
//	h, err := services.NewHost(services.HostConfig{Name: "micropython.org",
//		Stack: s, Addr: ip, Clock: clock, Seed: seed, Trace: log})
//	ca, err := services.NewCA(seed, clock.Now()) // one per world
//	err = h.AddHTTP(80, services.Site{"/ks/test.html": {Body: page}})
//	err = h.AddHTTPS(443, site, ca, []string{"micropython.org"})
//	err = h.AddTCPEcho(7); err = h.AddUDPEcho(7); err = h.AddNTP()
//	peer, err := h.AddChat(services.ChatConfig{Port: 8888, Steps: steps})
//	err = h.SetFaults([]services.Fault{{Kind: services.FaultLatency, Delay: d}})
//	got := h.Received(8888) // what clients sent
//	h.Close()
//
// Simulated time. Every wait is in simulator time: connections are Conn
// values (net.Conn over a gVisor endpoint) that park a vclock actor while
// they would block, woken by gVisor's waiter callbacks; deadlines are
// simulated wall-clock times (clock.Now()). Each accepted connection gets
// its own actor and exactly one goroutine, so in fast mode the clock holds
// still while a service computes an answer (a TLS handshake, a page) and
// jumps while it waits. That is also why the HTTP server is a small
// single-goroutine HTTP/1.x loop over net/http's request parser rather than
// net/http's Server, whose background reader would park the same actor
// from a second goroutine. Tests and LAN programs dial with DialTCP and
// their own actor; ListenTCP with an actor gives a one-goroutine server
// (a board's script).
//
// Faults (Fault, SetFaults) apply per connection (per datagram for UDP),
// each with its probability drawn from the host's seeded stream, and per
// direction (Upstream: client to host; Downstream: host to client):
// refuse (listener closed: RST to the SYN), blackhole, reset after a time or
// a byte count, slow close, bandwidth, slicing of writes, latency.
//
// The CA (ECDSA P-256) is derived from the seed and signs deterministically:
// the same seed gives the same PEM bytes (CA.PEM), which boards load to
// verify servers.
package services
