package scenario

import (
	"fmt"
	"strconv"
)

// String describes the expectation in one line for reports, e.g.
// `esp1 console contains "Hello" within 10s`. Description wins when set.
func (e Expect) String() string {
	if e.Description != "" {
		return e.Description
	}
	within := ""
	if e.Within > 0 {
		within = " within " + e.Within.String()
	}
	if d := describeNetlib(e); d != "" {
		return d + within
	}
	board := e.Board
	if board == "" {
		board = "the board"
	}
	switch {
	case e.ConsoleContains != "":
		return fmt.Sprintf("%s console contains %s%s", board, strconv.Quote(e.ConsoleContains), within)
	case e.ConsoleMatches != "":
		return fmt.Sprintf("%s console matches /%s/%s", board, e.ConsoleMatches, within)
	case e.ConsoleNotContains != "":
		return fmt.Sprintf("%s console never shows %s", board, strconv.Quote(e.ConsoleNotContains))
	case e.PeerReceived != nil:
		p := e.PeerReceived
		port := ""
		if p.Port != 0 {
			port = fmt.Sprintf(" on port %d", p.Port)
		}
		return fmt.Sprintf("%s received %s%s%s", p.Peer, strconv.Quote(p.Text), port, within)
	case e.Exit != nil:
		switch x := e.Exit; x.Kind {
		case ExitClean:
			return board + " exits cleanly"
		case ExitRunning:
			return board + " is still running at the end"
		default:
			s := board + " ends with "
			if x.Type != "" {
				s += x.Type
			} else {
				s += "an exception"
			}
			if x.Message != "" {
				s += " " + strconv.Quote(x.Message)
			}
			return s
		}
	case e.SocketsEmptyAtEnd:
		return board + " has no sockets at the end"
	case e.Capture != nil:
		c := e.Capture
		switch {
		case c.TCPHandshake != nil:
			h := c.TCPHandshake
			return fmt.Sprintf("capture shows a TCP handshake %s → %s:%d%s", h.From, h.To, h.Port, within)
		case c.DHCPDORA != "":
			return fmt.Sprintf("capture shows DHCP DISCOVER, OFFER, REQUEST, ACK for %s%s", c.DHCPDORA, within)
		case c.DNSQuery != "":
			return fmt.Sprintf("capture shows a DNS query for %s%s", c.DNSQuery, within)
		}
	case e.SimTime != nil:
		t := e.SimTime
		switch {
		case t.Min > 0 && t.Max > 0:
			return fmt.Sprintf("run ends between %s and %s", t.Min, t.Max)
		case t.Max > 0:
			return fmt.Sprintf("run ends by %s", t.Max)
		default:
			return fmt.Sprintf("run lasts at least %s", t.Min)
		}
	}
	return "empty expectation"
}

// String describes the fault event in one line for the event log, e.g.
// "ap_down HomeNet for 5s" (without its time).
func (f Fault) String() string {
	s := string(f.Kind)
	if f.Target != "" {
		s += " " + f.Target
	}
	switch f.Kind {
	case RSSIChange:
		s += fmt.Sprintf(" to %d dBm", f.RSSI)
	case DNSFail:
		s += " " + string(f.Mode)
		if f.Name != "" {
			s += " for " + f.Name
		}
	case HostFaultOn:
		if f.HostFault != nil {
			s += " " + string(f.HostFault.Kind)
		}
	}
	if f.AP != "" {
		s += " (ap " + f.AP + ")"
	}
	if f.For > 0 {
		s += " for " + f.For.String()
	}
	return s
}
