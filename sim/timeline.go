package sim

import (
	"fmt"
	"io"
	"sync"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// scheduleFaults puts the fault timeline on the clock. Each event runs on
// the clock's goroutine at its time; reversible ones with a duration are
// undone after it.
func (w *World) scheduleFaults() error {
	for i, f := range w.sc.Faults {
		do, undo, err := w.faultActions(f)
		if err != nil {
			return fmt.Errorf("faults[%d] (%s): %w", i, f.Kind, err)
		}
		desc := fmt.Sprintf("fault: %s %s", f.Kind, f.Target)
		w.clock.AfterFunc(f.At.D(), func() {
			w.trace.Add(w.clock.Elapsed(), "sim", desc)
			do()
		})
		if f.For > 0 && undo != nil {
			w.clock.AfterFunc(f.At.D()+f.For.D(), func() {
				w.trace.Add(w.clock.Elapsed(), "sim", desc+" ends")
				undo()
			})
		}
	}
	return nil
}

// faultActions returns what a fault does and how it is undone (nil when it
// cannot be).
func (w *World) faultActions(f scenario.Fault) (do, undo func(), err error) {
	ap := func() (*apNode, error) {
		a := w.apByName[f.Target]
		if a == nil {
			return nil, fmt.Errorf("unknown access point %q", f.Target)
		}
		return a, nil
	}
	boards := func() ([]*boardNode, error) {
		names, ok := w.sc.InstancesOf(f.Target)
		if !ok {
			return nil, fmt.Errorf("unknown board %q", f.Target)
		}
		var out []*boardNode
		for _, n := range names {
			out = append(out, w.byName[n])
		}
		return out, nil
	}
	switch f.Kind {
	case scenario.APDown, scenario.APUp:
		a, err := ap()
		if err != nil {
			return nil, nil, err
		}
		down := f.Kind == scenario.APDown
		return func() { a.ap.SetDown(down) }, func() { a.ap.SetDown(!down) }, nil
	case scenario.Deauth:
		bs, err := boards()
		if err != nil {
			return nil, nil, err
		}
		return func() {
			for _, bn := range bs {
				if cur, ok := bn.station.AccessPoint(); ok && (f.AP == "" || cur.Name() == f.AP) {
					cur.Deauth(bn.inst.Name, 3)
				}
			}
		}, nil, nil
	case scenario.RSSIChange:
		bs, err := boards()
		if err != nil {
			return nil, nil, err
		}
		return func() {
			for _, a := range w.aps {
				if f.AP != "" && a.cfg.Name != f.AP {
					continue
				}
				for _, bn := range bs {
					a.ap.SetRSSI(bn.inst.Name, f.RSSI)
				}
			}
		}, nil, nil
	case scenario.DHCPSilent, scenario.DHCPNak:
		a, err := ap()
		if err != nil {
			return nil, nil, err
		}
		if a.dhcp == nil {
			return nil, nil, fmt.Errorf("access point %q has DHCP disabled", f.Target)
		}
		if f.Kind == scenario.DHCPSilent {
			return func() { a.dhcp.SetSilent(true) }, func() { a.dhcp.SetSilent(false) }, nil
		}
		return func() { a.dhcp.SetNAK(true) }, func() { a.dhcp.SetNAK(false) }, nil
	case scenario.LinkChange:
		if f.Link == nil {
			return nil, nil, fmt.Errorf("no link impairment given")
		}
		imp, err := impairmentsOf(*f.Link)
		if err != nil {
			return nil, nil, err
		}
		if _, err := w.linkTargets(f.Target); err != nil {
			return nil, nil, err
		}
		return func() {
				w.setLink(f.Target, directionOf(scenario.Both), imp, f.Link.Down)
			}, func() {
				w.restoreLink(f.Target)
			}, nil
	case scenario.BoardReset:
		bs, err := boards()
		if err != nil {
			return nil, nil, err
		}
		return func() {
			for _, bn := range bs {
				if bn.board != nil {
					bn.board.Interrupt()
				}
			}
		}, nil, nil
	}
	return w.serviceFaultActions(f)
}

// linkTargets checks that a node name exists.
func (w *World) linkTargets(node string) ([]string, error) {
	if names, ok := w.sc.InstancesOf(node); ok {
		return names, nil
	}
	if _, ok := w.nics[node]; ok {
		return []string{node}, nil
	}
	return nil, fmt.Errorf("unknown node %q", node)
}

// restoreLink puts back the impairment the scenario's links give a node.
func (w *World) restoreLink(node string) {
	for _, l := range w.sc.Links {
		if l.Node == node {
			if imp, err := impairmentsOf(l.Impairment); err == nil {
				w.setLink(node, directionOf(l.Direction), imp, l.Down)
				return
			}
		}
	}
	var perfect scenario.Impairment
	imp, _ := impairmentsOf(perfect)
	w.setLink(node, directionOf(scenario.Both), imp, false)
}

// consoleInput is a board's serial input: text typed at given simulator
// times. The text reaches the board's UART in the clock callback itself
// (board.UARTWrite), so a Ctrl-C interrupts the board at exactly that
// simulator time in fast mode as in real time. As the board's Stdin it
// only marks the board interactive and ends (EOF) when the world closes.
type consoleInput struct {
	mu     sync.Mutex
	cond   *sync.Cond
	board  *board.Board
	early  []byte
	closed bool
}

func newConsoleInput() *consoleInput {
	in := &consoleInput{}
	in.cond = sync.NewCond(&in.mu)
	return in
}

// attach connects the input to its board once the board exists.
func (in *consoleInput) attach(b *board.Board) {
	in.mu.Lock()
	in.board = b
	early := in.early
	in.early = nil
	in.mu.Unlock()
	if len(early) > 0 {
		b.UARTWrite(early)
	}
}

func (in *consoleInput) type_(text string) {
	in.mu.Lock()
	b := in.board
	if b == nil {
		in.early = append(in.early, text...)
	}
	in.mu.Unlock()
	if b != nil {
		b.UARTWrite([]byte(text))
	}
}

func (in *consoleInput) Close() error {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	in.cond.Broadcast()
	return nil
}

// Read implements io.Reader: it blocks until the input is closed.
func (in *consoleInput) Read(p []byte) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for !in.closed {
		in.cond.Wait()
	}
	return 0, io.EOF
}

// scheduleConsoleInput puts the console input on the clock, one input per
// board that receives any.
func (w *World) scheduleConsoleInput() map[string]*consoleInput {
	inputs := map[string]*consoleInput{}
	for _, ci := range w.sc.ConsoleInput {
		text := ci.Text
		if ci.Line != "" {
			text = ci.Line + "\r"
		}
		names, _ := w.sc.InstancesOf(ci.Board)
		for _, n := range names {
			in := inputs[n]
			if in == nil {
				in = newConsoleInput()
				inputs[n] = in
				w.onClose(func() { in.Close() })
			}
			w.clock.AfterFunc(ci.At.D(), func() { in.type_(text) })
		}
	}
	return inputs
}
