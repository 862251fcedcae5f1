package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// Port is the DNS port.
const Port = 53

// DefaultTTL is the TTL of answers unless a record says otherwise.
const DefaultTTL = 300

// maxChain bounds CNAME chains (and catches loops).
const maxChain = 8

// Record is one resource record of the server's zone.
type Record struct {
	// Name is the owner name; matching is case-insensitive and ignores a
	// trailing dot.
	Name string
	// Type is layers.DNSTypeA or layers.DNSTypeCNAME.
	Type layers.DNSType
	// Addr is the address of an A record.
	Addr netip.Addr
	// Target is the canonical name of a CNAME record.
	Target string
	// TTL in seconds; zero means DefaultTTL.
	TTL uint32
}

// A returns an A record.
func A(name string, addr netip.Addr) Record {
	return Record{Name: name, Type: layers.DNSTypeA, Addr: addr}
}

// CNAME returns a CNAME record.
func CNAME(name, target string) Record {
	return Record{Name: name, Type: layers.DNSTypeCNAME, Target: target}
}

// Fault is an injected server misbehaviour.
type Fault int

const (
	// FaultNone answers normally.
	FaultNone Fault = iota
	// FaultTimeout drops every query (the client times out).
	FaultTimeout
	// FaultServFail answers every query with SERVFAIL.
	FaultServFail
	// FaultWrongAnswer answers every A query with ServerConfig.WrongAddr.
	FaultWrongAnswer
	// FaultNXDomain answers every query with NXDOMAIN.
	FaultNXDomain
)

func (f Fault) String() string {
	switch f {
	case FaultNone:
		return "none"
	case FaultTimeout:
		return "timeout"
	case FaultServFail:
		return "servfail"
	case FaultWrongAnswer:
		return "wrong-answer"
	case FaultNXDomain:
		return "nxdomain"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// ParseFault maps a scenario word to a Fault ("wrong" is accepted for
// wrong-answer).
func ParseFault(s string) (Fault, error) {
	if strings.EqualFold(s, "wrong") {
		return FaultWrongAnswer, nil
	}
	for f := FaultNone; f <= FaultNXDomain; f++ {
		if strings.EqualFold(s, f.String()) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("dns: unknown fault %q (want none, timeout, servfail, wrong or nxdomain)", s)
}

// DefaultWrongAddr is the address FaultWrongAnswer hands out by default.
var DefaultWrongAddr = netip.MustParseAddr("10.66.66.66")

// ServerConfig describes a DNS server.
type ServerConfig struct {
	// Stack and NIC are where it listens (NIC 0: every NIC).
	Stack *stack.Stack
	NIC   tcpip.NICID
	// Addr is the address to bind (invalid: 0.0.0.0); port 53.
	Addr netip.Addr
	// Records is the zone: A and CNAME records.
	Records []Record
	// Upstream, when set, is asked for names outside the zone (the
	// simulated internet's name table); it returns the addresses of an
	// existing name, ok=false for an unknown one. It runs on the server's
	// goroutine: in a fast world it must not block; a realtime world's
	// host resolver (internet passthrough) blocks it briefly.
	Upstream func(name string) (addrs []netip.Addr, ok bool)
	// WrongAddr is the answer of FaultWrongAnswer; invalid means
	// DefaultWrongAddr.
	WrongAddr netip.Addr
	// Clock runs the server's actor.
	Clock *vclock.Clock
	// Name labels trace lines; default "dns".
	Name string
	// Trace, when set, receives one line per query.
	Trace func(string)
}

// Server is a small authoritative DNS server over UDP.
type Server struct {
	cfg   ServerConfig
	zoneA map[string][]Record
	zoneC map[string]Record

	fault atomic.Int32
	// nameFaults are faults narrowed to one name (canonical form); they win
	// over fault for that name.
	nameMu     sync.Mutex
	nameFaults map[string]Fault
	queries    atomic.Int64
	answered   atomic.Int64

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

func canon(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// NewServer checks cfg and returns a stopped server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Stack == nil {
		return nil, errors.New("dns: ServerConfig.Stack is nil")
	}
	if cfg.Clock == nil {
		return nil, errors.New("dns: ServerConfig.Clock is nil")
	}
	if cfg.Addr.IsValid() && !cfg.Addr.Is4() {
		return nil, fmt.Errorf("dns: ServerConfig.Addr %v is not IPv4", cfg.Addr)
	}
	if !cfg.WrongAddr.IsValid() {
		cfg.WrongAddr = DefaultWrongAddr
	}
	if !cfg.WrongAddr.Is4() {
		return nil, fmt.Errorf("dns: ServerConfig.WrongAddr %v is not IPv4", cfg.WrongAddr)
	}
	if cfg.Name == "" {
		cfg.Name = "dns"
	}
	s := &Server{cfg: cfg, zoneA: map[string][]Record{}, zoneC: map[string]Record{}}
	for i, r := range cfg.Records {
		n := canon(r.Name)
		if n == "" || len(n) > 253 {
			return nil, fmt.Errorf("dns: ServerConfig.Records[%d]: name %q is not a valid domain name", i, r.Name)
		}
		switch r.Type {
		case layers.DNSTypeA:
			if !r.Addr.Is4() {
				return nil, fmt.Errorf("dns: ServerConfig.Records[%d] (%s A): address %v is not IPv4", i, r.Name, r.Addr)
			}
			if _, dup := s.zoneC[n]; dup {
				return nil, fmt.Errorf("dns: ServerConfig.Records[%d]: %s has a CNAME and an A record", i, r.Name)
			}
			s.zoneA[n] = append(s.zoneA[n], r)
		case layers.DNSTypeCNAME:
			if canon(r.Target) == "" {
				return nil, fmt.Errorf("dns: ServerConfig.Records[%d] (%s CNAME): empty target", i, r.Name)
			}
			if _, dup := s.zoneC[n]; dup || len(s.zoneA[n]) > 0 {
				return nil, fmt.Errorf("dns: ServerConfig.Records[%d]: %s has a CNAME and other records", i, r.Name)
			}
			s.zoneC[n] = r
		default:
			return nil, fmt.Errorf("dns: ServerConfig.Records[%d] (%s): type %v not supported (A or CNAME)", i, r.Name, r.Type)
		}
	}
	return s, nil
}

// SetFault switches the injected fault; safe while running.
func (s *Server) SetFault(f Fault) { s.fault.Store(int32(f)) }

// SetNameFault switches the fault for one name only (the queried name,
// case-insensitive); FaultNone there answers it normally again whatever
// the server-wide fault. ClearNameFaults drops every such entry.
func (s *Server) SetNameFault(name string, f Fault) {
	s.nameMu.Lock()
	defer s.nameMu.Unlock()
	if s.nameFaults == nil {
		s.nameFaults = map[string]Fault{}
	}
	s.nameFaults[canon(name)] = f
}

// ClearNameFault removes the fault of one name: it follows the
// server-wide fault again.
func (s *Server) ClearNameFault(name string) {
	s.nameMu.Lock()
	defer s.nameMu.Unlock()
	delete(s.nameFaults, canon(name))
}

// ClearNameFaults removes every name's fault.
func (s *Server) ClearNameFaults() {
	s.nameMu.Lock()
	defer s.nameMu.Unlock()
	clear(s.nameFaults)
}

// faultFor is the fault that applies to a query for name.
func (s *Server) faultFor(name string) Fault {
	s.nameMu.Lock()
	f, ok := s.nameFaults[canon(name)]
	s.nameMu.Unlock()
	if ok {
		return f
	}
	return s.Fault()
}

// Fault returns the current fault.
func (s *Server) Fault() Fault { return Fault(s.fault.Load()) }

// Queries returns how many datagrams the server received.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Start binds the socket and serves until Close or ctx is done.
func (s *Server) Start(ctx context.Context) error {
	actor := s.cfg.Clock.NewTurnActor(s.cfg.Name)
	sock, err := openUDP(s.cfg.Stack, s.cfg.NIC, s.cfg.Addr, Port, actor.Wake)
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
				s.cfg.Clock.Poke()
				if reply := s.Answer(payload); reply != nil {
					if err := sock.writeTo(from, reply); err != nil {
						s.trace("reply to %v lost: %v", from.Addr, err)
					}
				}
			}
			if err := actor.Park(ctx, -1); err != nil {
				return
			}
		}
	}()
	return nil
}

// Close stops the server and waits for it; idempotent.
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

// Answer computes the reply to one query datagram (nil: send nothing). It
// is the server's whole logic, safe for concurrent use, and never panics.
func (s *Server) Answer(query []byte) (reply []byte) {
	s.queries.Add(1)
	defer func() {
		if r := recover(); r != nil {
			s.trace("malformed query (%d bytes) dropped: %v", len(query), r)
			reply = nil
		}
	}()
	var q layers.DNS
	if err := q.DecodeFromBytes(query, gopacket.NilDecodeFeedback); err != nil {
		return s.formErr(query, err)
	}
	if q.QR {
		return nil // a response: never answer those
	}
	resp := &layers.DNS{ID: q.ID, QR: true, OpCode: q.OpCode, RD: q.RD, RA: true, Questions: q.Questions}
	if q.OpCode != layers.DNSOpCodeQuery {
		resp.ResponseCode = layers.DNSResponseCodeNotImp
		s.trace("opcode %v from query id %#04x: NOTIMP", q.OpCode, q.ID)
		return s.encode(resp)
	}
	if len(q.Questions) != 1 {
		resp.ResponseCode = layers.DNSResponseCodeFormErr
		s.trace("query id %#04x with %d questions: FORMERR", q.ID, len(q.Questions))
		return s.encode(resp)
	}
	qq := q.Questions[0]
	name := string(qq.Name)
	if !validName(name) {
		// A label holding a dot, an empty label, a name too long: the
		// question cannot be echoed faithfully.
		resp.ResponseCode = layers.DNSResponseCodeFormErr
		resp.Questions = nil
		s.trace("query id %#04x with an unusable name: FORMERR", q.ID)
		return s.encode(resp)
	}
	switch f := s.faultFor(name); f {
	case FaultTimeout:
		s.trace("%s %v? dropped (timeout fault)", name, qq.Type)
		return nil
	case FaultServFail:
		resp.ResponseCode = layers.DNSResponseCodeServFail
		s.trace("%s %v? → SERVFAIL (fault)", name, qq.Type)
		return s.encode(resp)
	case FaultNXDomain:
		resp.ResponseCode = layers.DNSResponseCodeNXDomain
		s.trace("%s %v? → NXDOMAIN (fault)", name, qq.Type)
		return s.encode(resp)
	case FaultWrongAnswer:
		if qq.Type == layers.DNSTypeA && qq.Class == layers.DNSClassIN {
			resp.Answers = []layers.DNSResourceRecord{aRR(qq.Name, s.cfg.WrongAddr, DefaultTTL)}
			s.trace("%s A? → %v (wrong-answer fault)", name, s.cfg.WrongAddr)
			return s.encode(resp)
		}
	}
	if qq.Class != layers.DNSClassIN && qq.Class != layers.DNSClassAny {
		resp.ResponseCode = layers.DNSResponseCodeNotImp
		return s.encode(resp)
	}
	chain, addrs, exists, authoritative := s.lookup(name)
	resp.AA = authoritative
	owner := qq.Name
	for _, c := range chain {
		resp.Answers = append(resp.Answers, layers.DNSResourceRecord{
			Name: owner, Type: layers.DNSTypeCNAME, Class: layers.DNSClassIN, TTL: ttl(c.TTL), CNAME: []byte(c.Target),
		})
		owner = []byte(c.Target)
	}
	switch {
	case !exists:
		resp.ResponseCode = layers.DNSResponseCodeNXDomain
		s.trace("%s %v? → NXDOMAIN", name, qq.Type)
	case qq.Type == layers.DNSTypeA || qq.Type == layers.DNSType(255):
		for _, a := range addrs {
			resp.Answers = append(resp.Answers, aRR(owner, a.Addr, ttl(a.TTL)))
		}
		s.trace("%s A? → %s", name, describe(chain, addrs))
	default:
		// AAAA and the rest: the name exists, no data of that type.
		s.trace("%s %v? → NOERROR, no records", name, qq.Type)
	}
	return s.encode(resp)
}

func ttl(t uint32) uint32 {
	if t == 0 {
		return DefaultTTL
	}
	return t
}

func aRR(name []byte, a netip.Addr, ttl uint32) layers.DNSResourceRecord {
	v := a.As4()
	return layers.DNSResourceRecord{Name: name, Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: ttl, IP: net.IP(v[:])}
}

func describe(chain []Record, addrs []Record) string {
	var parts []string
	for _, c := range chain {
		parts = append(parts, "CNAME "+c.Target)
	}
	for _, a := range addrs {
		parts = append(parts, a.Addr.String())
	}
	if len(parts) == 0 {
		return "no address"
	}
	return strings.Join(parts, ", ")
}

// lookup follows CNAMEs from name. exists is false for an unknown name
// (NXDOMAIN); authoritative is false when the answer came from Upstream.
func (s *Server) lookup(name string) (chain, addrs []Record, exists, authoritative bool) {
	n := canon(name)
	seen := map[string]bool{}
	for range maxChain {
		if seen[n] {
			return chain, nil, true, true // a loop: the name exists, no address
		}
		seen[n] = true
		if c, ok := s.zoneC[n]; ok {
			chain = append(chain, c)
			n = canon(c.Target)
			continue
		}
		if as, ok := s.zoneA[n]; ok {
			return chain, as, true, true
		}
		if s.cfg.Upstream != nil {
			if up, ok := s.cfg.Upstream(n); ok {
				for _, a := range up {
					if a.Is4() {
						addrs = append(addrs, Record{Name: n, Type: layers.DNSTypeA, Addr: a})
					}
				}
				return chain, addrs, true, false
			}
		}
		return chain, nil, false, true
	}
	return chain, nil, true, true
}

func (s *Server) encode(d *layers.DNS) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		s.trace("cannot encode reply: %v", err)
		return nil
	}
	out := buf.Bytes()
	// Never put a reply on the wire that a resolver could not parse.
	var check layers.DNS
	if err := check.DecodeFromBytes(out, gopacket.NilDecodeFeedback); err != nil {
		s.trace("reply id %#04x would not decode (%v): dropped", d.ID, err)
		return nil
	}
	return out
}

// formErr answers a query that did not decode: FORMERR with the query's id
// when there is a header that asks something, nothing otherwise.
func (s *Server) formErr(query []byte, err error) []byte {
	if len(query) < 12 || query[2]&0x80 != 0 {
		s.trace("undecodable datagram (%d bytes) dropped: %v", len(query), err)
		return nil
	}
	s.trace("malformed query id %#04x: FORMERR (%v)", binary.BigEndian.Uint16(query), err)
	return s.encode(&layers.DNS{
		ID: binary.BigEndian.Uint16(query), QR: true, OpCode: layers.DNSOpCode((query[2] >> 3) & 0xf),
		RD: query[2]&1 != 0, RA: true, ResponseCode: layers.DNSResponseCodeFormErr,
	})
}
