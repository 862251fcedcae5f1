package board

import (
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/board/sockets"
)

// The board's network is board/net (WLAN, sockets, TLS streams, ESP-NOW),
// reached from Python through its host modules; these are the views sim
// and the REPL take of it.

// Sockets returns the board's sockets (nil before the script opened one).
func (b *Board) Sockets() []sockets.SocketInfo { return boardnet.Sockets(b) }

// SocketStats returns the board's socket counters (net.SocketStats).
func (b *Board) SocketStats() sockets.Stats { return boardnet.SocketStats(b) }

// SocketTable returns the board's socket table, creating it if needed.
func (b *Board) SocketTable() (*sockets.Table, error) { return boardnet.SocketTable(b) }
