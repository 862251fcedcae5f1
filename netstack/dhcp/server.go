package dhcp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// DefaultLeaseTime is the lease a server grants unless told otherwise.
const DefaultLeaseTime = time.Hour

// offerHold is how long an OFFERed address stays reserved for its client.
const offerHold = 60 * time.Second

// ServerConfig describes a DHCP server on one NIC of a stack.
type ServerConfig struct {
	// Stack and NIC are where the server listens (0.0.0.0:67 on NIC).
	Stack *stack.Stack
	NIC   tcpip.NICID
	// ServerIP is the server's own address on NIC (option 54, source of
	// replies). It must be inside Subnet.
	ServerIP netip.Addr
	// Subnet is the LAN's prefix; its mask is option 1.
	Subnet netip.Prefix
	// Router is option 3; the zero Addr leaves it out.
	Router netip.Addr
	// DNS are the name servers of option 6; empty leaves it out.
	DNS []netip.Addr
	// PoolStart and PoolEnd bound the addresses handed out (inclusive).
	PoolStart, PoolEnd netip.Addr
	// LeaseTime is option 51; T1 (58) is half of it and T2 (59) 7/8.
	// Zero means DefaultLeaseTime.
	LeaseTime time.Duration
	// Clock gives lease times and runs the server's actor.
	Clock *vclock.Clock
	// Seed picks the IP identification numbers of raw replies.
	Seed uint64
	// Name labels the server in trace lines and its actor; default "dhcpd".
	Name string
	// Trace, when set, receives one readable line per decision.
	Trace func(string)
	// OnBind, when set, is called on the server's goroutine each time it
	// ACKs a lease: the client's MAC (aa:bb:cc:dd:ee:ff) and address.
	OnBind func(mac string, ip netip.Addr)
}

func (c *ServerConfig) validate() error {
	if c.Stack == nil {
		return errors.New("dhcp: ServerConfig.Stack is nil")
	}
	if c.Clock == nil {
		return errors.New("dhcp: ServerConfig.Clock is nil")
	}
	if !c.Subnet.IsValid() || !c.Subnet.Addr().Is4() {
		return fmt.Errorf("dhcp: ServerConfig.Subnet %v is not an IPv4 prefix", c.Subnet)
	}
	c.Subnet = c.Subnet.Masked()
	for _, f := range []struct {
		name string
		a    netip.Addr
	}{{"ServerIP", c.ServerIP}, {"PoolStart", c.PoolStart}, {"PoolEnd", c.PoolEnd}} {
		if !f.a.Is4() || !c.Subnet.Contains(f.a) {
			return fmt.Errorf("dhcp: ServerConfig.%s %v is not an IPv4 address inside the subnet %v", f.name, f.a, c.Subnet)
		}
	}
	if c.Router.IsValid() && !c.Router.Is4() {
		return fmt.Errorf("dhcp: ServerConfig.Router %v is not an IPv4 address", c.Router)
	}
	for i, d := range c.DNS {
		if !d.Is4() {
			return fmt.Errorf("dhcp: ServerConfig.DNS[%d] %v is not an IPv4 address", i, d)
		}
	}
	if c.PoolEnd.Less(c.PoolStart) {
		return fmt.Errorf("dhcp: ServerConfig.PoolEnd %v is before PoolStart %v", c.PoolEnd, c.PoolStart)
	}
	if c.LeaseTime < 0 {
		return fmt.Errorf("dhcp: ServerConfig.LeaseTime %v is negative", c.LeaseTime)
	}
	if c.LeaseTime == 0 {
		c.LeaseTime = DefaultLeaseTime
	}
	if c.LeaseTime/time.Second > 0xffffffff {
		return fmt.Errorf("dhcp: ServerConfig.LeaseTime %v does not fit option 51", c.LeaseTime)
	}
	if c.Name == "" {
		c.Name = "dhcpd"
	}
	return nil
}

// LeaseInfo is one binding the server holds, for status and tests.
type LeaseInfo struct {
	MAC      string
	IP       netip.Addr
	Hostname string
	Bound    bool          // ACKed (false: only offered)
	Expires  time.Duration // simulator time (clock.Elapsed) it ends at
}

type binding struct {
	mac      string
	ip       netip.Addr
	hostname string
	bound    bool
	expires  time.Duration
	xid      uint32
}

// Server is a DHCP server. Its one goroutine (an actor of the clock, so
// time stands still while it answers) starts with Start and ends with Close.
type Server struct {
	cfg ServerConfig

	silent atomic.Bool
	nak    atomic.Bool

	mu sync.Mutex
	// Guarded by mu.
	byMAC map[string]*binding
	byIP  map[netip.Addr]*binding
	bad   map[netip.Addr]bool // DECLINEd addresses, never offered again
	rng   *rand.Rand
	stats ServerStats

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// ServerStats counts messages, for tests and reports.
type ServerStats struct {
	Discovers, Offers, Requests, Acks, Naks, Declines, Releases, Dropped, Exhausted int
}

// NewServer checks cfg and returns a stopped server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Server{
		cfg:   cfg,
		byMAC: map[string]*binding{},
		byIP:  map[netip.Addr]*binding{},
		bad:   map[netip.Addr]bool{},
		rng:   simrand.New(cfg.Seed, "dhcp-server/"+cfg.Name),
	}, nil
}

// SetSilent makes the server drop every message (a dead server) or
// resume answering.
func (s *Server) SetSilent(on bool) { s.silent.Store(on) }

// SetNAK makes the server answer every REQUEST with a NAK, or stop doing so.
func (s *Server) SetNAK(on bool) { s.nak.Store(on) }

// Stats returns the message counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Leases lists the current bindings (offered and bound, not expired),
// ordered by address.
func (s *Server) Leases() []LeaseInfo {
	now := s.cfg.Clock.Elapsed()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []LeaseInfo
	for _, b := range s.byIP {
		if b.expires <= now {
			continue
		}
		out = append(out, LeaseInfo{MAC: b.mac, IP: b.ip, Hostname: b.hostname, Bound: b.bound, Expires: b.expires})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

// Start binds 0.0.0.0:67 on the NIC and starts answering. The server runs
// until Close or until ctx is done.
func (s *Server) Start(ctx context.Context) error {
	actor := s.cfg.Clock.NewTurnActor(s.cfg.Name)
	sock, err := listenUDP(s.cfg.Stack, s.cfg.NIC, ServerPort, actor.Wake)
	if err != nil {
		actor.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer actor.Close()
		defer sock.close()
		for {
			for {
				payload, from, ok := sock.read()
				if !ok {
					break
				}
				s.handle(sock, payload, from)
			}
			if err := actor.Park(ctx, -1); err != nil {
				return
			}
		}
	}()
	return nil
}

// Close stops the server and waits for its goroutine. It is idempotent.
func (s *Server) Close() {
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.wg.Wait()
}

func (s *Server) trace(format string, args ...any) {
	if s.cfg.Trace != nil {
		s.cfg.Trace(s.cfg.Name + ": " + fmt.Sprintf(format, args...))
	}
}

// reply is what the server decided to send.
type reply struct {
	msg       builder
	broadcast bool // to 255.255.255.255 at ff:ff:ff:ff:ff:ff
	toCiaddr  bool // unicast through the routed path to ciaddr
	// otherwise unicast to yiaddr at chaddr
}

func (s *Server) handle(sock *udpSocket, payload []byte, from tcpip.FullAddress) {
	s.cfg.Clock.Poke()
	r := s.process(payload, s.cfg.Clock.Elapsed())
	if r == nil {
		return
	}
	b, err := r.msg.bytes()
	if err != nil {
		s.trace("cannot build reply: %v", err)
		return
	}
	switch {
	case r.broadcast:
		err = sendRaw(s.cfg.Stack, s.cfg.NIC, broadcastMAC, s.cfg.ServerIP, netip.AddrFrom4([4]byte{255, 255, 255, 255}), ServerPort, ClientPort, s.ipID(), b)
	case r.toCiaddr:
		err = sock.writeTo(s.cfg.NIC, r.msg.ciaddr, ClientPort, b)
	default:
		err = sendRaw(s.cfg.Stack, s.cfg.NIC, tcpip.LinkAddress(r.msg.chaddr), s.cfg.ServerIP, r.msg.yiaddr, ServerPort, ClientPort, s.ipID(), b)
	}
	if err != nil {
		s.trace("send failed: %v", err)
	}
}

func (s *Server) ipID() uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint16(s.rng.Uint32())
}

// process runs one incoming payload through the server's state and returns
// the reply to send, if any. It is the whole protocol logic and never
// panics, whatever the bytes.
func (s *Server) process(payload []byte, now time.Duration) *reply {
	m, err := parseMessage(payload)
	if err != nil {
		s.mu.Lock()
		s.stats.Dropped++
		s.mu.Unlock()
		s.trace("dropped a malformed message (%d bytes): %v", len(payload), err)
		return nil
	}
	if m.op != layers.DHCPOpRequest {
		return nil // a reply from another server, seen by broadcast
	}
	if s.silent.Load() {
		s.mu.Lock()
		s.stats.Dropped++
		s.mu.Unlock()
		s.trace("silent: ignored %s from %s xid=%#08x", m.msgType, m.mac(), m.xid)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.msgType {
	case layers.DHCPMsgTypeDiscover:
		s.stats.Discovers++
		return s.discover(m, now)
	case layers.DHCPMsgTypeRequest:
		s.stats.Requests++
		return s.request(m, now)
	case layers.DHCPMsgTypeDecline:
		s.stats.Declines++
		s.decline(m)
	case layers.DHCPMsgTypeRelease:
		s.stats.Releases++
		s.release(m, now)
	default:
		s.trace("ignored %s from %s", m.msgType, m.mac())
	}
	return nil
}

func (s *Server) inPool(a netip.Addr) bool {
	return a.Is4() && !a.Less(s.cfg.PoolStart) && !s.cfg.PoolEnd.Less(a) && a != s.cfg.ServerIP && a != s.cfg.Router
}

// free reports whether a may be given to mac.
func (s *Server) freeFor(a netip.Addr, mac string, now time.Duration) bool {
	if !s.inPool(a) || s.bad[a] {
		return false
	}
	b := s.byIP[a]
	return b == nil || b.mac == mac || b.expires <= now
}

// allocate picks an address for mac: its previous one (sticky), the one it
// asks for, the first never-used one, then the first expired one.
func (s *Server) allocate(m *message, now time.Duration) (netip.Addr, bool) {
	mac := m.mac()
	if b := s.byMAC[mac]; b != nil && s.freeFor(b.ip, mac, now) {
		return b.ip, true
	}
	if want, ok := m.optAddr(layers.DHCPOptRequestIP); ok && s.freeFor(want, mac, now) {
		return want, true
	}
	var expired netip.Addr
	for a := s.cfg.PoolStart; a.IsValid() && !s.cfg.PoolEnd.Less(a); a = a.Next() {
		if !s.inPool(a) || s.bad[a] {
			continue
		}
		b := s.byIP[a]
		if b == nil {
			return a, true
		}
		if b.expires <= now && !expired.IsValid() {
			expired = a
		}
	}
	return expired, expired.IsValid()
}

func (s *Server) bind(mac string, a netip.Addr, m *message, bound bool, until time.Duration) *binding {
	if old := s.byMAC[mac]; old != nil && old.ip != a {
		if s.byIP[old.ip] == old {
			delete(s.byIP, old.ip)
		}
	}
	if other := s.byIP[a]; other != nil && other.mac != mac {
		delete(s.byMAC, other.mac)
	}
	b := &binding{mac: mac, ip: a, bound: bound, expires: until, xid: m.xid}
	if h, ok := m.opts[layers.DHCPOptHostname]; ok {
		b.hostname = string(h)
	}
	s.byMAC[mac] = b
	s.byIP[a] = b
	if bound && s.cfg.OnBind != nil {
		s.cfg.OnBind(mac, a)
	}
	return b
}

func (s *Server) discover(m *message, now time.Duration) *reply {
	a, ok := s.allocate(m, now)
	if !ok {
		s.stats.Exhausted++
		s.trace("DISCOVER from %s xid=%#08x: pool %v-%v exhausted, no OFFER", m.mac(), m.xid, s.cfg.PoolStart, s.cfg.PoolEnd)
		return nil
	}
	prev := s.byMAC[m.mac()]
	bound := prev != nil && prev.ip == a && prev.bound && prev.expires > now
	until := now + offerHold
	if bound && prev.expires > until {
		until = prev.expires
	}
	s.bind(m.mac(), a, m, bound, until)
	s.stats.Offers++
	s.trace("DISCOVER from %s xid=%#08x → OFFER %v", m.mac(), m.xid, a)
	return s.answer(m, layers.DHCPMsgTypeOffer, a)
}

// answer builds an OFFER or ACK for a.
func (s *Server) answer(m *message, t layers.DHCPMsgType, a netip.Addr) *reply {
	r := &reply{msg: builder{
		op:     layers.DHCPOpReply,
		xid:    m.xid,
		flags:  m.flags,
		ciaddr: m.ciaddr,
		yiaddr: a,
		chaddr: m.chaddr,
	}}
	lease := uint32(s.cfg.LeaseTime / time.Second)
	r.msg.add(layers.DHCPOptMessageType, []byte{byte(t)})
	r.msg.addAddr(layers.DHCPOptServerID, s.cfg.ServerIP)
	r.msg.addUint32(layers.DHCPOptLeaseTime, lease)
	r.msg.addUint32(layers.DHCPOptT1, lease/2)
	r.msg.addUint32(layers.DHCPOptT2, uint32(uint64(lease)*7/8))
	mask := net.CIDRMask(s.cfg.Subnet.Bits(), 32)
	r.msg.add(layers.DHCPOptSubnetMask, mask)
	if s.cfg.Router.IsValid() {
		r.msg.addAddr(layers.DHCPOptRouter, s.cfg.Router)
	}
	if len(s.cfg.DNS) > 0 {
		r.msg.addAddr(layers.DHCPOptDNS, s.cfg.DNS...)
	}
	if h, ok := m.opts[layers.DHCPOptHostname]; ok && len(h) > 0 {
		r.msg.add(layers.DHCPOptHostname, h)
	}
	s.route(r, m)
	return r
}

// route applies RFC 2131 section 4.1: a client with an address gets a
// unicast to it; one that asked for broadcast gets one; anyone else a
// unicast to yiaddr at its hardware address.
func (s *Server) route(r *reply, m *message) {
	switch {
	case m.ciaddr.IsValid() && !m.ciaddr.IsUnspecified():
		r.toCiaddr = true
	case m.flags&flagBroadcast != 0:
		r.broadcast = true
	}
}

func (s *Server) nakReply(m *message, why string) *reply {
	s.stats.Naks++
	s.trace("REQUEST from %s xid=%#08x → NAK (%s)", m.mac(), m.xid, why)
	r := &reply{broadcast: true, msg: builder{
		op:     layers.DHCPOpReply,
		xid:    m.xid,
		flags:  m.flags,
		chaddr: m.chaddr,
	}}
	r.msg.add(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeNak)})
	r.msg.addAddr(layers.DHCPOptServerID, s.cfg.ServerIP)
	r.msg.add(layers.DHCPOptMessage, []byte(why))
	return r
}

func (s *Server) request(m *message, now time.Duration) *reply {
	mac := m.mac()
	requested, hasRequested := m.optAddr(layers.DHCPOptRequestIP)
	serverID, hasServerID := m.optAddr(layers.DHCPOptServerID)
	if hasServerID && serverID != s.cfg.ServerIP {
		// SELECTING, and the client chose another server: drop our offer.
		if b := s.byMAC[mac]; b != nil && !b.bound {
			b.expires = now
		}
		s.trace("REQUEST from %s xid=%#08x is for server %v, not us: offer withdrawn", mac, m.xid, serverID)
		return nil
	}
	if s.nak.Load() {
		return s.nakReply(m, "NAK fault injected")
	}
	var want netip.Addr
	state := ""
	switch {
	case hasServerID: // SELECTING
		state = "selecting"
		if !hasRequested {
			return s.nakReply(m, "no requested address in a SELECTING request")
		}
		want = requested
		b := s.byMAC[mac]
		if b == nil || b.ip != want || b.expires <= now {
			return s.nakReply(m, fmt.Sprintf("%v was not offered to %s", want, mac))
		}
	case hasRequested: // INIT-REBOOT
		state = "init-reboot"
		want = requested
		if !s.cfg.Subnet.Contains(want) {
			return s.nakReply(m, fmt.Sprintf("%v is not on subnet %v", want, s.cfg.Subnet))
		}
		if !s.freeFor(want, mac, now) {
			return s.nakReply(m, fmt.Sprintf("%v is not available to %s", want, mac))
		}
	default: // RENEWING or REBINDING: ciaddr carries the address
		state = "renewing"
		want = m.ciaddr
		if !want.IsValid() || want.IsUnspecified() {
			return s.nakReply(m, "request names no address")
		}
		if !s.cfg.Subnet.Contains(want) {
			return s.nakReply(m, fmt.Sprintf("%v is not on subnet %v", want, s.cfg.Subnet))
		}
		b := s.byMAC[mac]
		if b == nil || b.ip != want || !b.bound {
			if !s.freeFor(want, mac, now) {
				return s.nakReply(m, fmt.Sprintf("%v is not leased to %s", want, mac))
			}
		}
	}
	s.bind(mac, want, m, true, now+s.cfg.LeaseTime)
	s.stats.Acks++
	s.trace("REQUEST (%s) from %s xid=%#08x → ACK %v lease %v", state, mac, m.xid, want, s.cfg.LeaseTime)
	return s.answer(m, layers.DHCPMsgTypeAck, want)
}

func (s *Server) decline(m *message) {
	a, ok := s.optOrCiaddr(m)
	if !ok {
		s.trace("DECLINE from %s names no address: ignored", m.mac())
		return
	}
	s.bad[a] = true
	if b := s.byIP[a]; b != nil {
		delete(s.byIP, a)
		if s.byMAC[b.mac] == b {
			delete(s.byMAC, b.mac)
		}
	}
	s.trace("DECLINE from %s: %v marked in use, never offered again", m.mac(), a)
}

func (s *Server) optOrCiaddr(m *message) (netip.Addr, bool) {
	if a, ok := m.optAddr(layers.DHCPOptRequestIP); ok {
		return a, true
	}
	if m.ciaddr.IsValid() && !m.ciaddr.IsUnspecified() {
		return m.ciaddr, true
	}
	return netip.Addr{}, false
}

func (s *Server) release(m *message, now time.Duration) {
	b := s.byMAC[m.mac()]
	if b == nil || b.ip != m.ciaddr {
		s.trace("RELEASE from %s of %v: no such lease", m.mac(), m.ciaddr)
		return
	}
	// Keep the binding so the client gets the same address next time, but
	// let anyone else have it.
	b.expires = now
	b.bound = false
	s.trace("RELEASE from %s: %v is free", m.mac(), b.ip)
}
