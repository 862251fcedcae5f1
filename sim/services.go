package sim

import (
	"fmt"

	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// boardEnv is the extension configuration a board's network layers read
// (its station, its stack, its resolver).
func (w *World) boardEnv(bn *boardNode) map[any]any {
	return map[any]any{}
}

// socketLines describes a board's socket table, one line a socket.
func (w *World) socketLines(bn *boardNode) []string {
	return nil
}

// peerReceived is everything a host's services received (on port, or on
// every port when port is 0).
func (w *World) peerReceived(host string, port int) string {
	return ""
}

// serviceFaultActions handles DNS and host faults.
func (w *World) serviceFaultActions(f scenario.Fault) (do, undo func(), err error) {
	return nil, nil, fmt.Errorf("fault kind %q is not supported", f.Kind)
}
