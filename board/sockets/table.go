package sockets

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// Socket constants of the ESP8266 port (modlwip's module table, lwIP 1.4).
const (
	AFInet       = 2
	AFInet6      = 10
	SockStream   = 1
	SockDgram    = 2
	SockRaw      = 3
	SolSocket    = 1
	SoReuseAddr  = 0x04
	SoBroadcast  = 0x20
	IPProtoIP    = 0
	IPProtoTCP   = 6
	TCPNoDelay   = 0x40 // lwIP TF_NODELAY
	MsgPeek      = 0x01
	MsgDontWait  = 0x02
	IPAddMember  = 0x400
	IPDropMember = 0x401
	// SoCallback is modlwip's private option 20: a callback run when data
	// arrives (used by webrepl).
	SoCallback = 20
)

// Poll flags (MP_STREAM_POLL_*), the values select.POLL* carry.
const (
	PollIn   = 0x01
	PollOut  = 0x04
	PollErr  = 0x08
	PollHup  = 0x10
	PollNval = 0x20
)

// Defaults of the esp8266 profile.
const (
	// DefaultMaxTCPPCBs is how many TCP PCBs the board's heap holds before
	// tcp_new fails (socket() raises ENOMEM). esp-open-lwip sets
	// MEMP_MEM_MALLOC, so PCBs are not a fixed pool: they come from the
	// SDK heap (about 25 KB free on a connected board, a PCB costs about
	// 170 bytes with malloc's overhead). The figure is that estimate; the
	// SDK's MEMP_NUM_TCP_PCB (5) caps accepted connections instead, see
	// DefaultMaxActiveTCP.
	DefaultMaxTCPPCBs = 128
	// DefaultTimeWait is 2·TCP_MSL with lwIP's TCP_MSL of 60 s.
	DefaultTimeWait = 120 * time.Second
	// DefaultSendBuffer is the SDK's TCP_SND_BUF, 2·TCP_MSS.
	DefaultSendBuffer = 2 * 1460
	// DefaultCloseAbort is MICROPY_PY_LWIP_TCP_CLOSE_TIMEOUT_MS: a closed
	// connection not cleanly finished by then is aborted.
	DefaultCloseAbort = 10 * time.Second
	// DefaultListenBacklog is MICROPY_PY_SOCKET_LISTEN_BACKLOG_DEFAULT.
	DefaultListenBacklog = 2
	// gvisorListenQueue is gVisor's accept queue under a board listener:
	// completed connections wait there only until the drain (backlog.go)
	// takes them, or while the heap has no room for another PCB. It is
	// large because gVisor answers SYNs with cookies once its half-open
	// queue reaches it and silently drops a handshake's final ACK (and the
	// data after it) while the accept queue is full: a burst of 32
	// forwarded clients then left host sockets in CLOSE-WAIT and the
	// board's server looked stalled. lwIP keeps a PCB per pending
	// connection and never gets into that state.
	gvisorListenQueue = 128
	// SynGiveUp is how long lwIP on the ESP8266 tries a connect before
	// tcp_slowtmr removes the PCB with ERR_ABRT (ECONNABORTED): the SDK's
	// TCP_SYNMAXRTX of 6 retransmissions, one every RTO of 1 s (tcp_alloc's
	// 1000/TCP_SLOW_INTERVAL ticks; esp-open-lwip does not back off in
	// SYN_SENT), then the next 250 ms slow tick.
	SynGiveUp = 6*time.Second + 250*time.Millisecond
)

// Resolver resolves a host name to one IPv4 address over the simulated
// network (a *dns.Resolver of netstack/dns satisfies it). The table calls it
// on a goroutine of its own with a temporary actor, which the resolver parks
// while it waits; the board stays parked until the answer is in.
type Resolver interface {
	Lookup(ctx context.Context, name string, actor *vclock.Actor) (netip.Addr, error)
}

// Actor is the board's simulator-clock actor (a *vclock.Actor).
type Actor interface {
	Park(ctx context.Context, timeout time.Duration) error
	Wake()
}

// TLSFlavor selects which firmware TLS module the board imitates.
type TLSFlavor string

const (
	// TLSAxTLS is the ESP8266 port: axTLS, no certificate verification,
	// CERT_NONE only, errors as OSError(code, 'NAME').
	TLSAxTLS TLSFlavor = "axtls"
	// TLSMbedTLS is the mbedTLS ports (ESP32, Pico W): CERT_REQUIRED,
	// load_verify_locations, getpeercert, verification failures as
	// ValueError with mbedTLS's message.
	TLSMbedTLS TLSFlavor = "mbedtls"
)

// Config describes a board's socket table.
type Config struct {
	// Stack is the board's gVisor stack (IPv4, TCP and UDP registered). The
	// table sets its TIME_WAIT duration and send-buffer range.
	Stack *stack.Stack
	// NIC is the board's station interface.
	NIC tcpip.NICID
	// Link is that interface's frame hooks (a *netstack.NIC): through it
	// the board's TCP looks like lwIP 1.4's on the wire (24-byte SYNs,
	// delayed ACKs; lwiplink.go). Nil leaves gVisor's frames as they are.
	Link Link
	// Clock is the world's clock.
	Clock *vclock.Clock
	// Actor is the board's actor; blocking calls park it.
	Actor Actor
	// Resolver answers getaddrinfo; nil makes every name lookup fail with
	// OSError(-2) (numeric addresses still work).
	Resolver Resolver
	// MaxTCPPCBs is how many TCP PCBs fit in the heap (socket() fails with
	// ENOMEM beyond); 0 means DefaultMaxTCPPCBs, negative means unlimited.
	MaxTCPPCBs int
	// MaxActiveTCP is the SDK's MEMP_NUM_TCP_PCB: a SYN to a listener is
	// dropped while exactly this many connections are active; 0 means 5,
	// negative means no cap.
	MaxActiveTCP int
	// TimeWait is how long a closed connection stays in TIME_WAIT; 0 means
	// 120 s.
	TimeWait time.Duration
	// KeepTimeWait makes TIME_WAIT PCBs hold their slot until 2·MSL has
	// passed, so a pool full of them refuses new sockets with ENOMEM. By
	// default a TIME_WAIT PCB occupies a slot but, as lwIP's tcp_alloc does
	// (tcp_kill_timewait), the oldest one is killed when a new PCB is
	// needed and no other slot is free.
	KeepTimeWait bool
	// SendBuffer is lwIP's TCP_SND_BUF: the most one send() accepts; 0 means
	// 2920.
	SendBuffer int
	// CloseAbort is how long after close() an unfinished close is aborted;
	// 0 means 10 s.
	CloseAbort time.Duration
	// TLS picks the TLS module flavour; empty means axTLS (the ESP8266).
	TLS TLSFlavor
	// Rand feeds TLS; nil means crypto/rand. Pass a seeded reader for
	// reproducible captures.
	Rand io.Reader
	// ChargeCPU, if set, is told the CPU time the board's C code spends
	// where the simulator works in Go: axTLS's RSA operations and key
	// derivation (axtls_cost.go). Called on the board's goroutine.
	ChargeCPU func(time.Duration)
	// Trace, if set, receives one line per socket call, e.g.
	// "socket.connect(('93.184.216.34', 80))".
	Trace func(call string)
}

// lwIP-model socket states (modlwip's STATE_*); negative values are lwIP
// errors.
const (
	stNew        = 0
	stListening  = 1
	stConnecting = 2
	stConnected  = 3
	stPeerClosed = 4
	stActiveUDP  = 5
)

type sockKind int

const (
	kindTCP sockKind = iota
	kindUDP
	kindTLS
)

// sock is one script-visible socket object.
type sock struct {
	fd   int
	kind sockKind
	// ep is the gVisor endpoint; nil once the lwIP PCB is gone (error or
	// close).
	ep tcpip.Endpoint
	wq *waiter.Queue
	// state is modlwip's state, or a negative lwipErr.
	state int
	// timeout: <0 blocking forever, 0 non-blocking, >0 settimeout.
	timeout time.Duration
	local   tcpip.FullAddress
	remote  tcpip.FullAddress
	// connErr is the error a failed connection left, reported by
	// Snapshot.
	bytesIn, bytesOut uint64
	created           time.Duration
	// tls is set for kindTLS sockets.
	tls *tlsSock
	// raw marks a SOCK_RAW socket (kindUDP: datagrams).
	raw bool
	// synGiveUp is when a connect still in SYN_SENT is given up (see
	// SynGiveUp); unreach is set when gVisor already gave up because the
	// address could not be reached, which lwIP never notices.
	synGiveUp time.Duration
	unreach   bool
	// recvOff is modlwip's recv_offset: bytes of the current pbuf already
	// read (see Repr).
	recvOff int
	// udpq holds received datagrams (UDP and raw sockets): modlwip's
	// LWIP_INCOMING_PACKET_QUEUE_LEN slots; see udpqueue.go.
	udpq *dgramQueue
	// backlog holds a listening socket's completed connections (see
	// backlog.go).
	backlog *backlog
}

// orphan is a TCP connection the script closed that the stack still holds
// (FIN_WAIT, CLOSING, LAST_ACK, TIME_WAIT): it keeps its PCB slot.
type orphan struct {
	ep                tcpip.Endpoint
	local, remote     tcpip.FullAddress
	bytesIn, bytesOut uint64
	closedAt          time.Duration
}

// Table is one board's sockets.
type Table struct {
	cfg     Config
	maxPCBs int

	mu sync.Mutex
	// Guarded by mu.
	socks   map[int]*sock
	orphans []*orphan
	tx      txQueue // the radio's datagram queue (txqueue.go)
	nextFD  int
	stats   Stats
	// closed keeps the timeout of sockets the script closed whose Python
	// object lives on, for their repr.
	closed map[int]time.Duration
	// drain takes completed connections out of gVisor for the listeners.
	drain *drainer

	// wire shapes the board's frames on Config.Link (nil without one);
	// unhook removes its hooks.
	wire   *wire
	unhook func()
}

// Stats counts what happened in a table.
type Stats struct {
	// Created counts sockets created; Closed those closed by the script.
	Created, Closed int
	// PCBExhausted counts socket() calls refused with ENOMEM.
	PCBExhausted int
	// AcceptDeferred counts accept() waits because the PCB pool was full.
	AcceptDeferred int
	// Aborted counts closes aborted after CloseAbort.
	Aborted int
	// TimeWaitRecycled counts TIME_WAIT PCBs killed to make room.
	TimeWaitRecycled int
	// SynDropped counts SYNs to a listener dropped at the active-connection
	// cap (MaxActiveTCP).
	SynDropped int
	// BacklogResets counts connections reset because the listener's
	// listen(backlog) slots were full.
	BacklogResets int
}

// New returns a board's socket table and configures the stack for lwIP's
// TIME_WAIT and send-buffer sizes.
func New(cfg Config) (*Table, error) {
	if cfg.Stack == nil {
		return nil, errors.New("sockets: Config.Stack is nil: give the board's gVisor stack")
	}
	if cfg.Clock == nil {
		return nil, errors.New("sockets: Config.Clock is nil: give the world's clock")
	}
	if cfg.Actor == nil {
		return nil, errors.New("sockets: Config.Actor is nil: give the board's clock actor")
	}
	if cfg.MaxTCPPCBs == 0 {
		cfg.MaxTCPPCBs = DefaultMaxTCPPCBs
	}
	if cfg.MaxActiveTCP == 0 {
		cfg.MaxActiveTCP = DefaultMaxActiveTCP
	}
	if cfg.TimeWait <= 0 {
		cfg.TimeWait = DefaultTimeWait
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = DefaultSendBuffer
	}
	if cfg.CloseAbort <= 0 {
		cfg.CloseAbort = DefaultCloseAbort
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSAxTLS
	}
	if cfg.TLS != TLSAxTLS && cfg.TLS != TLSMbedTLS {
		return nil, fmt.Errorf("sockets: unknown TLS flavour %q: use %q or %q", cfg.TLS, TLSAxTLS, TLSMbedTLS)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	tw := tcpip.TCPTimeWaitTimeoutOption(cfg.TimeWait)
	if tcpipErr := cfg.Stack.SetTransportProtocolOption(tcp.ProtocolNumber, &tw); tcpipErr != nil {
		return nil, fmt.Errorf("sockets: setting TIME_WAIT to %v: %s", cfg.TimeWait, tcpipErr)
	}
	var sb tcpip.TCPSendBufferSizeRangeOption
	if tcpipErr := cfg.Stack.TransportProtocolOption(tcp.ProtocolNumber, &sb); tcpipErr == nil && cfg.SendBuffer < sb.Min {
		sb.Min = cfg.SendBuffer
		if tcpipErr := cfg.Stack.SetTransportProtocolOption(tcp.ProtocolNumber, &sb); tcpipErr != nil {
			return nil, fmt.Errorf("sockets: setting the send buffer range: %s", tcpipErr)
		}
	}
	if err := configureBoardTCP(cfg.Stack); err != nil {
		return nil, err
	}
	t := &Table{cfg: cfg, maxPCBs: cfg.MaxTCPPCBs, socks: map[int]*sock{}, nextFD: 3}
	installInputFilter(cfg.Stack, t)
	if cfg.Link != nil {
		t.wire = newWire(cfg.Clock, cfg.Link.SendFrame)
		t.unhook = cfg.Link.SetFrameHooks(t.wire.outbound, t.wire.inbound)
	}
	return t, nil
}

// TLSFlavor reports the TLS module flavour the board imitates.
func (t *Table) TLSFlavor() TLSFlavor { return t.cfg.TLS }

func (t *Table) trace(format string, args ...any) {
	if t.cfg.Trace != nil {
		t.cfg.Trace(fmt.Sprintf(format, args...))
	}
}

func (t *Table) now() time.Duration { return t.cfg.Clock.Elapsed() }

func (t *Table) get(fd int) (*sock, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.socks[fd]
	if !ok {
		return nil, oserr(EBADF)
	}
	return s, nil
}

// activePCBsLocked counts the TCP PCBs lwIP would have allocated: sockets
// that hold one (not listening, not failed) and orphans not yet CLOSED. It
// drops orphans that have finished.
func (t *Table) activePCBsLocked() int {
	n := 0
	for _, s := range t.socks {
		if s.kind == kindTCP && s.ep != nil && s.state != stListening {
			n++
		}
	}
	n += t.pendingCountLocked()
	kept := t.orphans[:0]
	for _, o := range t.orphans {
		st := tcp.EndpointState(o.ep.State())
		if st == tcp.StateClose || st == tcp.StateError {
			continue
		}
		kept = append(kept, o)
		n++
	}
	for i := len(kept); i < len(t.orphans); i++ {
		t.orphans[i] = nil
	}
	t.orphans = kept
	return n
}

func (t *Table) poolFullLocked() bool {
	return t.maxPCBs > 0 && t.activePCBsLocked() >= t.maxPCBs
}

// oldestTimeWaitLocked is the TIME_WAIT PCB lwIP's tcp_kill_timewait would
// pick (the longest in TIME_WAIT), or -1; -1 too when Config.KeepTimeWait.
func (t *Table) oldestTimeWaitLocked() int {
	if t.cfg.KeepTimeWait {
		return -1
	}
	for i, o := range t.orphans {
		if tcp.EndpointState(o.ep.State()) == tcp.StateTimeWait {
			return i
		}
	}
	return -1
}

// canAllocLocked reports whether a new PCB could be had, counting TIME_WAIT
// PCBs that would be recycled.
func (t *Table) canAllocLocked() bool {
	return !t.poolFullLocked() || t.oldestTimeWaitLocked() >= 0
}

// allocPCBLocked makes room for a new PCB as lwIP's tcp_alloc does: when
// the pool is full it kills the oldest TIME_WAIT PCB. It reports false when
// every PCB is in use.
func (t *Table) allocPCBLocked() bool {
	if !t.poolFullLocked() {
		return true
	}
	i := t.oldestTimeWaitLocked()
	if i < 0 {
		return false
	}
	o := t.orphans[i]
	o.ep.Abort()
	t.orphans = append(t.orphans[:i], t.orphans[i+1:]...)
	t.stats.TimeWaitRecycled++
	return true
}

// ActivePCBs reports how many TCP PCBs are in use (including TIME_WAIT).
func (t *Table) ActivePCBs() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.activePCBsLocked()
}

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Socket creates a socket: socket.socket(af, type, proto).
func (t *Table) Socket(af, typ, proto int) (int, error) {
	var (
		s  = &sock{wq: &waiter.Queue{}, timeout: -1, created: t.now()}
		tp tcpip.TransportProtocolNumber
	)
	switch typ {
	case SockStream:
		s.kind, s.state, tp = kindTCP, stNew, tcp.ProtocolNumber
	case SockDgram:
		s.kind, s.state, tp = kindUDP, stActiveUDP, udp.ProtocolNumber
	case SockRaw:
		// lwIP raw PCBs (MICROPY_PY_LWIP_SOCK_RAW): datagrams of one IP
		// protocol, received with their IP header. modlwip leaves them in
		// STATE_NEW.
		s.kind, s.state, s.raw = kindUDP, stNew, true
	default:
		t.trace("socket.socket(%d, %d, %d) -> OSError(%d)", af, typ, proto, EINVAL)
		return 0, oserr(EINVAL)
	}
	t.mu.Lock()
	if s.kind == kindTCP && !t.allocPCBLocked() {
		t.stats.PCBExhausted++
		t.mu.Unlock()
		t.trace("socket.socket(%d, %d, %d) -> OSError(%d) PCB pool full", af, typ, proto, ENOMEM)
		return 0, oserr(ENOMEM)
	}
	t.mu.Unlock()
	var (
		ep       tcpip.Endpoint
		tcpipErr tcpip.Error
	)
	if s.raw {
		// A raw socket sees datagrams no UDP endpoint is bound for: the
		// NIC must stop dropping unheard broadcasts (netstack rxfilter.go).
		if d, ok := t.cfg.Link.(interface{ DropUnheardBroadcasts(bool) }); ok {
			d.DropUnheardBroadcasts(false)
		}
		ep, tcpipErr = t.cfg.Stack.NewRawEndpoint(tcpip.TransportProtocolNumber(proto), ipv4.ProtocolNumber, s.wq, true)
		if tcpipErr != nil {
			// raw_new failed (the stack has no raw sockets): modlwip
			// raises ENOMEM.
			t.trace("socket.socket(AF_INET, SOCK_RAW, %d) -> OSError(%d): %s", proto, ENOMEM, tcpipErr)
			return 0, oserr(ENOMEM)
		}
	} else {
		ep, tcpipErr = t.cfg.Stack.NewEndpoint(tp, ipv4.ProtocolNumber, s.wq)
		if tcpipErr != nil {
			return 0, oserr(lwipFromTCPIP(tcpipErr, false).errno())
		}
	}
	s.ep = ep
	ops := ep.SocketOptions()
	if s.kind == kindTCP {
		ops.SetReceiveBufferSize(2*TCPWindow, true) // gVisor advertises half its buffer
		ops.SetSendBufferSize(int64(t.cfg.SendBuffer), true)
		ops.SetDelayOption(true) // lwIP runs Nagle unless TCP_NODELAY
	} else {
		ops.SetBroadcast(true) // lwIP sends broadcasts without SO_BROADCAST
		s.udpq = newDgramQueue(ep, s.wq)
	}
	t.mu.Lock()
	s.fd = t.nextFD
	t.nextFD++
	t.socks[s.fd] = s
	t.stats.Created++
	t.mu.Unlock()
	kindName := "SOCK_STREAM"
	switch {
	case s.raw:
		kindName = "SOCK_RAW"
	case s.kind == kindUDP:
		kindName = "SOCK_DGRAM"
	}
	t.trace("socket.socket(AF_INET, %s) -> fd %d", kindName, s.fd)
	return s.fd, nil
}

// refresh brings the lwIP-model state up to date with the gVisor endpoint,
// the way lwIP's callbacks would have while the script was busy.
func (t *Table) refresh(s *sock) {
	if s.kind != kindTCP || s.ep == nil {
		return
	}
	st := tcp.EndpointState(s.ep.State())
	switch s.state {
	case stConnecting:
		switch {
		case s.synGiveUp > 0 && t.now() >= s.synGiveUp && !connectedState(st):
			// TCP_SYNMAXRTX reached: lwIP removes the PCB, ERR_ABRT.
			s.ep.Abort()
			t.fail(s, errABRT, errABRT)
		case s.unreach:
			// gVisor gave up on an unreachable address; lwIP would still
			// be retransmitting its SYN.
		case st == tcp.StateError || st == tcp.StateClose:
			last := s.ep.LastError()
			switch last.(type) {
			case *tcpip.ErrHostUnreachable, *tcpip.ErrNetworkUnreachable, *tcpip.ErrHostDown, *tcpip.ErrNoNet, *tcpip.ErrTimeout:
				// Neighbour resolution failed (no ARP answer): lwIP's
				// etharp just queues the SYN and tries again with each
				// retransmission, until SynGiveUp.
				t.mu.Lock()
				s.unreach = true
				t.mu.Unlock()
				return
			}
			t.fail(s, lwipFromTCPIP(last, true), errRST)
		case connectedState(st):
			ra, raErr := s.ep.GetRemoteAddress()
			la, laErr := s.ep.GetLocalAddress()
			t.mu.Lock()
			s.state = stConnected
			if raErr == nil {
				s.remote = ra
			}
			if laErr == nil {
				s.local = la
			}
			if peerFinished(st) {
				s.state = stPeerClosed
			}
			t.mu.Unlock()
		}
	case stConnected, stPeerClosed:
		switch {
		case st == tcp.StateError || st == tcp.StateClose:
			last := s.ep.LastError() // reading it clears it: once
			e := lwipFromTCPIP(last, false)
			if _, abortedByPeer := last.(*tcpip.ErrAborted); abortedByPeer && s.state == stPeerClosed {
				// A RST in CLOSE_WAIT: gVisor follows Linux (EPIPE,
				// ErrAborted), lwIP's tcp_process reports ERR_RST.
				e = errRST
			}
			t.fail(s, e, errCLSD)
		case s.state == stConnected && peerFinished(st):
			t.setState(s, stPeerClosed)
		}
	}
}

// connectedState reports whether the handshake has completed.
func connectedState(st tcp.EndpointState) bool {
	switch st {
	case tcp.StateEstablished, tcp.StateFinWait1, tcp.StateFinWait2, tcp.StateTimeWait,
		tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing:
		return true
	}
	return false
}

// setState changes a socket's lwIP-model state (Snapshot reads it from
// other goroutines).
func (t *Table) setState(s *sock, st int) {
	t.mu.Lock()
	s.state = st
	t.mu.Unlock()
}

// peerFinished reports whether the peer's FIN has arrived.
func peerFinished(st tcp.EndpointState) bool {
	switch st {
	case tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing, tcp.StateTimeWait:
		return true
	}
	return false
}

// fail is lwIP's error callback: the PCB is gone, queued data with it.
func (t *Table) fail(s *sock, e, fallback lwipErr) {
	if e == errOK {
		e = fallback
	}
	t.mu.Lock()
	s.ep.Close()
	s.ep = nil
	s.state = int(e)
	t.mu.Unlock()
	t.trace("socket fd %d: %s", s.fd, errName(e.errno()))
}

// checkConnected is modlwip's lwip_socket_check_connected: a socket without
// a PCB raises its pending error once, then EBADF.
func (t *Table) checkConnected(s *sock) error {
	if s.ep != nil || s.kind == kindTLS {
		return nil
	}
	errno := lwipErr(s.state).errno()
	if s.state >= 0 {
		errno = EBADF
	}
	t.setState(s, int(errBADF))
	return oserr(errno)
}

// SetTimeout is settimeout(): d < 0 blocks forever, 0 is non-blocking.
func (t *Table) SetTimeout(fd int, d time.Duration) error {
	s, err := t.get(fd)
	if err != nil {
		return err
	}
	t.mu.Lock()
	s.timeout = d
	if s.kind == kindTLS && s.tls.under != nil {
		s.tls.under.timeout = d
	}
	t.mu.Unlock()
	return nil
}

// Timeout reports a socket's timeout (-1 blocking).
func (t *Table) Timeout(fd int) (time.Duration, error) {
	s, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	return s.timeout, nil
}

func parseAddr(host string, port int) (tcpip.FullAddress, error) {
	if port < 0 || port > 0xffff {
		return tcpip.FullAddress{}, &OSError{Value: true, Msg: "invalid arguments"}
	}
	if host == "" {
		return tcpip.FullAddress{Port: uint16(port)}, nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() {
		// modlwip: ipaddr_aton fails -> ValueError("invalid arguments")
		return tcpip.FullAddress{}, &OSError{Value: true, Msg: "invalid arguments"}
	}
	fa := tcpip.FullAddress{Port: uint16(port)}
	if !a.IsUnspecified() {
		fa.Addr = tcpip.AddrFrom4(a.As4())
	}
	return fa, nil
}

func addrString(fa tcpip.FullAddress) string {
	if fa.Addr.Len() == 0 {
		return "0.0.0.0"
	}
	return fa.Addr.String()
}

func addrPort(fa tcpip.FullAddress) netip.AddrPort {
	if fa.Addr.Len() != 4 {
		return netip.AddrPortFrom(netip.IPv4Unspecified(), fa.Port)
	}
	return netip.AddrPortFrom(netip.AddrFrom4(fa.Addr.As4()), fa.Port)
}

// Bind is bind((host, port)).
func (t *Table) Bind(fd int, host string, port int) error {
	s, err := t.get(fd)
	if err != nil {
		return err
	}
	fa, err := parseAddr(host, port)
	if err != nil {
		return err
	}
	if s.ep == nil || s.kind == kindTLS {
		// tcp_bind on a NULL pcb would crash the board.
		return oserr(EBADF)
	}
	if s.raw {
		// modlwip's bind handles TCP and UDP only: ERR_ARG.
		return oserr(errARG.errno())
	}
	if !s.raw && t.portInUse(s, fa) {
		// lwIP 1.4's tcp_bind with SO_REUSE 0 walks every PCB list, TIME_WAIT
		// included, and refuses a port another PCB holds: ERR_USE; udp_bind
		// does the same over the UDP PCBs. SO_REUSEADDR changes nothing.
		t.trace("socket.bind(('%s', %d)) -> OSError(%d)", host, port, EADDRINUSE)
		return oserr(EADDRINUSE)
	}
	// lwIP 1.4's tcp_bind and udp_bind never check that the address is one
	// of the board's: bind(('127.0.0.1', 80)) or a foreign address
	// succeeds. gVisor refuses an address no NIC has, so such a socket is
	// bound to the port on every address and remembers what the script
	// asked for.
	asked := fa
	tcpipErr := s.ep.Bind(fa)
	if _, ok := tcpipErr.(*tcpip.ErrBadLocalAddress); ok {
		tcpipErr = s.ep.Bind(tcpip.FullAddress{Port: fa.Port})
		if tcpipErr == nil && s.udpq != nil {
			s.udpq.bindOnly(fa.Addr)
		}
	}
	if tcpipErr != nil {
		e := lwipFromTCPIP(tcpipErr, false)
		t.trace("socket.bind(('%s', %d)) -> OSError(%d)", host, port, e.errno())
		return oserr(e.errno())
	}
	if la, tcpipErr := s.ep.GetLocalAddress(); tcpipErr == nil {
		if asked.Addr.Len() != 0 {
			la.Addr = asked.Addr
		}
		t.mu.Lock()
		s.local = la
		t.mu.Unlock()
	}
	t.trace("socket.bind(('%s', %d))", host, port)
	return nil
}

// portInUse reports whether another PCB of the board of the same protocol
// (for TCP: open, closing or in TIME_WAIT) holds fa's port on an
// overlapping address, as lwIP 1.4's tcp_bind and udp_bind check with
// SO_REUSE 0. Port 0 (any) never clashes.
func (t *Table) portInUse(self *sock, fa tcpip.FullAddress) bool {
	if fa.Port == 0 {
		return false
	}
	clash := func(local tcpip.FullAddress) bool {
		return local.Port == fa.Port && (fa.Addr.Len() == 0 || local.Addr.Len() == 0 || local.Addr == fa.Addr)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.activePCBsLocked()
	for _, s := range t.socks {
		if s != self && s.kind == self.kind && !s.raw && s.ep != nil && clash(s.local) {
			return true
		}
	}
	if self.kind != kindTCP {
		return false
	}
	for _, o := range t.orphans {
		if clash(o.local) {
			return true
		}
	}
	return false
}

// Listen is listen(backlog); backlog < 0 means the default.
func (t *Table) Listen(fd, backlog int, hasBacklog bool) error {
	s, err := t.get(fd)
	if err != nil {
		return err
	}
	if !hasBacklog {
		backlog = DefaultListenBacklog
	}
	if backlog < 0 {
		backlog = 0
	}
	if s.ep == nil {
		return oserr(EBADF)
	}
	if s.kind != kindTCP {
		return oserr(EOPNOTSUPP)
	}
	if backlog < 1 {
		backlog = 1
	}
	// gVisor's accept queue must never be what limits the board: see
	// gvisorListenQueue.
	if tcpipErr := s.ep.Listen(gvisorListenQueue); tcpipErr != nil {
		e := lwipFromTCPIP(tcpipErr, false)
		t.trace("socket.listen(%d) -> OSError(%d)", backlog, e.errno())
		return oserr(e.errno())
	}
	t.mu.Lock()
	if la, tcpipErr := s.ep.GetLocalAddress(); tcpipErr == nil {
		if s.local.Addr.Len() != 0 {
			la.Addr = s.local.Addr // what bind asked for, maybe none of ours
		}
		s.local = la
	}
	s.state = stListening
	t.mu.Unlock()
	t.listenSlots(s, backlog)
	t.trace("socket.listen(%d) on port %d", backlog, s.local.Port)
	return nil
}

// deadline converts a socket timeout into an absolute simulator time; ok is
// false for "wait forever".
func (t *Table) deadline(timeout time.Duration, strict bool) (time.Duration, bool) {
	if timeout < 0 {
		return 0, false
	}
	d := t.now() + timeout
	if strict && timeout > 0 {
		// modlwip's recv/send loops test "elapsed > timeout" on a 1 ms tick.
		d += time.Millisecond
	}
	return d, true
}

// waitSet is a set of waiter registrations held for the whole of a blocking
// call: entries are registered before the first readiness check, so an event
// between a check and the park is never lost (a Wake before Park is
// remembered by the actor).
type waitSet struct {
	t       *Table
	qs      []*waiter.Queue
	entries []waiter.Entry
}

const waitMask = waiter.EventIn | waiter.EventOut | waiter.EventErr | waiter.EventHUp | waiter.EventRdNorm | waiter.EventWrNorm

func (t *Table) watch(qs ...*waiter.Queue) *waitSet {
	w := &waitSet{t: t, qs: qs, entries: make([]waiter.Entry, len(qs))}
	for i, q := range qs {
		w.entries[i] = waiter.NewFunctionEntry(waitMask, func(waiter.EventMask) { t.cfg.Actor.Wake() })
		q.EventRegister(&w.entries[i])
	}
	return w
}

func (w *waitSet) done() {
	for i, q := range w.qs {
		q.EventUnregister(&w.entries[i])
	}
	w.qs = nil
}

// wait parks the board's actor until a watched queue signals, the deadline
// passes (has=true) or ctx ends. It reports whether the deadline has passed.
func (w *waitSet) wait(ctx context.Context, deadline time.Duration, has bool) (bool, error) {
	t := w.t
	timeout := time.Duration(-1)
	if has {
		timeout = deadline - t.now()
		if timeout <= 0 {
			return true, nil
		}
	}
	// Arm the timeout before parking: vclock's Park with a timeout arms its
	// timer after the actor counts as parked, and fast mode could jump past
	// it in between.
	var tm tcpip.Timer
	if timeout >= 0 {
		tm = t.cfg.Clock.AfterFunc(timeout, t.cfg.Actor.Wake)
	}
	err := t.cfg.Actor.Park(ctx, -1)
	if tm != nil {
		tm.Stop()
	}
	if err != nil {
		return false, err
	}
	return has && t.now() >= deadline, nil
}

// Pause parks the board for d of simulator time (d > 0), waking for nothing
// else: the cost of a busy-loop poll.
func (t *Table) Pause(ctx context.Context, d time.Duration) error {
	ws := t.watch()
	defer ws.done()
	deadline := t.now() + d
	for t.now() < deadline {
		if _, err := ws.wait(ctx, deadline, true); err != nil {
			return err
		}
	}
	return nil
}

// Accept is accept(): (fd, host, port).
func (t *Table) Accept(ctx context.Context, fd int) (int, string, int, error) {
	s, err := t.get(fd)
	if err != nil {
		return 0, "", 0, err
	}
	if s.kind != kindTCP {
		return 0, "", 0, oserr(EOPNOTSUPP)
	}
	if s.ep == nil {
		return 0, "", 0, oserr(EBADF)
	}
	if s.state != stListening {
		return 0, "", 0, oserr(EINVAL)
	}
	deadline, has := t.deadline(s.timeout, false)
	deferred := false
	ws := t.watch(s.wq)
	defer ws.done()
	for {
		t.drainListeners()
		if p, ok := t.takePending(s); ok {
			return t.adopt(s, p.ep, p.wq, p.peer)
		}
		t.mu.Lock()
		full := !t.canAllocLocked()
		t.mu.Unlock()
		if full && !deferred && s.ep.Readiness(waiter.ReadableEvents)&waiter.ReadableEvents != 0 {
			deferred = true
			t.mu.Lock()
			t.stats.AcceptDeferred++
			t.mu.Unlock()
		}
		if has && t.now() >= deadline {
			if s.timeout == 0 {
				return 0, "", 0, oserr(EAGAIN)
			}
			t.trace("socket.accept() -> OSError(%d)", ETIMEDOUT)
			return 0, "", 0, oserr(ETIMEDOUT)
		}
		wait := deadline
		waitHas := has
		if full {
			// A slot frees when a TIME_WAIT ends or a connection closes;
			// lwIP's slow timer runs every 500 ms.
			next := t.now() + 500*time.Millisecond
			if !has || next < deadline {
				wait, waitHas = next, true
			}
		}
		if _, err := ws.wait(ctx, wait, waitHas); err != nil {
			return 0, "", 0, err
		}
		if s.ep == nil {
			return 0, "", 0, oserr(EBADF)
		}
	}
}

func (t *Table) adopt(ls *sock, ep tcpip.Endpoint, wq *waiter.Queue, peer tcpip.FullAddress) (int, string, int, error) {
	ns := &sock{kind: kindTCP, ep: ep, wq: wq, state: stConnected, timeout: ls.timeout, remote: peer, created: t.now()}
	if la, tcpipErr := ep.GetLocalAddress(); tcpipErr == nil {
		ns.local = la
	}
	ep.SocketOptions().SetReceiveBufferSize(2*TCPWindow, true)
	ep.SocketOptions().SetSendBufferSize(int64(t.cfg.SendBuffer), true)
	ep.SocketOptions().SetDelayOption(true)
	t.mu.Lock()
	ns.fd = t.nextFD
	t.nextFD++
	t.socks[ns.fd] = ns
	t.stats.Created++
	t.mu.Unlock()
	t.refresh(ns)
	host := addrString(peer)
	t.trace("socket.accept() -> ('%s', %d) fd %d", host, peer.Port, ns.fd)
	return ns.fd, host, int(peer.Port), nil
}

// Connect is connect((host, port)).
func (t *Table) Connect(ctx context.Context, fd int, host string, port int) error {
	s, err := t.get(fd)
	if err != nil {
		return err
	}
	if s.kind == kindTLS {
		return oserr(EALREADY)
	}
	if s.ep == nil {
		return oserr(EBADF)
	}
	fa, err := parseAddr(host, port)
	if err != nil {
		return err
	}
	t.trace("socket.connect(('%s', %d))", host, port)
	if s.kind == kindUDP {
		if tcpipErr := s.ep.Connect(fa); tcpipErr != nil {
			return oserr(lwipFromTCPIP(tcpipErr, true).errno())
		}
		t.mu.Lock()
		s.remote = fa
		t.mu.Unlock()
		return nil
	}
	t.refresh(s)
	if s.state != stNew {
		if s.state == stConnected {
			return oserr(EISCONN)
		}
		return oserr(EALREADY)
	}
	t.mu.Lock()
	s.state = stConnecting
	s.remote = fa
	t.mu.Unlock()
	ws := t.watch(s.wq)
	defer ws.done()
	tcpipErr := s.ep.Connect(fa)
	if tcpipErr != nil {
		if _, ok := tcpipErr.(*tcpip.ErrConnectStarted); !ok {
			t.setState(s, stNew)
			e := lwipFromTCPIP(tcpipErr, true)
			t.trace("socket.connect(('%s', %d)) -> OSError(%d)", host, port, e.errno())
			return oserr(e.errno())
		}
	}
	t.mu.Lock()
	if la, tcpipErr := s.ep.GetLocalAddress(); tcpipErr == nil {
		s.local = la
	}
	s.synGiveUp = t.now() + SynGiveUp
	t.mu.Unlock()
	deadline, has := t.deadline(s.timeout, false)
	for {
		t.refresh(s)
		if s.state != stConnecting {
			break
		}
		if has && t.now() >= deadline {
			if s.timeout == 0 {
				return oserr(EINPROGRESS)
			}
			t.trace("socket.connect(('%s', %d)) -> OSError(%d)", host, port, ETIMEDOUT)
			return oserr(ETIMEDOUT)
		}
		wait, waitHas := deadline, has
		if !has || s.synGiveUp < deadline {
			wait, waitHas = s.synGiveUp, true
		}
		if _, err := ws.wait(ctx, wait, waitHas); err != nil {
			return err
		}
	}
	if s.state == stConnected || s.state == stPeerClosed {
		return nil
	}
	errno := lwipErr(s.state).errno()
	t.trace("socket.connect(('%s', %d)) -> OSError(%d)", host, port, errno)
	return oserr(errno)
}

// SetSockOpt is setsockopt(level, opt, value) for integer values.
func (t *Table) SetSockOpt(fd, level, opt, val int) (warning string, err error) {
	s, err := t.get(fd)
	if err != nil {
		return "", err
	}
	if s.kind == kindTLS {
		s = s.tls.under
	}
	if s.ep == nil {
		// lwIP would dereference a NULL pcb; the board resets. Report EBADF.
		return "", oserr(EBADF)
	}
	ops := s.ep.SocketOptions()
	switch opt {
	case SoReuseAddr:
		ops.SetReuseAddress(val != 0)
	case SoBroadcast:
		ops.SetBroadcast(val != 0)
	case TCPNoDelay:
		ops.SetDelayOption(val == 0)
	case SoCallback:
		// Callbacks are handled in Python; nothing to do here.
	default:
		return "Warning: lwip.setsockopt() not implemented\n", nil
	}
	return "", nil
}

// Membership is setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP/IP_DROP_MEMBERSHIP,
// mreq): mreq is the group address then the interface address (4 bytes
// each), as on the board.
func (t *Table) Membership(fd int, join bool, mreq []byte) error {
	s, err := t.get(fd)
	if err != nil {
		return err
	}
	if len(mreq) != 8 {
		return &OSError{Value: true}
	}
	if s.ep == nil || s.kind != kindUDP {
		// igmp_joingroup works on the interface, whatever the socket;
		// only a UDP endpoint can receive the group's datagrams here.
		return oserr(lwipErr(errVAL).errno())
	}
	opt := tcpip.MembershipOption{
		NIC:           t.cfg.NIC,
		MulticastAddr: tcpip.AddrFrom4([4]byte(mreq[0:4])),
	}
	if iface := [4]byte(mreq[4:8]); iface != ([4]byte{}) {
		opt.InterfaceAddr = tcpip.AddrFrom4(iface)
	}
	var tcpipErr tcpip.Error
	if join {
		o := tcpip.AddMembershipOption(opt)
		tcpipErr = s.ep.SetSockOpt(&o)
	} else {
		o := tcpip.RemoveMembershipOption(opt)
		tcpipErr = s.ep.SetSockOpt(&o)
	}
	if tcpipErr != nil {
		return oserr(lwipFromTCPIP(tcpipErr, false).errno())
	}
	t.trace("socket.setsockopt(IP_%s_MEMBERSHIP, %s)", map[bool]string{true: "ADD", false: "DROP"}[join], opt.MulticastAddr)
	return nil
}

// Close is close(): the socket becomes unusable; a TCP connection closes
// gracefully and keeps its PCB until the stack is done with it.
func (t *Table) Close(fd int) error {
	t.mu.Lock()
	s, ok := t.socks[fd]
	if ok {
		delete(t.socks, fd)
		t.stats.Closed++
	}
	t.mu.Unlock()
	if !ok {
		return nil
	}
	switch s.kind {
	case kindTLS:
		s.tls.close()
		if s.tls.under != nil {
			return t.Close(s.tls.under.fd)
		}
		return nil
	case kindUDP:
		if s.udpq != nil {
			s.udpq.close()
		}
		if s.ep != nil {
			s.ep.Close()
		}
	case kindTCP:
		if s.ep == nil {
			break
		}
		ep := s.ep
		listening := s.state == stListening
		if listening {
			t.closeSlots(s)
		}
		// lwIP aborts a close that has not finished after CloseAbort; in
		// gVisor the FIN_WAIT_2 timeout is the linger option.
		linger := tcpip.TCPLingerTimeoutOption(t.cfg.CloseAbort)
		ep.SetSockOpt(&linger)
		ep.Close()
		if !listening && s.state != stNew {
			t.mu.Lock()
			t.orphans = append(t.orphans, &orphan{ep: ep, local: s.local, remote: s.remote, bytesIn: s.bytesIn, bytesOut: s.bytesOut, closedAt: t.now()})
			t.mu.Unlock()
			t.cfg.Clock.AfterFunc(t.cfg.CloseAbort, func() {
				st := tcp.EndpointState(ep.State())
				if st == tcp.StateTimeWait || st == tcp.StateClose || st == tcp.StateError {
					return
				}
				t.mu.Lock()
				t.stats.Aborted++
				t.mu.Unlock()
				// Abort takes endpoint locks; keep the clock goroutine free.
				go func() {
					ep.Abort()
					t.cfg.Clock.Poke()
				}()
			})
		}
	}
	t.mu.Lock()
	s.ep = nil
	s.state = int(errBADF)
	t.mu.Unlock()
	t.trace("socket.close() fd %d", fd)
	return nil
}

// CloseOpen closes every open socket as close() would (graceful FIN, the
// PCB kept until the stack is done): what the firmware's finalisers do at a
// soft reset.
func (t *Table) CloseOpen() {
	t.mu.Lock()
	fds := make([]int, 0, len(t.socks))
	for fd, s := range t.socks {
		if s.kind == kindTLS {
			fds = append([]int{fd}, fds...)
		} else {
			fds = append(fds, fd)
		}
	}
	t.mu.Unlock()
	for _, fd := range fds {
		t.Close(fd)
	}
}

// PowerOff is what a hard reset does to lwIP: the chip restarts and every
// PCB is gone, TIME_WAIT included, without a word on the wire (the peers
// learn of it when they next send). The table is closed afterwards.
func (t *Table) PowerOff() {
	if t.wire != nil {
		t.wire.silence()
	}
	t.CloseAll()
}

// CloseAll aborts every socket and connection (the board is going away).
func (t *Table) CloseAll() {
	t.mu.Lock()
	var all []*sock
	for _, s := range t.socks {
		all = append(all, s)
	}
	t.socks = map[int]*sock{}
	orphans := t.orphans
	t.orphans = nil
	t.mu.Unlock()
	t.stopDrainer()
	for _, s := range all {
		if s.backlog != nil {
			t.closeSlots(s)
		}
		if s.kind == kindTLS {
			s.tls.close()
		}
		if s.udpq != nil {
			s.udpq.close()
		}
		if s.ep != nil {
			s.ep.Abort()
		}
	}
	for _, o := range orphans {
		o.ep.Abort()
	}
	if t.wire != nil {
		t.wire.close()
		t.unhook()
	}
}

// SocketInfo is one row of the socket table.
type SocketInfo struct {
	// FD is the script's socket handle; 0 for connections the script has
	// closed that still hold a PCB.
	FD int
	// Proto is "TCP", "UDP" or "TLS".
	Proto string
	// State is the TCP state in lwIP's names (LISTEN, SYN_SENT, ESTABLISHED,
	// FIN_WAIT_1, ..., TIME_WAIT, CLOSED), "ACTIVE" for UDP, or the
	// pending error ("ECONNRESET") of a failed socket.
	State  string
	Local  netip.AddrPort
	Remote netip.AddrPort
	// BytesIn and BytesOut count payload bytes the script received and sent.
	BytesIn, BytesOut uint64
	// Closed marks connections the script closed (orphans).
	Closed bool
	// PCB reports whether the row occupies a slot of the TCP PCB pool.
	PCB bool
	// Timeout is the socket's timeout (-1 blocking, 0 non-blocking).
	Timeout time.Duration
}

var tcpStateNames = map[tcp.EndpointState]string{
	tcp.StateEstablished: "ESTABLISHED",
	tcp.StateSynSent:     "SYN_SENT",
	tcp.StateSynRecv:     "SYN_RCVD",
	tcp.StateFinWait1:    "FIN_WAIT_1",
	tcp.StateFinWait2:    "FIN_WAIT_2",
	tcp.StateTimeWait:    "TIME_WAIT",
	tcp.StateClose:       "CLOSED",
	tcp.StateCloseWait:   "CLOSE_WAIT",
	tcp.StateLastAck:     "LAST_ACK",
	tcp.StateListen:      "LISTEN",
	tcp.StateClosing:     "CLOSING",
	tcp.StateInitial:     "CLOSED",
	tcp.StateBound:       "CLOSED",
	tcp.StateConnecting:  "SYN_SENT",
	tcp.StateError:       "CLOSED",
}

func stateName(ep tcpip.Endpoint) string {
	if n, ok := tcpStateNames[tcp.EndpointState(ep.State())]; ok {
		return n
	}
	return "CLOSED"
}

// Snapshot returns the table: open sockets by fd, then closed connections
// still holding a PCB.
func (t *Table) Snapshot() []SocketInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.activePCBsLocked()
	var out []SocketInfo
	for _, s := range t.socks {
		in := SocketInfo{FD: s.fd, Local: addrPort(s.local), Remote: addrPort(s.remote), BytesIn: s.bytesIn, BytesOut: s.bytesOut, Timeout: s.timeout}
		switch s.kind {
		case kindUDP:
			in.Proto, in.State = "UDP", "ACTIVE"
			if s.raw {
				in.Proto = "RAW"
			}
		case kindTLS:
			in.Proto, in.State = "TLS", "ESTABLISHED"
			if s.tls.under != nil {
				in.Local, in.Remote = addrPort(s.tls.under.local), addrPort(s.tls.under.remote)
			}
		default:
			in.Proto = "TCP"
			if s.ep != nil {
				in.State = stateName(s.ep)
				in.PCB = s.state != stListening
			} else {
				in.State = errName(lwipErr(s.state).errno())
			}
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FD < out[j].FD })
	for _, o := range t.orphans {
		out = append(out, SocketInfo{Proto: "TCP", State: stateName(o.ep), Local: addrPort(o.local), Remote: addrPort(o.remote), BytesIn: o.bytesIn, BytesOut: o.bytesOut, Closed: true, PCB: true, Timeout: -1})
	}
	// Connections waiting in a listener's slots are active PCBs too.
	for _, s := range t.socks {
		if s.backlog == nil {
			continue
		}
		for _, p := range s.backlog.q {
			in := SocketInfo{Proto: "TCP", State: stateName(p.ep), Local: addrPort(s.local), Remote: addrPort(p.peer), PCB: true, Timeout: -1}
			if la, tcpipErr := p.ep.GetLocalAddress(); tcpipErr == nil {
				in.Local = addrPort(la)
			}
			out = append(out, in)
		}
	}
	return out
}

// PrintPCBs writes the PCB lists the way lwIP's tcp_debug_print_pcbs does
// (socket.print_pcbs()). lwIP prints absolute sequence numbers; the
// simulator prints relative ones (1 + payload bytes), as Wireshark does.
func (t *Table) PrintPCBs(w io.Writer) {
	rows := t.Snapshot()
	line := func(r SocketInfo) {
		fmt.Fprintf(w, "Local port %d, foreign port %d snd_nxt %d rcv_nxt %d State: %s\n",
			r.Local.Port(), r.Remote.Port(), r.BytesOut+1, r.BytesIn+1, r.State)
	}
	fmt.Fprint(w, "Active PCB states:\n")
	for _, r := range rows {
		if r.Proto == "TCP" && r.PCB && r.State != "TIME_WAIT" && r.State != "CLOSED" && r.State != "LISTEN" {
			line(r)
		}
	}
	fmt.Fprint(w, "Listen PCB states:\n")
	for _, r := range rows {
		if r.Proto == "TCP" && r.State == "LISTEN" {
			fmt.Fprintf(w, "Local port %d, foreign port 0 snd_nxt 0 rcv_nxt 0 State: LISTEN\n", r.Local.Port())
		}
	}
	fmt.Fprint(w, "TIME-WAIT PCB states:\n")
	for _, r := range rows {
		if r.Proto == "TCP" && r.State == "TIME_WAIT" {
			line(r)
		}
	}
}

var errnoNames = map[int]string{
	EPERM: "EPERM", ENOENT: "ENOENT", EIO: "EIO", EBADF: "EBADF", EAGAIN: "EAGAIN",
	ENOMEM: "ENOMEM", EINVAL: "EINVAL", EOPNOTSUPP: "EOPNOTSUPP", EADDRINUSE: "EADDRINUSE",
	ECONNABORTED: "ECONNABORTED", ECONNRESET: "ECONNRESET", ENOBUFS: "ENOBUFS",
	EISCONN: "EISCONN", ENOTCONN: "ENOTCONN", ETIMEDOUT: "ETIMEDOUT",
	EHOSTUNREACH: "EHOSTUNREACH", EALREADY: "EALREADY", EINPROGRESS: "EINPROGRESS",
}

func errName(errno int) string {
	if n, ok := errnoNames[errno]; ok {
		return n
	}
	return fmt.Sprintf("errno %d", errno)
}

// Repr is the socket's repr as lwip_socket_print writes it:
// <socket state=S timeout=T incoming=I off=O>. The timeout is modlwip's
// mp_uint_t milliseconds (blocking, -1, prints as 4294967295 on the 32-bit
// board); a TCP socket's incoming is the pointer of its first received pbuf
// (0 when none; the simulator prints a fixed heap-like address), a UDP or
// raw socket's is how many datagrams wait. ok is false for an unknown fd.
func (t *Table) Repr(fd int) (string, bool) {
	s, err := t.get(fd)
	if err != nil {
		return "", false
	}
	if s.kind == kindTLS {
		return "", false
	}
	t.refresh(s)
	t.mu.Lock()
	state, timeout, off := s.state, s.timeout, s.recvOff
	t.mu.Unlock()
	r := reprOf(state, timeout, t.incomingOf(s), off)
	if s.kind == kindUDP {
		// Datagram sockets print the queue count and no offset.
		r = r[:strings.LastIndex(r, " off=")] + ">"
	}
	return r, true
}

// ClosedRepr is the repr of a socket after close(): modlwip sets state to
// _ERR_BADF and has freed what was queued.
func ClosedRepr(timeout time.Duration) string {
	return reprOf(int(errBADF), timeout, "0", 0)
}

func reprOf(state int, timeout time.Duration, incoming string, off int) string {
	ms := uint32(0xffffffff) // (mp_uint_t)-1
	if timeout >= 0 {
		ms = uint32(timeout / time.Millisecond)
	}
	return fmt.Sprintf("<socket state=%d timeout=%d incoming=%s off=%d>", state, ms, incoming, off)
}

func (t *Table) incomingOf(s *sock) string {
	if s.kind == kindUDP {
		if s.udpq == nil {
			return "0"
		}
		s.udpq.mu.Lock()
		defer s.udpq.mu.Unlock()
		return fmt.Sprint(len(s.udpq.q))
	}
	if s.ep == nil || s.state == stListening {
		return "0"
	}
	if n, tcpipErr := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); tcpipErr == nil && n > 0 {
		return "3fff2e40" // a pbuf lives in the SDK heap, 0x3fffxxxx
	}
	return "0"
}

// CloseKeepRepr is Close for the script's close(): the socket's repr stays
// available (state=-16) until forget, the finaliser's close.
func (t *Table) CloseKeepRepr(fd int, forget bool) error {
	t.mu.Lock()
	if s, ok := t.socks[fd]; ok && !forget {
		if t.closed == nil {
			t.closed = map[int]time.Duration{}
		}
		t.closed[fd] = s.timeout
	}
	if forget {
		delete(t.closed, fd)
	}
	t.mu.Unlock()
	return t.Close(fd)
}

// ReprOrClosed is Repr, or the repr of a closed socket.
func (t *Table) ReprOrClosed(fd int) string {
	if r, ok := t.Repr(fd); ok {
		return r
	}
	t.mu.Lock()
	timeout, ok := t.closed[fd]
	t.mu.Unlock()
	if !ok {
		timeout = -1
	}
	return ClosedRepr(timeout)
}
