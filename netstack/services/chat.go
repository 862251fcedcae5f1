package services

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// ChatStep is one step of a chat script; exactly one field is set.
type ChatStep struct {
	// Send writes this text as it is (add "\n" for a line).
	Send string
	// Expect waits until the text received since the last match contains
	// this.
	Expect string
	// Wait pauses for this long (simulated time).
	Wait time.Duration
	// Close closes the connection.
	Close bool
}

// ChatConfig describes a line-based peer, like the PC program of the
// tutorials: it listens (or connects), runs Steps on each connection and
// optionally echoes what it receives afterwards.
type ChatConfig struct {
	// Port is the port to listen on (listen mode) or to connect to.
	Port int
	// Connect, when valid, is the board address to connect to (connect
	// mode, port Port); otherwise the peer listens.
	Connect netip.Addr
	// Start is when connect mode first tries (simulated time since the
	// world began); it retries every RetryEvery until a connection is made.
	Start time.Duration
	// RetryEvery is the pause between connect attempts; 0 means 1 s.
	RetryEvery time.Duration
	// Steps run in order on each connection.
	Steps []ChatStep
	// Echo sends back everything received once the steps are done, until
	// the other side closes.
	Echo bool
	// ExpectTimeout ends a connection whose Expect step waits longer than
	// this; 0 means wait forever.
	ExpectTimeout time.Duration
}

// ChatPeer is a running chat peer; it records what happened.
type ChatPeer struct {
	h   *Host
	cfg ChatConfig

	mu sync.Mutex
	// Guarded by mu.
	received  strings.Builder
	log       []string
	conns     int
	completed int
	err       error
}

// Received is everything the peer received, over all connections.
func (p *ChatPeer) Received() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.received.String()
}

// Log is the peer's transcript: one line per step and event.
func (p *ChatPeer) Log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// Completed is the number of connections whose steps all ran.
func (p *ChatPeer) Completed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.completed
}

// Err is the last failure (an Expect that timed out, a reset…), if any.
func (p *ChatPeer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *ChatPeer) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	p.mu.Lock()
	p.log = append(p.log, line)
	p.mu.Unlock()
	p.h.trace("chat: %s", line)
}

func (p *ChatPeer) fail(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
	p.logf("error: %v", err)
}

// AddChat starts a chat peer.
func (h *Host) AddChat(cfg ChatConfig) (*ChatPeer, error) {
	if cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("services: chat port %d is not a TCP port", cfg.Port)
	}
	for i, s := range cfg.Steps {
		n := 0
		if s.Send != "" {
			n++
		}
		if s.Expect != "" {
			n++
		}
		if s.Wait != 0 {
			n++
		}
		if s.Close {
			n++
		}
		if n != 1 || s.Wait < 0 {
			return nil, fmt.Errorf("services: chat step %d must set exactly one of Send, Expect, Wait (≥ 0) and Close", i)
		}
	}
	if cfg.RetryEvery <= 0 {
		cfg.RetryEvery = time.Second
	}
	p := &ChatPeer{h: h, cfg: cfg}
	if !cfg.Connect.IsValid() {
		return p, h.addTCP(cfg.Port, "chat", p.run)
	}
	if !cfg.Connect.Is4() {
		return nil, fmt.Errorf("services: chat Connect %v is not IPv4", cfg.Connect)
	}
	actor := h.cfg.Clock.NewTurnActor(h.cfg.Name + "/chat")
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		p.dialLoop(actor)
	}()
	return p, nil
}

func (p *ChatPeer) dialLoop(actor *vclock.Actor) {
	h := p.h
	ctx := h.ctx
	if wait := p.cfg.Start - h.cfg.Clock.Elapsed(); wait > 0 {
		if actor.Sleep(ctx, wait) != nil {
			actor.Close()
			return
		}
	}
	to := netip.AddrPortFrom(p.cfg.Connect, uint16(p.cfg.Port))
	for {
		c, err := DialTCP(ctx, h.cfg.Stack, to, actor)
		if err == nil && !h.trackDialed(c, true) {
			c.Reset()
			actor.Close()
			return
		}
		if err == nil {
			defer h.trackDialed(c, false)
			p.logf("connected to %v", to)
			faults := h.faults.roll(p.cfg.Port)
			rc := &recordingConn{Conn: wrapFaults(c, faults, &h.faults), h: h, port: p.cfg.Port}
			p.run(rc)
			rc.Close()
			actor.Close()
			return
		}
		if ctx.Err() != nil {
			actor.Close()
			return
		}
		p.logf("connect to %v failed (%v); retrying in %v", to, err, p.cfg.RetryEvery)
		if actor.Sleep(ctx, p.cfg.RetryEvery) != nil {
			actor.Close()
			return
		}
	}
}

// run plays the script on one connection (on that connection's goroutine).
func (p *ChatPeer) run(c net.Conn) {
	p.mu.Lock()
	p.conns++
	p.mu.Unlock()
	var pending string // received and not yet matched
	buf := make([]byte, 2048)
	readMore := func(deadline time.Time) error {
		c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		if n > 0 {
			pending += string(buf[:n])
			if len(pending) > maxRecorded {
				// Keep the tail: an Expect can only match across the cut
				// if it is longer than this.
				pending = pending[len(pending)-maxRecorded/2:]
			}
			p.mu.Lock()
			if p.received.Len() < maxRecorded {
				p.received.Write(buf[:min(n, maxRecorded-p.received.Len())])
			}
			p.mu.Unlock()
		}
		return err
	}
	clock := p.h.cfg.Clock
	for i, s := range p.cfg.Steps {
		switch {
		case s.Send != "":
			if _, err := c.Write([]byte(s.Send)); err != nil {
				p.fail(fmt.Errorf("step %d send %q: %w", i, s.Send, err))
				return
			}
			p.logf("sent %q", s.Send)
		case s.Expect != "":
			var deadline time.Time
			if p.cfg.ExpectTimeout > 0 {
				deadline = clock.Now().Add(p.cfg.ExpectTimeout)
			}
			for !strings.Contains(pending, s.Expect) {
				if err := readMore(deadline); err != nil {
					p.fail(fmt.Errorf("step %d expect %q (received %q): %w", i, s.Expect, pending, err))
					return
				}
			}
			k := strings.Index(pending, s.Expect)
			pending = pending[k+len(s.Expect):]
			p.logf("got %q", s.Expect)
		case s.Wait > 0:
			if err := sleepConn(c, s.Wait); err != nil {
				p.fail(fmt.Errorf("step %d wait: %w", i, err))
				return
			}
		case s.Close:
			p.logf("closing")
			p.mu.Lock()
			p.completed++
			p.mu.Unlock()
			return
		}
	}
	p.mu.Lock()
	p.completed++
	p.mu.Unlock()
	if !p.cfg.Echo {
		return
	}
	c.SetReadDeadline(time.Time{})
	if pending != "" {
		if _, err := c.Write([]byte(pending)); err != nil {
			return
		}
	}
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.mu.Lock()
			if p.received.Len() < maxRecorded {
				p.received.Write(buf[:min(n, maxRecorded-p.received.Len())])
			}
			p.mu.Unlock()
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
				p.logf("peer closed")
			}
			return
		}
	}
}

// sleepConn parks the goroutine owning c for d of simulated time.
func sleepConn(c net.Conn, d time.Duration) error {
	type sleeper interface{ sleep(time.Duration) error }
	for {
		switch x := c.(type) {
		case sleeper:
			return x.sleep(d)
		case *recordingConn:
			c = x.Conn
		case *faultConn:
			return x.Conn.sleep(d)
		default:
			return errors.New("services: cannot wait on this connection")
		}
	}
}

var _ = context.Background
