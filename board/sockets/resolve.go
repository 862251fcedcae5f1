package sockets

import (
	"context"
	"net/netip"
	"strings"
)

// GetAddrInfo is socket.getaddrinfo(host, port): the single IPv4 address
// lwIP's resolver returns. Numeric addresses need no DNS. An empty name or
// one of DNS_MAX_NAME_LENGTH (256) characters or more is refused by
// dns_gethostbyname with ERR_ARG, which modlwip raises as it is:
// OSError(-12) in esp-open-lwip's numbering. A lookup that fails is
// OSError(-2), modlwip's "DNS callback got NULL" status.
func (t *Table) GetAddrInfo(ctx context.Context, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
		return a, nil
	}
	if host == "" || len(host) >= 256 {
		t.trace("socket.getaddrinfo(%q) -> OSError(%d)", host, errARG)
		return netip.Addr{}, oserr(int(errARG))
	}
	if strings.ContainsAny(host, " \t\r\n") || t.cfg.Resolver == nil {
		t.trace("socket.getaddrinfo(%q) -> OSError(-2)", host)
		return netip.Addr{}, oserr(-2)
	}
	type result struct {
		a   netip.Addr
		err error
	}
	done := make(chan result, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// In line behind the board: the query goes out in the board's turn
	// (vclock's turnstile), not when the goroutine happens to run.
	actor := t.cfg.Clock.NewActorInLine("getaddrinfo")
	go func() {
		var a netip.Addr
		err := actor.WaitTurn(lctx)
		if err == nil {
			a, err = t.cfg.Resolver.Lookup(lctx, host, actor)
		}
		actor.Close()
		done <- result{a, err}
		t.cfg.Actor.Wake()
	}()
	// The lookup runs on the simulated network: park the board so time can
	// pass while the query travels.
	for {
		select {
		case r := <-done:
			if r.err != nil || !r.a.Is4() {
				t.trace("socket.getaddrinfo(%q) -> OSError(-2)", host)
				return netip.Addr{}, oserr(-2)
			}
			t.trace("socket.getaddrinfo(%q) -> %s", host, r.a)
			return r.a, nil
		default:
		}
		if err := t.cfg.Actor.Park(ctx, -1); err != nil {
			cancel()
			<-done
			return netip.Addr{}, err
		}
	}
}
