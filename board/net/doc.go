// Package net is the board's network stack seen from Python: "what does the
// network stack do?". It serves the host modules behind network.WLAN
// (network.go), socket and select (socket.go, with the lwIP-shaped socket
// table of board/sockets), TLS streams (tls_stream.go) and ESP-NOW
// (espnow.go), and defines the small interfaces sim wires a board to its
// radio and internet with (WLAN, SocketEnv, ESPNowRadio, through
// Config.Env).
//
// It knows the board only as a hostabi.Host: board imports net, never the
// reverse. Importers that also use the standard library's net name it
// boardnet.
package net
