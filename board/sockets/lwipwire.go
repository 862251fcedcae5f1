package sockets

import (
	"fmt"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// On the wire the board's TCP is lwIP 1.4's, as esp-open-lwip configures it
// (lwipopts.h and the SDK's defaults):
//
//   - A SYN or SYN-ACK carries the MSS option only, in a 24-byte header:
//     lwIP 1.4 has no SACK or window scaling and LWIP_TCP_TIMESTAMPS is 0.
//     gVisor always offers timestamps and window scaling in an active
//     open, so the board's outgoing SYN has them cut out on the link
//     (lwiplink.go; the peer then answers without them and both ends
//     agree), and an incoming SYN has them blanked before the board's
//     stack reads it (so its SYN-ACK carries MSS only, and neither end
//     uses them).
//   - The receive window is TCP_WND: 4·TCP_MSS. lwipopts.h reads TCP_WND,
//     TCP_MAXRTX, TCP_SYNMAXRTX and MEMP_NUM_TCP_PCB from RAM words the
//     binary SDK fills at boot (0x600011F0 and neighbours; espconn_tcp_set_*
//     change them); the values used here are the SDK's documented
//     defaults, not read from source.
//   - Retransmissions: TCP_MAXRTX 12, TCP_SYNMAXRTX 6 (SynGiveUp), first
//     RTO 1 s (tcp_alloc's 1000/TCP_SLOW_INTERVAL ticks, gVisor's too),
//     none sooner than one 250 ms slow tick (TCP_SLOW_INTERVAL, twice
//     esp-open-lwip's TCP_TMR_INTERVAL of 125 ms).
//   - Delayed ACK: an ACK after a lone in-sequence segment waits for the
//     next 125 ms fast tick, a second segment is acknowledged at once
//     (tcp_in.c's tcp_ack). gVisor acknowledges each batch at once, so the
//     link holds those ACKs back (lwiplink.go).
//
// Simulated servers keep gVisor's Linux-like TCP: only the board's stack is
// changed.

// TCPWindow is the ESP8266 SDK's TCP_WND: 4·TCP_MSS.
const TCPWindow = 4 * 1460

// tcpMaxRetries is the SDK's TCP_MAXRTX.
const tcpMaxRetries = 12

// configureBoardTCP applies lwIP's TCP options to the board's stack.
func configureBoardTCP(s *stack.Stack) error {
	sack := tcpip.TCPSACKEnabled(false)
	moderate := tcpip.TCPModerateReceiveBufferOption(false)
	retries := tcpip.TCPMaxRetriesOption(tcpMaxRetries)
	synRetries := tcpip.TCPSynRetriesOption(6)
	// tcp_slowtmr checks retransmissions every 250 ms slow tick, so none
	// fires sooner than one tick after the segment left.
	minRTO := tcpip.TCPMinRTOOption(tcpSlowInterval)
	// lwIP 1.4 recovers with three duplicate ACKs (fast retransmit) and
	// the RTO; it has no RACK or tail loss probes.
	recovery := tcpip.TCPRecovery(0)
	// Reno, as lwIP's tcp_receive grows cwnd (gVisor's default too).
	reno := tcpip.CongestionControlOption("reno")
	for _, opt := range []tcpip.SettableTransportProtocolOption{&sack, &moderate, &retries, &synRetries, &minRTO, &recovery, &reno} {
		if tcpipErr := s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); tcpipErr != nil {
			return fmt.Errorf("sockets: setting %T on the board's stack: %s", opt, tcpipErr)
		}
	}
	var rb tcpip.TCPReceiveBufferSizeRangeOption
	if tcpipErr := s.TransportProtocolOption(tcp.ProtocolNumber, &rb); tcpipErr == nil && rb.Min > 2*TCPWindow {
		rb.Min = 2 * TCPWindow
		if tcpipErr := s.SetTransportProtocolOption(tcp.ProtocolNumber, &rb); tcpipErr != nil {
			return fmt.Errorf("sockets: setting the receive buffer range: %s", tcpipErr)
		}
	}
	return nil
}

// blankSynOptions turns every option of an incoming SYN but MSS into NOPs,
// fixing the checksum (RFC 1624). The packet's bytes are the board's own
// copy of the frame. It reports whether anything changed.
func blankSynOptions(th header.TCP) bool {
	opts := th.Options()
	if len(opts)%2 != 0 {
		return false
	}
	before := checksum.Checksum(opts, 0)
	changed := false
	if !eachTCPOption(opts, func(i, n int) {
		if opts[i] != header.TCPOptionMSS {
			for j := i; j < i+n; j++ {
				opts[j] = header.TCPOptionNOP
			}
			changed = true
		}
	}) {
		// A malformed option list: what was blanked before the bad
		// option stays, and the checksum is not redone.
		return changed
	}
	if changed {
		after := checksum.Checksum(opts, 0)
		x := checksum.Combine(^th.Checksum(), ^before)
		th.SetChecksum(^checksum.Combine(x, after))
	}
	return changed
}
