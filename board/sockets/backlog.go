package sockets

import (
	"context"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// listen(backlog) as modlwip and lwIP 1.4 implement it. esp-open-lwip has
// TCP_LISTEN_BACKLOG 0, so lwIP answers every SYN (up to the active cap,
// see lwipinput.go) and completes the handshake; when the final ACK arrives
// it calls modlwip's accept callback, which keeps the new PCB in one of
// max(backlog, 1) slots, or returns ERR_BUF when they are full, and lwIP
// then aborts the connection: the client's connect succeeded, then a RST.
// Closing the listener aborts the connections still queued.
//
// gVisor instead holds completed connections in its accept queue and drops
// SYNs once that is full. So the board's listener takes each connection out
// of gVisor the moment it completes (a drain run by an actor of its own,
// woken from gVisor's notification so simulated time waits for it) and
// queues or resets it as modlwip would.

// pending is a completed connection waiting in a listener's slots.
type pending struct {
	ep   tcpip.Endpoint
	wq   *waiter.Queue
	peer tcpip.FullAddress
}

// backlog is a listening socket's slots.
type backlog struct {
	size  int
	entry waiter.Entry
	// Guarded by Table.mu.
	q []pending
}

// drainer runs the listeners' drains on its own actor.
type drainer struct {
	actor  *vclock.Actor
	cancel context.CancelFunc
	done   chan struct{}
}

// listenSlots sets up s's slots after a successful listen.
func (t *Table) listenSlots(s *sock, backlogArg int) {
	size := backlogArg
	if size < 1 {
		size = 1
	}
	b := &backlog{size: size}
	b.entry = waiter.NewFunctionEntry(waiter.ReadableEvents, func(waiter.EventMask) { t.wakeDrainer() })
	t.mu.Lock()
	s.backlog = b
	if t.drain == nil {
		ctx, cancel := context.WithCancel(context.Background())
		d := &drainer{actor: t.cfg.Clock.NewTurnActor("lwip-accept"), cancel: cancel, done: make(chan struct{})}
		t.drain = d
		go t.runDrainer(ctx, d)
	}
	t.mu.Unlock()
	s.wq.EventRegister(&b.entry)
	t.wakeDrainer() // connections that completed before the entry existed
}

func (t *Table) wakeDrainer() {
	t.mu.Lock()
	d := t.drain
	t.mu.Unlock()
	if d != nil {
		d.actor.Wake()
	}
}

// runDrainer is the drain goroutine; stopDrainer ends it.
func (t *Table) runDrainer(ctx context.Context, d *drainer) {
	defer close(d.done)
	defer d.actor.Close()
	for {
		if err := d.actor.Park(ctx, -1); err != nil {
			return
		}
		if t.drainListeners() {
			t.cfg.Actor.Wake()
		}
	}
}

// stopDrainer stops the drain goroutine and waits for it.
func (t *Table) stopDrainer() {
	t.mu.Lock()
	d := t.drain
	t.drain = nil
	t.mu.Unlock()
	if d != nil {
		d.cancel()
		<-d.done
	}
}

// drainListeners moves completed connections from gVisor into the
// listeners' slots, resetting those that find them full. It reports whether
// anything was queued.
func (t *Table) drainListeners() bool {
	t.mu.Lock()
	var ls []*sock
	for _, s := range t.socks {
		if s.state == stListening && s.ep != nil && s.backlog != nil {
			ls = append(ls, s)
		}
	}
	t.mu.Unlock()
	queued := false
	for _, s := range ls {
		for {
			t.mu.Lock()
			full := !t.canAllocLocked()
			t.mu.Unlock()
			if full {
				// No heap for another PCB: leave it with gVisor (see
				// Accept's deferral).
				break
			}
			var peer tcpip.FullAddress
			nep, nwq, tcpipErr := s.ep.Accept(&peer)
			if tcpipErr != nil {
				break
			}
			t.mu.Lock()
			if s.backlog == nil {
				// The listener closed since the list was taken (a close or
				// the collector's finaliser): lwIP aborts what it held.
				t.mu.Unlock()
				nep.Abort()
				break
			}
			ok := len(s.backlog.q) < s.backlog.size
			if ok {
				t.allocPCBLocked()
				s.backlog.q = append(s.backlog.q, pending{ep: nep, wq: nwq, peer: peer})
			} else {
				t.stats.BacklogResets++
			}
			t.mu.Unlock()
			if !ok {
				// The accept callback returned ERR_BUF: tcp_abort.
				nep.Abort()
				t.trace("socket.listen: no slot for %s:%d, connection reset", addrString(peer), peer.Port)
				continue
			}
			queued = true
		}
	}
	return queued
}

// takePending pops the oldest queued connection still alive (modlwip's
// error callback takes a connection the peer reset off the queue).
func (t *Table) takePending(s *sock) (pending, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for s.backlog != nil && len(s.backlog.q) > 0 {
		p := s.backlog.q[0]
		s.backlog.q[0] = pending{}
		s.backlog.q = s.backlog.q[1:]
		if st := stateName(p.ep); st == "CLOSED" {
			p.ep.Close()
			continue
		}
		return p, true
	}
	return pending{}, false
}

// hasPending reports whether a queued connection waits.
func (t *Table) hasPending(s *sock) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return s.backlog != nil && len(s.backlog.q) > 0
}

// closeSlots aborts a closing listener's queued connections
// (lwip_socket_free_incoming).
func (t *Table) closeSlots(s *sock) {
	t.mu.Lock()
	b := s.backlog
	s.backlog = nil
	var q []pending
	if b != nil {
		q = b.q
		b.q = nil
	}
	t.mu.Unlock()
	if b == nil {
		return
	}
	s.wq.EventUnregister(&b.entry)
	for _, p := range q {
		p.ep.Abort()
	}
}

// pendingCountLocked counts queued connections (they are lwIP active PCBs).
func (t *Table) pendingCountLocked() int {
	n := 0
	for _, s := range t.socks {
		if s.backlog != nil {
			n += len(s.backlog.q)
		}
	}
	return n
}
