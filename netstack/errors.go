package netstack

import (
	"errors"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Error is a network error converted from gVisor's tcpip.Error: its text is
// gVisor's description and Errno the POSIX error it means, so callers test it
// with errors.Is(err, syscall.ECONNREFUSED) and the board maps Errno to the
// ESP8266's lwIP errno in one table.
type Error struct {
	// Errno is the POSIX meaning.
	Errno syscall.Errno
	msg   string
}

func (e *Error) Error() string { return e.msg }

// Unwrap lets errors.Is match the errno (and os.ErrDeadlineExceeded for
// timeouts through Is).
func (e *Error) Unwrap() error { return e.Errno }

// Timeout reports whether the error is a timeout (net.Error style).
func (e *Error) Timeout() bool { return e.Errno == syscall.ETIMEDOUT }

// FromTCPIP converts a tcpip.Error; nil stays nil. tcpip.Error never leaves
// this package any other way.
func FromTCPIP(tcpipErr tcpip.Error) error {
	if tcpipErr == nil {
		return nil
	}
	return &Error{Errno: errnoOf(tcpipErr), msg: tcpipErr.String()}
}

// ErrWouldBlock is returned by non-blocking operations that would block.
var ErrWouldBlock = &Error{Errno: syscall.EAGAIN, msg: "operation would block"}

// IsWouldBlock reports whether err means "try again later".
func IsWouldBlock(err error) bool { return errors.Is(err, syscall.EAGAIN) }

func errnoOf(e tcpip.Error) syscall.Errno {
	switch e.(type) {
	case *tcpip.ErrWouldBlock:
		return syscall.EAGAIN
	case *tcpip.ErrConnectStarted, *tcpip.ErrAlreadyConnecting:
		return syscall.EINPROGRESS
	case *tcpip.ErrAlreadyConnected:
		return syscall.EISCONN
	case *tcpip.ErrConnectionRefused:
		return syscall.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return syscall.ECONNRESET
	case *tcpip.ErrConnectionAborted, *tcpip.ErrAborted:
		return syscall.ECONNABORTED
	case *tcpip.ErrNotConnected, *tcpip.ErrClosedForSend, *tcpip.ErrClosedForReceive:
		return syscall.ENOTCONN
	case *tcpip.ErrTimeout:
		return syscall.ETIMEDOUT
	case *tcpip.ErrPortInUse, *tcpip.ErrAlreadyBound:
		return syscall.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return syscall.EADDRNOTAVAIL
	case *tcpip.ErrNetworkUnreachable, *tcpip.ErrNoNet:
		return syscall.ENETUNREACH
	case *tcpip.ErrHostUnreachable, *tcpip.ErrHostDown:
		return syscall.EHOSTUNREACH
	case *tcpip.ErrNoBufferSpace:
		return syscall.ENOBUFS
	case *tcpip.ErrMessageTooLong:
		return syscall.EMSGSIZE
	case *tcpip.ErrNoPortAvailable:
		return syscall.EAGAIN
	case *tcpip.ErrInvalidEndpointState:
		return syscall.EINVAL
	case *tcpip.ErrInvalidOptionValue, *tcpip.ErrBadAddress, *tcpip.ErrBadBuffer, *tcpip.ErrInvalidPortRange:
		return syscall.EINVAL
	case *tcpip.ErrDestinationRequired:
		return syscall.EDESTADDRREQ
	case *tcpip.ErrBroadcastDisabled, *tcpip.ErrNotPermitted:
		return syscall.EACCES
	case *tcpip.ErrNotSupported, *tcpip.ErrUnknownProtocol, *tcpip.ErrUnknownProtocolOption, *tcpip.ErrQueueSizeNotSupported:
		return syscall.EOPNOTSUPP
	case *tcpip.ErrAddressFamilyNotSupported:
		return syscall.EAFNOSUPPORT
	case *tcpip.ErrDuplicateAddress:
		return syscall.EADDRINUSE
	}
	return syscall.EIO
}
