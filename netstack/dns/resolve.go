package dns

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// Resolver errors. A board maps all of them to getaddrinfo's OSError(-2)
// (lwIP reports every failure through one NULL callback).
var (
	// ErrNotFound: the server answered NXDOMAIN.
	ErrNotFound = errors.New("dns: name not found (NXDOMAIN)")
	// ErrTimeout: no answer after every retry to every server.
	ErrTimeout = errors.New("dns: no answer from the name server")
	// ErrNoAddress: a successful answer without an A record.
	ErrNoAddress = errors.New("dns: answer carries no IPv4 address")
	// ErrBadName: the name cannot be sent in a query.
	ErrBadName = errors.New("dns: invalid host name")
)

// RcodeError is an error response other than NXDOMAIN (SERVFAIL, REFUSED…).
type RcodeError struct {
	Rcode layers.DNSResponseCode
}

func (e *RcodeError) Error() string { return fmt.Sprintf("dns: server answered %v", e.Rcode) }

// lwIP 1.4 (ESP8266 SDK) dns.c timing: dns_tmr runs every DNS_TMR_INTERVAL
// (1 s). A query is sent when the entry is created (tmr = 1, retries = 0);
// at each tick tmr is decremented, and when it reaches 0 retries is
// incremented; at DNS_MAX_RETRIES (4) the next configured server is tried
// (tmr = 1, retries = 0, no send on that tick) or the lookup fails;
// otherwise the query is resent and tmr = retries. With one server the
// query goes out at 0, 1, 2 and 4 s and the lookup fails at 7 s; a second
// server is asked at 8, 9 and 11 s and the lookup fails at 14 s. (lwIP's
// tick is free-running, so on a board the first retry comes 0–1 s after the
// first send; here ticks count from the first send.) Any error response
// (NXDOMAIN, SERVFAIL…) ends the lookup at once, as lwIP's dns_recv does.
const (
	TickInterval = time.Second
	MaxRetries   = 4
	MaxServers   = 2 // DNS_MAX_SERVERS
)

// Resolver looks names up the way the board's lwIP does.
type Resolver struct {
	// Stack sends the queries; NIC 0 lets routing pick the interface.
	Stack *stack.Stack
	NIC   tcpip.NICID
	// Servers are asked in order (at most MaxServers are used).
	Servers []netip.Addr
	// Clock times retries when a lookup is made without an actor.
	Clock *vclock.Clock
	// Seed picks query ids.
	Seed uint64
	// Timeout, when > 0, ends a lookup after that much simulated time even
	// if the lwIP schedule has retries left.
	Timeout time.Duration
	// Trace, when set, receives one line per query sent and answer.
	Trace func(string)
	// Cache keeps answers like lwIP's DNS table (DNS_TABLE_SIZE = 4
	// entries, each until its TTL runs out, capped at DNS_MAX_TTL = one
	// week; the oldest entry makes room): a name looked up again while
	// cached is answered without a query, as on the board. Keep one
	// Resolver per board for it to matter.
	Cache bool

	mu  sync.Mutex
	rng *rand.Rand
	// Guarded by mu.
	table []cacheEntry
}

// lwIP dns.c table limits.
const (
	TableSize = 4
	MaxTTL    = 7 * 24 * time.Hour
)

type cacheEntry struct {
	name    string
	addr    netip.Addr
	expires time.Duration // clock.Elapsed
}

func (r *Resolver) cached(name string, now time.Duration) (netip.Addr, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.table {
		if e.name == name && now < e.expires {
			return e.addr, true
		}
	}
	return netip.Addr{}, false
}

func (r *Resolver) remember(name string, a netip.Addr, ttl time.Duration, now time.Duration) {
	if ttl <= 0 {
		return
	}
	ttl = min(ttl, MaxTTL)
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.table[:0]
	for _, e := range r.table {
		if e.name != name && now < e.expires {
			kept = append(kept, e)
		}
	}
	r.table = kept
	if len(r.table) >= TableSize {
		r.table = r.table[1:] // the oldest goes
	}
	r.table = append(r.table, cacheEntry{name: name, addr: a, expires: now + ttl})
}

func (r *Resolver) trace(format string, args ...any) {
	if r.Trace != nil {
		r.Trace(fmt.Sprintf(format, args...))
	}
}

func (r *Resolver) newID() uint16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rng == nil {
		r.rng = simrand.New(r.Seed, "dns-resolver")
	}
	return uint16(r.rng.Uint32())
}

// Resolve looks up name's IPv4 address through server, parking actor while
// it waits (the actor gives the clock). timeout > 0 cuts the lwIP schedule
// short; 0 uses it whole (7 s for one server).
func Resolve(ctx context.Context, s *stack.Stack, server netip.Addr, name string, timeout time.Duration, actor *vclock.Actor) (netip.Addr, error) {
	if actor == nil {
		return netip.Addr{}, errors.New("dns: Resolve needs an actor; use a Resolver with a Clock to resolve without one")
	}
	r := &Resolver{Stack: s, Servers: []netip.Addr{server}, Clock: actor.Clock(), Seed: uint64(len(name)), Timeout: timeout}
	return r.Lookup(ctx, name, actor)
}

// validName reports whether name can go into a query (RFC 1035 limits).
func validName(name string) bool {
	n := strings.TrimSuffix(name, ".")
	if n == "" || len(n) > 253 {
		return false
	}
	for _, l := range strings.Split(n, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return true
}

// Lookup resolves name to an IPv4 address. A numeric address is returned
// as is without a query (lwIP's dns_gethostbyname does the same). actor,
// when given, is parked while waiting; otherwise a temporary actor of
// r.Clock is used.
func (r *Resolver) Lookup(ctx context.Context, name string, actor *vclock.Actor) (netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil && a.Is4() {
		return a, nil
	}
	if !validName(name) {
		return netip.Addr{}, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	servers := r.Servers
	if len(servers) > MaxServers {
		servers = servers[:MaxServers]
	}
	var valid []netip.Addr
	for _, s := range servers {
		if s.Is4() && !s.IsUnspecified() {
			valid = append(valid, s)
		}
	}
	if len(valid) == 0 {
		return netip.Addr{}, fmt.Errorf("dns: no name server configured: %w", ErrTimeout)
	}
	if actor == nil {
		if r.Clock == nil {
			return netip.Addr{}, errors.New("dns: Resolver.Clock is nil and no actor given")
		}
		actor = r.Clock.NewActor("dns-lookup")
		defer actor.Close()
	}
	clock := actor.Clock()
	if r.Cache {
		if a, ok := r.cached(name, clock.Elapsed()); ok {
			r.trace("%s: %v (cached)", name, a)
			return a, nil
		}
	}
	sock, err := openUDP(r.Stack, r.NIC, netip.Addr{}, 0, actor.Wake)
	if err != nil {
		return netip.Addr{}, err
	}
	defer sock.close()

	id := r.newID()
	q := &layers.DNS{ID: id, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	buf := gopacket.NewSerializeBuffer()
	if err := q.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		return netip.Addr{}, fmt.Errorf("%w: %q: %w", ErrBadName, name, err)
	}
	query := buf.Bytes()

	start := clock.Elapsed()
	hardStop := time.Duration(-1)
	if r.Timeout > 0 {
		hardStop = start + r.Timeout
	}
	numdns, tmr, retries := 0, 1, 0
	send := func() {
		to := tcpip.FullAddress{NIC: r.NIC, Addr: tcpip.AddrFrom4(valid[numdns].As4()), Port: Port}
		if err := sock.writeTo(to, query); err != nil {
			r.trace("query %s to %v not sent: %v", name, valid[numdns], err)
		} else {
			r.trace("query %s A? id=%#04x to %v", name, id, valid[numdns])
		}
		clock.Poke()
	}
	send()
	nextTick := start + TickInterval
	for {
		for {
			payload, from, ok := sock.read()
			if !ok {
				break
			}
			if from.Port != Port {
				continue
			}
			addr, ttl, done, err := parseAnswer(payload, id)
			if !done {
				continue
			}
			if err != nil {
				r.trace("answer for %s: %v", name, err)
				return netip.Addr{}, fmt.Errorf("resolving %q: %w", name, err)
			}
			r.trace("answer for %s: %v", name, addr)
			if r.Cache {
				r.remember(name, addr, ttl, clock.Elapsed())
			}
			return addr, nil
		}
		now := clock.Elapsed()
		if hardStop >= 0 && now >= hardStop {
			return netip.Addr{}, fmt.Errorf("resolving %q: %w (gave up after %v)", name, ErrTimeout, hardStop-start)
		}
		if now >= nextTick {
			nextTick += TickInterval
			tmr--
			if tmr == 0 {
				retries++
				if retries == MaxRetries {
					if numdns+1 < len(valid) {
						numdns++
						tmr, retries = 1, 0
						continue
					}
					return netip.Addr{}, fmt.Errorf("resolving %q: %w after %v", name, ErrTimeout, now-start)
				}
				tmr = retries
				send()
			}
			continue
		}
		wait := nextTick - now
		if hardStop >= 0 && hardStop-now < wait {
			wait = hardStop - now
		}
		if err := actor.Park(ctx, wait); err != nil {
			return netip.Addr{}, fmt.Errorf("resolving %q: %w", name, err)
		}
	}
}

// parseAnswer checks a datagram against the query id. done is false for a
// datagram that is not the answer (wrong id, not a response, garbage).
func parseAnswer(payload []byte, id uint16) (addr netip.Addr, ttl time.Duration, done bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			addr, ttl, done, err = netip.Addr{}, 0, false, nil
		}
	}()
	var d layers.DNS
	if err := d.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
		return netip.Addr{}, 0, false, nil
	}
	if !d.QR || d.ID != id {
		return netip.Addr{}, 0, false, nil
	}
	switch d.ResponseCode {
	case layers.DNSResponseCodeNoErr:
	case layers.DNSResponseCodeNXDomain:
		return netip.Addr{}, 0, true, ErrNotFound
	default:
		return netip.Addr{}, 0, true, &RcodeError{Rcode: d.ResponseCode}
	}
	for _, a := range d.Answers {
		if a.Type == layers.DNSTypeA && a.Class == layers.DNSClassIN && len(a.IP.To4()) == 4 {
			return netip.AddrFrom4([4]byte(a.IP.To4())), time.Duration(a.TTL) * time.Second, true, nil
		}
	}
	return netip.Addr{}, 0, true, ErrNoAddress
}
