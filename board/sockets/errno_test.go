package sockets

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
)

func TestLwipErrnoTable(t *testing.T) {
	tests := []struct {
		name       string
		tcpipErr   tcpip.Error
		connecting bool
		want       int
	}{
		{"refused connect is a reset", &tcpip.ErrConnectionRefused{}, true, ECONNRESET},
		{"reset", &tcpip.ErrConnectionReset{}, false, ECONNRESET},
		{"aborted", &tcpip.ErrConnectionAborted{}, false, ECONNABORTED},
		{"retransmissions exhausted", &tcpip.ErrTimeout{}, false, ECONNABORTED},
		{"no route at connect", &tcpip.ErrHostUnreachable{}, true, EHOSTUNREACH},
		{"path lost later", &tcpip.ErrHostUnreachable{}, false, ECONNABORTED},
		{"address in use", &tcpip.ErrPortInUse{}, false, EADDRINUSE},
		{"not connected", &tcpip.ErrNotConnected{}, false, ENOTCONN},
		{"closed for send", &tcpip.ErrClosedForSend{}, false, ENOTCONN},
		{"already connecting", &tcpip.ErrAlreadyConnecting{}, false, EALREADY},
		{"would block", &tcpip.ErrWouldBlock{}, false, EAGAIN},
		{"no buffer space", &tcpip.ErrNoBufferSpace{}, false, ENOMEM},
		{"bad local address", &tcpip.ErrBadLocalAddress{}, false, EINVAL},
		{"anything else", &tcpip.ErrNotSupported{}, false, EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lwipFromTCPIP(tt.tcpipErr, tt.connecting).errno(); got != tt.want {
				t.Errorf("lwipFromTCPIP(%T, %v).errno() = %d, want %d", tt.tcpipErr, tt.connecting, got, tt.want)
			}
		})
	}
	if got := errBADF.errno(); got != EBADF {
		t.Errorf("_ERR_BADF maps to %d, want EBADF", got)
	}
}
