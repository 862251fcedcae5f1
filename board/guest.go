package board

import "github.com/esp8266sim/esp8266sim/board/hostabi"

// guest is the running firmware's memory as hostabi.Guest sees it: the
// host side of the imports (proxy.go, syscalls.go, cstack.go,
// tracehide.go) reads and writes guest memory through it, not through
// helpers of the Board's own.
func (b *Board) guest() hostabi.Guest { return hostabi.NewGuest(b.mem) }
