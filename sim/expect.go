package sim

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// checkState is where one expectation stands.
type checkState int

const (
	pending checkState = iota
	passed
	failed
)

// check is one expectation about one board instance (a replicated board
// gets one check per replica).
type check struct {
	desc  string
	exp   scenario.Expect
	board string
	// atEnd checks are decided when the run ends; the others as soon as the
	// console shows (or must never show) their text.
	atEnd bool
	re    *consoleRegexp

	state  checkState
	reason string
}

// checker evaluates a run's expectations as it goes.
type checker struct {
	w         *World
	onDecided func()

	mu     sync.Mutex
	checks []*check
}

func newChecker(w *World) *checker {
	c := &checker{w: w}
	for _, e := range w.sc.Expect {
		targets := []string{""}
		if e.Board != "" {
			targets, _ = w.sc.InstancesOf(e.Board)
		}
		for _, t := range targets {
			ch := &check{exp: e, board: t, desc: describe(e, t)}
			switch {
			case e.ConsoleContains != "", e.ConsoleNotContains != "":
			case e.ConsoleMatches != "":
				ch.re = newConsoleRegexp(e.ConsoleMatches)
			default:
				ch.atEnd = true
			}
			c.checks = append(c.checks, ch)
		}
	}
	for _, bn := range w.boards {
		name := bn.inst.Name
		bn.console.watch(func(text []byte, from int, at time.Duration) { c.consoleChanged(name, text, from, at) })
	}
	for _, ch := range c.checks {
		if ch.exp.PeerReceived != nil && ch.exp.Within > 0 {
			// What a host received is only known by looking: look at the
			// deadline, and decide then.
			ch := ch
			pr := ch.exp.PeerReceived
			w.clock.AfterFunc(ch.exp.Within.D(), func() {
				got := w.peerReceived(pr.Peer, pr.Port)
				c.mu.Lock()
				if ch.state == pending {
					ch.atEnd = false
					if strings.Contains(got, pr.Text) {
						ch.state, ch.reason = passed, fmt.Sprintf("received by %s", ch.exp.Within.D())
					} else {
						ch.state, ch.reason = failed, fmt.Sprintf("not received within %s; %s had received %q", ch.exp.Within.D(), pr.Peer, clip(got, 200))
					}
				}
				c.mu.Unlock()
				c.decided()
			})
			continue
		}
		if ch.atEnd || ch.exp.Within == 0 || ch.exp.ConsoleNotContains != "" {
			continue
		}
		ch := ch
		w.clock.AfterFunc(ch.exp.Within.D(), func() {
			c.mu.Lock()
			if ch.state == pending {
				ch.state = failed
				ch.reason = fmt.Sprintf("not seen within %s", ch.exp.Within.D())
			}
			c.mu.Unlock()
			c.decided()
		})
	}
	return c
}

func describe(e scenario.Expect, board string) string {
	if e.Description != "" {
		if board != "" && board != e.Board {
			return fmt.Sprintf("%s (%s)", e.Description, board)
		}
		return e.Description
	}
	on := ""
	if board != "" {
		on = board + " "
	}
	within := ""
	if e.Within > 0 {
		within = fmt.Sprintf(" within %s", e.Within.D())
	}
	switch {
	case e.ConsoleContains != "":
		return fmt.Sprintf("%sconsole shows %q%s", on, e.ConsoleContains, within)
	case e.ConsoleMatches != "":
		return fmt.Sprintf("%sconsole matches /%s/%s", on, e.ConsoleMatches, within)
	case e.ConsoleNotContains != "":
		return fmt.Sprintf("%sconsole never shows %q", on, e.ConsoleNotContains)
	case e.PeerReceived != nil:
		return fmt.Sprintf("%s received %q%s", e.PeerReceived.Peer, e.PeerReceived.Text, within)
	case e.HTTPRequested != nil, e.MQTTPublished != nil:
		return e.String()
	case e.Exit != nil:
		d := fmt.Sprintf("%sprogram ends: %s", on, e.Exit.Kind)
		if e.Exit.Type != "" {
			d += " " + e.Exit.Type
		}
		if e.Exit.Message != "" {
			d += fmt.Sprintf(" %q", e.Exit.Message)
		}
		return d
	case e.SocketsEmptyAtEnd:
		return on + "socket table empty at the end"
	case e.Capture != nil:
		c := e.Capture
		switch {
		case c.TCPHandshake != nil:
			return fmt.Sprintf("capture shows a TCP handshake %s → %s:%d%s", c.TCPHandshake.From, c.TCPHandshake.To, c.TCPHandshake.Port, within)
		case c.DHCPDORA != "":
			return fmt.Sprintf("capture shows DHCP DISCOVER/OFFER/REQUEST/ACK for %s%s", c.DHCPDORA, within)
		case c.DNSQuery != "":
			return fmt.Sprintf("capture shows a DNS query for %s%s", c.DNSQuery, within)
		}
	case e.Pin != nil, e.ResetCause != nil, e.NeoPixel != nil, e.Display != nil, e.PWM != nil:
		return on + describeHardware(e)
	case e.SimTime != nil:
		switch {
		case e.SimTime.Max == 0:
			return fmt.Sprintf("run ends after at least %s of simulated time", e.SimTime.Min.D())
		case e.SimTime.Min == 0:
			return fmt.Sprintf("run ends within %s of simulated time", e.SimTime.Max.D())
		}
		return fmt.Sprintf("run ends between %s and %s of simulated time", e.SimTime.Min.D(), e.SimTime.Max.D())
	}
	return "expectation"
}

func (c *checker) consoleChanged(board string, text []byte, from int, at time.Duration) {
	changed := false
	c.mu.Lock()
	for _, ch := range c.checks {
		if ch.state != pending || ch.atEnd || ch.board != board {
			continue
		}
		e := ch.exp
		switch {
		case e.ConsoleNotContains != "":
			if containsNew(text, from, e.ConsoleNotContains) {
				ch.state, ch.reason, changed = failed, fmt.Sprintf("shown at %s", fmtTime(at)), true
			}
		case e.ConsoleContains != "":
			if containsNew(text, from, e.ConsoleContains) {
				ch.state, ch.reason, changed = passed, fmt.Sprintf("shown at %s", fmtTime(at)), true
			}
		case ch.re != nil:
			if ch.re.matchNew(text, from) {
				ch.state, ch.reason, changed = passed, fmt.Sprintf("matched at %s", fmtTime(at)), true
			}
		}
		if changed && ch.state == passed && e.Within > 0 && at > e.Within.D() {
			ch.state, ch.reason = failed, fmt.Sprintf("shown only at %s, after %s", fmtTime(at), e.Within.D())
		}
	}
	c.mu.Unlock()
	if changed {
		c.decided()
	}
}

func (c *checker) boardEnded(*boardNode) {}

func (c *checker) decided() {
	if c.onDecided != nil {
		c.onDecided()
	}
}

// allDecided reports whether the run can stop early: an expectation has
// failed for good, or every one has passed and none waits for the end.
func (c *checker) allDecided() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.checks) == 0 {
		return false
	}
	all := true
	for _, ch := range c.checks {
		if ch.state == failed {
			return true
		}
		if ch.state == pending || ch.atEnd {
			all = false
		}
	}
	return all
}

func (c *checker) decidedReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.checks {
		if ch.state == failed {
			return fmt.Sprintf("an expectation failed: %s", ch.desc)
		}
	}
	return "every expectation was met"
}

// final decides the remaining checks at the end of the run.
func (c *checker) final(simEnd time.Duration) []ExpectResult {
	var facts *captureFacts
	var factsErr error
	if c.w.pcap != nil {
		facts, factsErr = analyzeCapture(c.w.pcap.Bytes())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ExpectResult
	for _, ch := range c.checks {
		if ch.state == pending {
			c.decideAtEnd(ch, simEnd, facts, factsErr)
		}
		out = append(out, ExpectResult{Description: ch.desc, Passed: ch.state == passed, Reason: ch.reason})
	}
	return out
}

func (c *checker) decideAtEnd(ch *check, simEnd time.Duration, facts *captureFacts, factsErr error) {
	e := ch.exp
	verdict := func(ok bool, pass, fail string) {
		if ok {
			ch.state, ch.reason = passed, pass
		} else {
			ch.state, ch.reason = failed, fail
		}
	}
	bn := c.w.byName[ch.board]
	switch {
	case e.ConsoleNotContains != "":
		verdict(true, "never shown", "")
	case e.ConsoleContains != "", e.ConsoleMatches != "":
		tail := ""
		if bn != nil {
			if t := bn.console.Tail(3); len(t) > 0 {
				tail = "; the console ended with: " + strings.Join(t, " ⏎ ")
			}
		}
		verdict(false, "", "not seen by the end of the run"+tail)
	case e.Exit != nil:
		c.checkExit(ch, bn)
	case e.SocketsEmptyAtEnd:
		lines := c.w.socketLines(bn)
		verdict(len(lines) == 0, "no sockets left", fmt.Sprintf("%d sockets left: %s", len(lines), strings.Join(lines, "; ")))
	case e.PeerReceived != nil:
		got := c.w.peerReceived(e.PeerReceived.Peer, e.PeerReceived.Port)
		verdict(strings.Contains(got, e.PeerReceived.Text), "received",
			fmt.Sprintf("%s received %q", e.PeerReceived.Peer, clip(got, 200)))
	case e.HTTPRequested != nil, e.MQTTPublished != nil:
		ok, pass, fail := c.w.checkNetlib(e)
		verdict(ok, pass, fail)
	case e.SimTime != nil:
		ok := (e.SimTime.Min == 0 || simEnd >= e.SimTime.Min.D()) && (e.SimTime.Max == 0 || simEnd <= e.SimTime.Max.D())
		verdict(ok, fmt.Sprintf("ended at %s", fmtTime(simEnd)), fmt.Sprintf("ended at %s", fmtTime(simEnd)))
	case e.Pin != nil, e.ResetCause != nil, e.NeoPixel != nil, e.Display != nil, e.PWM != nil:
		c.checkHardware(ch, bn, simEnd, verdict)
	case e.Capture != nil:
		if factsErr != nil || facts == nil {
			verdict(false, "", fmt.Sprintf("the capture could not be read: %v", factsErr))
			return
		}
		c.checkCapture(ch, facts, c.w.clockOrigin.Add(e.Within.D()), verdict)
	default:
		verdict(false, "", "unknown expectation")
	}
}

func (c *checker) checkExit(ch *check, bn *boardNode) {
	if bn == nil {
		ch.state, ch.reason = failed, "no such board"
		return
	}
	br := c.w.boardResult(bn)
	want := ch.exp.Exit
	got := br.Outcome
	ok := string(want.Kind) == got
	if ok && want.Type != "" {
		ok = br.ExceptionType == want.Type
	}
	if ok && want.Message != "" {
		ok = strings.Contains(br.Traceback, want.Message)
	}
	desc := got
	if br.ExceptionType != "" {
		desc += ": " + lastLine(br.Traceback)
	}
	if br.Message != "" {
		desc += ": " + br.Message
	}
	if ok {
		ch.state, ch.reason = passed, desc
	} else {
		ch.state, ch.reason = failed, "the program ended "+desc
	}
}

// checkCapture decides a capture expectation; with within, the exchange
// must be complete by deadline (the capture's timestamps are simulator
// time).
func (c *checker) checkCapture(ch *check, facts *captureFacts, deadline time.Time, verdict func(bool, string, string)) {
	cp := ch.exp.Capture
	within := ch.exp.Within.D()
	if within == 0 {
		deadline = time.Time{}
	}
	// late turns a verdict on an exchange seen only after the deadline
	// into a failure saying when it was seen.
	late := func(ok bool, at time.Time, pass, fail string) {
		if ok && !deadline.IsZero() && at.After(deadline) {
			verdict(false, "", fmt.Sprintf("seen only at %s, after %s", fmtTime(at.Sub(c.w.clockOrigin)), within))
			return
		}
		verdict(ok, pass, fail)
	}
	switch {
	case cp.TCPHandshake != nil:
		h := cp.TCPHandshake
		names, _ := c.w.sc.InstancesOf(h.From)
		var macs []string
		for _, n := range names {
			macs = append(macs, c.w.byName[n].mac.String())
		}
		to, ok := c.w.addressOf(h.To)
		if !ok {
			verdict(false, "", fmt.Sprintf("unknown host %q", h.To))
			return
		}
		ok, at := facts.sawHandshake(macs, to, uint16(h.Port))
		late(ok, at, "SYN, SYN-ACK, ACK seen",
			fmt.Sprintf("no completed handshake to %s:%d among %d frames", to, h.Port, facts.frames))
	case cp.DHCPDORA != "":
		names, _ := c.w.sc.InstancesOf(cp.DHCPDORA)
		ok := len(names) > 0
		var last time.Time
		for _, n := range names {
			seen, at := facts.sawDORA(c.w.byName[n].mac.String())
			ok = ok && seen
			if at.After(last) {
				last = at
			}
		}
		late(ok, last, "DISCOVER, OFFER, REQUEST, ACK seen", "the four DHCP messages were not all seen")
	case cp.DNSQuery != "":
		name := strings.ToLower(strings.TrimSuffix(cp.DNSQuery, "."))
		at, ok := facts.dnsQueries[name]
		late(ok, at, "query seen", "no query for that name")
	}
}

// addressOf resolves a host, peer or access point name, or an IPv4 literal.
func (w *World) addressOf(name string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(name); err == nil {
		return a, true
	}
	if h, ok := w.hosts[name]; ok {
		return h.ip, true
	}
	for _, h := range w.sc.InternetHosts {
		for _, alias := range h.Aliases {
			if strings.EqualFold(alias, name) {
				return w.hosts[h.Name].ip, true
			}
		}
	}
	if a, ok := w.apByName[name]; ok {
		return a.routerIP, true
	}
	return netip.Addr{}, false
}

func fmtTime(d time.Duration) string {
	return fmt.Sprintf("%.3fs", d.Seconds())
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
