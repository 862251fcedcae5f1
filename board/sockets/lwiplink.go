package sockets

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Link is the board's network interface as the wire shaping needs it: a
// *netstack.NIC. Frame hooks see what the board's gVisor stack sends and
// receives, after gVisor has done its own bookkeeping, so the frames can be
// made to look like lwIP 1.4's on the medium (see lwipwire.go).
type Link interface {
	// SetFrameHooks installs out (given each frame the stack sends; returns
	// what leaves now, nil for nothing) and in (sees each frame the stack
	// receives); the result removes them.
	SetFrameHooks(out func(frame []byte) []byte, in func(frame []byte)) (remove func())
	// SendFrame sends a copy of a frame out held back.
	SendFrame(frame []byte)
}

// lwIP 1.4's timers as esp-open-lwip sets them (include/lwip/tcp_impl.h):
// TCP_TMR_INTERVAL 125 ms; tcp_tmr runs tcp_fasttmr on every tick
// (TCP_FAST_INTERVAL = TCP_TMR_INTERVAL) and tcp_slowtmr on every other
// (TCP_SLOW_INTERVAL = 2·TCP_TMR_INTERVAL, 250 ms).
const (
	tcpFastInterval = 125 * time.Millisecond
	tcpSlowInterval = 2 * tcpFastInterval
)

// maxShapedFlows bounds the connections whose ACK state the link keeps.
// lwIP holds far fewer PCBs (MEMP_NUM_TCP_PCB is 5); past the bound the
// oldest flow's state is dropped and its ACKs pass unchanged.
const maxShapedFlows = 32

// maxSegsPerAck bounds the segments a flow remembers between two ACKs of
// the board; gVisor acknowledges far sooner (TCP_WND is four segments).
const maxSegsPerAck = 64

// wire shapes the board's TCP frames on the link:
//
//   - SYN and SYN-ACK leave with the MSS option only (a 24-byte header, as
//     lwIP's tcp_enqueue_flags builds it): gVisor's other options are cut
//     out and the packet shrinks. Cutting at the link, after gVisor's
//     connection tracking saw the original, leaves the stack's bookkeeping
//     alone; the peer answers a SYN without timestamps or window scaling,
//     so gVisor uses neither (RFC 7323), and incoming SYNs have them
//     blanked before the stack reads them (lwipInput), so its SYN-ACK
//     offers MSS only.
//   - Delayed ACK as tcp_in.c does it. Each in-sequence data segment runs
//     the tcp_ack macro: if TF_ACK_DELAY is set, the ACK goes at once
//     (TF_ACK_NOW), else TF_ACK_DELAY is set and tcp_fasttmr sends the ACK
//     on the next 125 ms tick. gVisor acknowledges every batch at once, so
//     a pure ACK that only advances the acknowledgement after a single
//     data segment is held until the next fast tick; a later frame of the
//     connection that carries the same or a newer ACK (the next ACK, data,
//     a FIN) replaces it, as an lwIP segment sent meanwhile clears
//     TF_ACK_DELAY. Everything else leaves at once, as in lwIP:
//     acknowledgements after a second segment, of a SYN or FIN
//     (tcp_ack_now), duplicate ACKs for out-of-order or old data
//     (tcp_send_empty_ack), window updates and keepalives (no new
//     acknowledgement). So a held ACK is never held past one tick and can
//     not stall a connection.
//
// lwIP's tick runs while it has active or TIME_WAIT PCBs, from the first
// tcp_connect or accepted SYN (tcp_timer_needed); here the tick grid is
// anchored at the board's first SYN, sent or received, and kept.
type wire struct {
	clock *vclock.Clock
	send  func([]byte)

	mu sync.Mutex
	// Guarded by mu.
	anchor   time.Duration
	anchored bool
	flows    map[flowKey]*flow
	order    []flowKey // flows by creation, for eviction
	closed   bool
	// silent drops the board's TCP frames (silence).
	silent bool
}

// flowKey names a connection: the board's address and port, then the
// peer's.
type flowKey struct{ local, remote [6]byte }

// flow is one connection's ACK state, lwIP's TF_ACK_DELAY in effect.
type flow struct {
	// acked is set once the board sent a segment with ACK; lastAck is
	// the acknowledgement it carried.
	acked   bool
	lastAck uint32
	// ends are where the data segments received since the last ACK the
	// board sent end (sequence plus length), in arrival order; now is set
	// when one of them asks for an immediate ACK (SYN, FIN: tcp_ack_now).
	ends []uint32
	now  bool
	// delay is lwIP's TF_ACK_DELAY: an odd segment is unacknowledged.
	delay bool
	// right is the window's right edge the board last announced (ACK
	// plus window; rcv_ann_right_edge).
	right uint32
	// held is a pure ACK waiting for the fast tick; heldAck its ACK.
	held    []byte
	heldAck uint32
	timer   tcpip.Timer
	// fin records a FIN each way; the flow is forgotten once both went
	// and nothing is held.
	finIn, finOut bool
}

func newWire(clock *vclock.Clock, send func([]byte)) *wire {
	return &wire{clock: clock, send: send, flows: map[flowKey]*flow{}}
}

// tcpFrame is a parsed Ethernet/IPv4/TCP frame.
type tcpFrame struct {
	ip      header.IPv4
	tcp     header.TCP
	payload int
}

// parseTCPFrame finds the IPv4 and TCP headers of an Ethernet frame.
func parseTCPFrame(b []byte) (tcpFrame, bool) {
	if len(b) < header.EthernetMinimumSize+header.IPv4MinimumSize+header.TCPMinimumSize {
		return tcpFrame{}, false
	}
	if header.Ethernet(b).Type() != header.IPv4ProtocolNumber {
		return tcpFrame{}, false
	}
	ip := header.IPv4(b[header.EthernetMinimumSize:])
	ihl := int(ip.HeaderLength())
	total := int(ip.TotalLength())
	if ihl < header.IPv4MinimumSize || total < ihl+header.TCPMinimumSize || total > len(ip) ||
		ip.TransportProtocol() != header.TCPProtocolNumber || ip.FragmentOffset() != 0 || ip.More() {
		return tcpFrame{}, false
	}
	th := header.TCP(ip[ihl:total])
	off := int(th.DataOffset())
	if off < header.TCPMinimumSize || off > len(th) {
		return tcpFrame{}, false
	}
	return tcpFrame{ip: ip[:total], tcp: th, payload: len(th) - off}, true
}

func (f tcpFrame) key(outbound bool) flowKey {
	var src, dst [6]byte
	copy(src[:4], f.ip[12:16])
	binary.BigEndian.PutUint16(src[4:], f.tcp.SourcePort())
	copy(dst[:4], f.ip[16:20])
	binary.BigEndian.PutUint16(dst[4:], f.tcp.DestinationPort())
	if outbound {
		return flowKey{local: src, remote: dst}
	}
	return flowKey{local: dst, remote: src}
}

// outbound is the out frame hook.
func (w *wire) outbound(b []byte) []byte {
	f, ok := parseTCPFrame(b)
	if !ok {
		return b
	}
	flags := f.tcp.Flags()
	if flags.Contains(header.TCPFlagSyn) {
		if n := shrinkSyn(f); n > 0 {
			b = b[:header.EthernetMinimumSize+n]
		}
	}
	w.mu.Lock()
	if w.silent {
		w.mu.Unlock()
		return nil
	}
	out, early := w.outboundLocked(f, flags, b)
	w.mu.Unlock()
	for _, e := range early {
		w.send(e)
	}
	return out
}

// outboundLocked decides what of frame b (parsed as f) leaves now: the
// frame or nil, after the ACKs lwIP would have sent before it (early).
func (w *wire) outboundLocked(f tcpFrame, flags header.TCPFlags, b []byte) (out []byte, early [][]byte) {
	if w.closed {
		return b, nil
	}
	k := f.key(true)
	fl := w.flows[k]
	switch {
	case flags.Contains(header.TCPFlagRst):
		w.forgetLocked(k)
		return b, nil
	case flags.Contains(header.TCPFlagSyn):
		fl = w.startLocked(k)
	case fl == nil:
		return b, nil
	}
	if !flags.Contains(header.TCPFlagAck) {
		return b, nil
	}
	ack := f.tcp.AckNumber()
	pure := f.payload == 0 && !flags.Intersects(header.TCPFlagSyn|header.TCPFlagFin)
	if pure && fl.acked && seqAfter(ack, fl.lastAck) {
		// Run tcp_ack for each data segment this ACK covers, in arrival
		// order: with TF_ACK_DELAY set a segment is acknowledged at once
		// (an early ACK up to it), else it sets TF_ACK_DELAY.
		var points []uint32
		for _, e := range fl.ends {
			if !seqAfter(e, fl.lastAck) || seqAfter(e, ack) {
				continue
			}
			if fl.delay {
				points = append(points, e)
			}
			fl.delay = !fl.delay
		}
		fl.ends = fl.ends[:0]
		if fl.delay && !fl.now && !w.windowOpensLocked(fl, f) {
			for _, p := range points {
				early = append(early, ackFrame(b, f, p))
			}
			if len(points) > 0 {
				// The early ACKs supersede an older held one and keep
				// f's right edge.
				w.dropHeldLocked(fl)
				fl.lastAck = points[len(points)-1]
				fl.right = ack + uint32(f.tcp.WindowSize())
			}
			fl.held = append(fl.held[:0], b...)
			fl.heldAck = ack
			if fl.timer == nil {
				var tm tcpip.Timer
				// tick takes mu before reading tm, so it sees the
				// assignment.
				tm = w.clock.AfterFunc(w.untilTickLocked(), func() { w.tick(k, fl, tm) })
				fl.timer = tm
			}
			return nil, early
		}
		for _, p := range points {
			if seqAfter(ack, p) {
				early = append(early, ackFrame(b, f, p))
			}
		}
	}
	if fl.held != nil && !seqAfter(fl.heldAck, ack) {
		w.dropHeldLocked(fl)
	}
	fl.acked, fl.lastAck, fl.now, fl.delay = true, ack, false, false
	fl.right = ack + uint32(f.tcp.WindowSize())
	fl.ends = fl.ends[:0]
	if flags.Contains(header.TCPFlagFin) {
		fl.finOut = true
	}
	if fl.finIn && fl.finOut && fl.held == nil {
		w.forgetLocked(k)
	}
	return b, early
}

// windowOpensLocked reports whether f announces a window whose right edge
// is at least TCP_WND_UPDATE_THRESHOLD (TCP_WND/4) beyond the last one
// announced: tcp_recved sends such an update at once (tcp_ack_now).
func (w *wire) windowOpensLocked(fl *flow, f tcpFrame) bool {
	right := f.tcp.AckNumber() + uint32(f.tcp.WindowSize())
	return !seqAfter(fl.right+TCPWindow/4, right)
}

// ackFrame is a copy of the pure ACK b (parsed as f) acknowledging only up
// to ack: the window keeps its right edge, as it was when lwIP sent it.
func ackFrame(b []byte, f tcpFrame, ack uint32) []byte {
	c := append([]byte(nil), b...)
	g, _ := parseTCPFrame(c)
	wnd := uint32(f.tcp.WindowSize()) + (f.tcp.AckNumber() - ack)
	if wnd > 0xffff {
		wnd = 0xffff
	}
	g.tcp.SetAckNumber(ack)
	g.tcp.SetWindowSize(uint16(wnd))
	g.tcp.SetChecksum(0)
	sum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, g.ip.SourceAddress(), g.ip.DestinationAddress(), uint16(len(g.tcp)))
	g.tcp.SetChecksum(^checksum.Checksum(g.tcp, sum))
	return c
}

// inbound is the in frame hook: it counts what the board receives.
func (w *wire) inbound(b []byte) {
	f, ok := parseTCPFrame(b)
	if !ok {
		return
	}
	flags := f.tcp.Flags()
	k := f.key(false)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	fl := w.flows[k]
	switch {
	case flags.Contains(header.TCPFlagRst):
		w.forgetLocked(k)
		return
	case fl == nil && flags.Contains(header.TCPFlagSyn) && !flags.Contains(header.TCPFlagAck):
		fl = w.startLocked(k)
	case fl == nil:
		return
	}
	if flags.Intersects(header.TCPFlagSyn | header.TCPFlagFin) {
		fl.now = true
	}
	if flags.Contains(header.TCPFlagFin) {
		fl.finIn = true
	}
	if f.payload > 0 && len(fl.ends) < maxSegsPerAck {
		fl.ends = append(fl.ends, f.tcp.SequenceNumber()+uint32(f.payload))
	}
}

// tick is tcp_fasttmr for one flow: its held ACK leaves.
func (w *wire) tick(k flowKey, fl *flow, tm tcpip.Timer) {
	w.mu.Lock()
	if fl.timer != tm {
		// Stopped too late: a newer timer owns the flow now.
		w.mu.Unlock()
		return
	}
	fl.timer = nil
	held := fl.held
	if held == nil || w.closed {
		w.mu.Unlock()
		return
	}
	fl.held = nil
	fl.acked, fl.lastAck, fl.now, fl.delay = true, fl.heldAck, false, false
	if g, ok := parseTCPFrame(held); ok {
		fl.right = fl.heldAck + uint32(g.tcp.WindowSize())
	}
	fl.ends = fl.ends[:0]
	if fl.finIn && fl.finOut && w.flows[k] == fl {
		w.forgetLocked(k)
	}
	w.mu.Unlock()
	w.send(held)
}

// startLocked begins (or restarts, for a retransmitted SYN) a flow's state.
func (w *wire) startLocked(k flowKey) *flow {
	if !w.anchored {
		w.anchor, w.anchored = w.clock.Elapsed(), true
	}
	if fl := w.flows[k]; fl != nil {
		return fl
	}
	if len(w.order) >= maxShapedFlows {
		w.forgetLocked(w.order[0])
	}
	fl := &flow{}
	w.flows[k] = fl
	w.order = append(w.order, k)
	return fl
}

// forgetLocked drops a flow's state; a held ACK still leaves on its tick.
func (w *wire) forgetLocked(k flowKey) {
	if _, ok := w.flows[k]; !ok {
		return
	}
	delete(w.flows, k)
	for i, o := range w.order {
		if o == k {
			w.order = append(w.order[:i], w.order[i+1:]...)
			break
		}
	}
}

func (w *wire) dropHeldLocked(fl *flow) {
	fl.held = nil
	if fl.timer != nil {
		fl.timer.Stop()
		fl.timer = nil
	}
}

// untilTickLocked is the time to the next fast tick, strictly ahead.
func (w *wire) untilTickLocked() time.Duration {
	since := w.clock.Elapsed() - w.anchor
	return tcpFastInterval - since%tcpFastInterval
}

// silence makes the link drop every TCP frame the board sends from now on
// (a hard reset: the resets gVisor sends as its connections are aborted
// never leave a board whose chip restarted).
func (w *wire) silence() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.silent = true
}

// close stops every timer and drops held ACKs: the board is going away.
func (w *wire) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for _, fl := range w.flows {
		w.dropHeldLocked(fl)
	}
	w.flows, w.order = map[flowKey]*flow{}, nil
}

// seqAfter reports a > b in sequence space.
func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }

// shrinkSyn cuts every option but MSS out of a SYN or SYN-ACK, in place:
// the TCP header becomes 24 bytes (20 without an MSS option), any payload
// moves up, the IP total length and both checksums are redone. It returns
// the packet's new length, or 0 if it changed nothing.
func shrinkSyn(f tcpFrame) int {
	th := f.tcp
	opts := th.Options()
	var mss []byte
	if !eachTCPOption(opts, func(i, n int) {
		if opts[i] == header.TCPOptionMSS && n == header.TCPOptionMSSLength {
			mss = opts[i : i+n]
		}
	}) {
		return 0
	}
	newOff := header.TCPMinimumSize + len(mss)
	oldOff := int(th.DataOffset())
	if newOff == oldOff {
		return 0
	}
	var kept [header.TCPOptionMSSLength]byte
	copy(kept[:], mss)
	copy(th[header.TCPMinimumSize:], kept[:len(mss)])
	copy(th[newOff:], th[oldOff:])
	th = th[:len(th)-(oldOff-newOff)]
	th[header.TCPDataOffset] = byte(newOff/4)<<4 | th[header.TCPDataOffset]&0x0f

	ip := f.ip
	total := int(ip.HeaderLength()) + len(th)
	ip.SetTotalLength(uint16(total))
	ip.SetChecksum(0)
	ip.SetChecksum(^ip.CalculateChecksum())

	th.SetChecksum(0)
	sum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(th)))
	th.SetChecksum(^checksum.Checksum(th, sum))
	return total
}
