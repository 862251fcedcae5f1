package net

import (
	"github.com/esp8266sim/esp8266sim/board/hostabi"
	"github.com/esp8266sim/esp8266sim/board/sockets"
)

// Sockets closed by the board's garbage collector.
//
// On the ESP8266 modlwip allocates each socket with a finaliser whose
// __del__ is close: `l = None; gc.collect()` after opening sockets frees
// their PCBs. Here a socket is an instance of board/lib/socket.py, and the
// firmware runs no __del__ of a Python class. What it does finalise are its
// proxies of host objects (objjsproxy.c allocates them with a finaliser
// that calls proxy_js_free_obj). So each socket holds one such proxy, a
// guard for its descriptor: when the collector frees the socket it frees
// the guard with it, the host hears proxy_js_free_obj for the guard's
// reference, and closes the descriptor as lwIP's finaliser would. Socket
// descriptors are never reused (Table numbers them upwards), so a guard
// firing after an explicit close() closes nothing else.

// socketGuard closes fd when the socket object holding it is collected.
type socketGuard struct {
	table *sockets.Table
	fd    int
}

// Finalise is the finaliser's close: the socket's closed repr is
// forgotten too, as nothing can ask for it any more.
func (g socketGuard) Finalise() { _ = g.table.CloseKeepRepr(g.fd, true) }

func init() {
	// guard(fd) returns the proxy a socket keeps for its descriptor.
	regSock("guard", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		return socketGuard{table: st.table, fd: fd}, nil
	})
}
