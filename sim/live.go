package sim

import (
	"fmt"
	"time"

	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// What a live view needs from a running world (run --ui): each board's
// console as it prints, and faults made to happen now.

// WatchConsoles calls f with every chunk a board prints, as it prints it,
// with the simulated time. Call before Run.
func (w *World) WatchConsoles(f func(board, text string, at time.Duration)) {
	for _, bn := range w.boards {
		name := bn.inst.Name
		bn.console.watch(func(text []byte, from int, at time.Duration) {
			if chunk := text[from:]; len(chunk) > 0 {
				f(name, string(chunk), at)
			}
		})
	}
}

// ConsoleText is what board has printed so far ("" for an unknown board).
func (w *World) ConsoleText(board string) string {
	if bn := w.byName[board]; bn != nil {
		return bn.console.Text()
	}
	return ""
}

// InjectFault makes f happen now, as if the scenario's timeline had it at
// this moment (f.At is ignored); a reversible fault with For is undone
// after it. Its trace line says it was injected.
func (w *World) InjectFault(f scenario.Fault) error {
	do, undo, err := w.faultActions(f)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Kind, err)
	}
	desc := fmt.Sprintf("fault: %s %s (injected)", f.Kind, f.Target)
	w.clock.AfterFunc(0, func() {
		w.trace.Add(w.clock.Elapsed(), "sim", desc)
		do()
	})
	if f.For > 0 && undo != nil {
		w.clock.AfterFunc(f.For.D(), func() {
			w.trace.Add(w.clock.Elapsed(), "sim", desc+" ends")
			undo()
		})
	}
	w.clock.Poke()
	return nil
}
