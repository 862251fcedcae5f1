// Package dns is the router's DNS server and the board's resolver, both
// speaking real DNS over UDP on gVisor stacks (messages built and parsed
// with gopacket's layers.DNS).
//
// Server: an authoritative zone of A and CNAME records (names are
// case-insensitive, a trailing dot is ignored), an optional Upstream
// function for names outside the zone (the simulated internet), NXDOMAIN
// otherwise. A queries follow CNAME chains and return the CNAME records
// with the addresses; AAAA and other types of an existing name get NOERROR
// with no answer. A malformed query gets FORMERR when its header can be
// read and is dropped otherwise; it never panics. Faults settable while
// running (SetFault): timeout (drop), SERVFAIL, wrong answer, NXDOMAIN for
// everything.
//
//	srv, err := dns.NewServer(dns.ServerConfig{Stack: s, NIC: 1, Addr: gw,
//		Records: []dns.Record{dns.A("micropython.org", ip)}, Clock: clock})
//	err = srv.Start(ctx)
//	defer srv.Close()
//
// Resolver: lwIP 1.4's retry schedule (see MaxRetries): one query, retries
// at 1, 2 and 4 s, failure at 7 s per server; any error response fails at
// once. The waiting goroutine's vclock actor is parked between datagrams
// and retries, so a lookup against a dead server takes 7 s of simulated
// time and no wall time in fast mode.
//
//	addr, err := dns.Resolve(ctx, s, gw, "micropython.org", 0, actor)
//
// A Resolver with Cache set keeps answers like lwIP's four-entry DNS table
// (until their TTL runs out); keep one per board for that, as Resolve makes
// a fresh one each call.
//
// The server's goroutine is an actor too: in fast mode time stands still
// from a query's arrival until its answer is sent.
package dns
