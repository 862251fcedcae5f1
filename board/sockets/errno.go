package sockets

import (
	"errors"
	"fmt"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// MicroPython's errno values (py/mperrno.h with MICROPY_USE_INTERNAL_ERRNO,
// as both the ESP8266 port and the WebAssembly firmware build them).
const (
	EPERM        = 1
	ENOENT       = 2
	EIO          = 5
	EBADF        = 9
	EAGAIN       = 11
	ENOMEM       = 12
	EINVAL       = 22
	EOPNOTSUPP   = 95
	EADDRINUSE   = 98
	ECONNABORTED = 103
	ECONNRESET   = 104
	ENOBUFS      = 105
	EISCONN      = 106
	ENOTCONN     = 107
	ETIMEDOUT    = 110
	EHOSTUNREACH = 113
	EALREADY     = 114
	EINPROGRESS  = 115
)

// lwipErr is an lwIP err_t. The ESP8266 SDK ships esp-open-lwip, lwIP 1.4.0
// with its own numbering (include/lwip/err.h): ERR_ABRT is -8, ERR_ARG -12,
// ERR_ISCONN -15. The values are script-visible: a socket's repr prints its
// state, getaddrinfo raises OSError(ERR_ARG).
type lwipErr int

const (
	errOK         lwipErr = 0
	errMEM        lwipErr = -1
	errBUF        lwipErr = -2
	errTIMEOUT    lwipErr = -3
	errRTE        lwipErr = -4
	errINPROGRESS lwipErr = -5
	errVAL        lwipErr = -6
	errWOULDBLOCK lwipErr = -7
	errABRT       lwipErr = -8
	errRST        lwipErr = -9
	errCLSD       lwipErr = -10
	errCONN       lwipErr = -11
	errARG        lwipErr = -12
	errUSE        lwipErr = -13
	errIF         lwipErr = -14
	errISCONN     lwipErr = -15
	errBADF       lwipErr = -16 // modlwip's _ERR_BADF: closed socket (null pcb)
)

// lwipErrno is modlwip's error_lookup_table for LWIP_VERSION_MACRO
// 0x01040000 (the ESP8266's lwIP): the one place an lwIP error becomes a
// script-visible errno.
var lwipErrno = map[lwipErr]int{
	errOK:         0,
	errMEM:        ENOMEM,
	errBUF:        ENOBUFS,
	errTIMEOUT:    EAGAIN, // MP_EWOULDBLOCK
	errRTE:        EHOSTUNREACH,
	errINPROGRESS: EINPROGRESS,
	errVAL:        EINVAL,
	errWOULDBLOCK: EAGAIN,
	errABRT:       ECONNABORTED,
	errRST:        ECONNRESET,
	errCLSD:       ENOTCONN,
	errCONN:       ENOTCONN,
	errARG:        EIO,
	errUSE:        EADDRINUSE,
	errIF:         -1,
	errISCONN:     EALREADY,
	errBADF:       EBADF,
}

func (e lwipErr) errno() int {
	if n, ok := lwipErrno[e]; ok {
		return n
	}
	return EIO
}

// lwipFromTCPIP says which lwIP error the real board would have reported for
// what gVisor reported. connecting selects the meaning of routing failures:
// at connect time lwIP's tcp_connect returns ERR_RTE, later a dead path ends
// in an abort after retransmissions.
func lwipFromTCPIP(tcpipErr tcpip.Error, connecting bool) lwipErr {
	switch tcpipErr.(type) {
	case nil:
		return errOK
	case *tcpip.ErrConnectionRefused, *tcpip.ErrConnectionReset:
		return errRST
	case *tcpip.ErrConnectionAborted, *tcpip.ErrTimeout, *tcpip.ErrAborted:
		return errABRT
	case *tcpip.ErrHostUnreachable, *tcpip.ErrNetworkUnreachable, *tcpip.ErrHostDown, *tcpip.ErrNoNet:
		if connecting {
			return errRTE
		}
		return errABRT
	case *tcpip.ErrPortInUse, *tcpip.ErrDuplicateAddress:
		return errUSE
	case *tcpip.ErrAlreadyConnecting:
		return errISCONN
	case *tcpip.ErrAlreadyConnected:
		return errISCONN
	case *tcpip.ErrNotConnected:
		return errCONN
	case *tcpip.ErrClosedForSend, *tcpip.ErrClosedForReceive:
		return errCLSD
	case *tcpip.ErrNoBufferSpace:
		return errMEM
	case *tcpip.ErrWouldBlock:
		return errWOULDBLOCK
	case *tcpip.ErrConnectStarted:
		return errINPROGRESS
	case *tcpip.ErrBadLocalAddress, *tcpip.ErrInvalidEndpointState, *tcpip.ErrInvalidOptionValue, *tcpip.ErrAlreadyBound:
		return errVAL
	case *tcpip.ErrMessageTooLong:
		return errVAL
	default:
		return errARG
	}
}

// OSError is a script-visible failure: the host module raises
// OSError(Errno) (or OSError(Errno, Msg) when Msg is set) in the script.
// Negative Errno values are lwIP/axTLS codes the board passes through as they
// are (getaddrinfo's -2, axTLS's -256...).
type OSError struct {
	Errno int
	// Msg is the optional second argument of the OSError.
	Msg string
	// Value marks errors MicroPython raises as ValueError instead (mbedTLS
	// certificate verification failures, "invalid key").
	Value bool
}

func (e *OSError) Error() string {
	if e.Value {
		return fmt.Sprintf("ValueError: %s", e.Msg)
	}
	if e.Msg != "" {
		return fmt.Sprintf("OSError: (%d, %q)", e.Errno, e.Msg)
	}
	return fmt.Sprintf("OSError: %d", e.Errno)
}

func oserr(errno int) error { return &OSError{Errno: errno} }

// Errno extracts the errno from an error returned by the table (0 if it is
// not an OSError).
func Errno(err error) int {
	var e *OSError
	if errors.As(err, &e) {
		return e.Errno
	}
	return 0
}
