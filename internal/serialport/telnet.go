package serialport

import "encoding/binary"

// Telnet (RFC 854) bytes and options used by RFC 2217.
const (
	tnSE   = 240
	tnSB   = 250
	tnWILL = 251
	tnWONT = 252
	tnDO   = 253
	tnDONT = 254
	tnIAC  = 255

	optBinary  = 0
	optEcho    = 1
	optSGA     = 3
	optComPort = 44
)

// RFC 2217 COM-PORT-OPTION commands (client to server; the server answers
// with the command plus 100).
const (
	cpSetBaudrate       = 1
	cpSetDatasize       = 2
	cpSetParity         = 3
	cpSetStopsize       = 4
	cpSetControl        = 5
	cpNotifyLinestate   = 6
	cpNotifyModemstate  = 7
	cpFlowSuspend       = 8
	cpFlowResume        = 9
	cpSetLinestateMask  = 10
	cpSetModemstateMask = 11
	cpPurgeData         = 12
	cpServerOffset      = 100
)

// SET-CONTROL values.
const (
	ctlReqDTR = 7
	ctlDTROn  = 8
	ctlDTROff = 9
	ctlReqRTS = 10
	ctlRTSOn  = 11
	ctlRTSOff = 12
)

// telnetEvent is what one parsed chunk asks of the port besides data.
type telnetEvent struct {
	// control is set when DTR or RTS changed; dtr and rts are the new
	// state.
	control  bool
	dtr, rts bool
	// purgeRX asks to drop input not yet read by the board.
	purgeRX bool
}

// telnetSession is the server side of one RFC 2217 connection: it strips
// telnet commands from the client's bytes, answers them, and tracks the
// COM port's settings. The zero value is not ready; use newTelnetSession.
type telnetSession struct {
	state  int
	cmd    byte
	sub    []byte
	baud   uint32
	size   byte
	parity byte
	stop   byte
	dtr    bool
	rts    bool
	// agreed remembers options already answered, so a repeated request
	// does not start a negotiation loop.
	agreed map[[2]byte]bool
}

const (
	tsData = iota
	tsIAC
	tsOption
	tsSub
	tsSubIAC
)

// maxSubneg bounds one subnegotiation; a longer one is garbage and dropped.
const maxSubneg = 64

func newTelnetSession() *telnetSession {
	return &telnetSession{baud: 115200, size: 8, parity: 1, stop: 1, agreed: map[[2]byte]bool{}}
}

// feed parses client bytes: data for the board, bytes to send back to the
// client, and the events they asked for.
func (t *telnetSession) feed(in []byte) (data, reply []byte, ev telnetEvent) {
	for _, c := range in {
		switch t.state {
		case tsData:
			if c == tnIAC {
				t.state = tsIAC
			} else {
				data = append(data, c)
			}
		case tsIAC:
			switch c {
			case tnIAC:
				data = append(data, tnIAC)
				t.state = tsData
			case tnWILL, tnWONT, tnDO, tnDONT:
				t.cmd = c
				t.state = tsOption
			case tnSB:
				t.sub = t.sub[:0]
				t.state = tsSub
			default:
				// NOP, break, AYT…: nothing to do for a serial port.
				t.state = tsData
			}
		case tsOption:
			reply = append(reply, t.negotiate(t.cmd, c)...)
			t.state = tsData
		case tsSub:
			if c == tnIAC {
				t.state = tsSubIAC
			} else if len(t.sub) < maxSubneg {
				t.sub = append(t.sub, c)
			}
		case tsSubIAC:
			switch c {
			case tnSE:
				r, e := t.subnegotiate(t.sub)
				reply = append(reply, r...)
				if e.control {
					ev.control, ev.dtr, ev.rts = true, e.dtr, e.rts
				}
				ev.purgeRX = ev.purgeRX || e.purgeRX
				t.state = tsData
			case tnIAC:
				if len(t.sub) < maxSubneg {
					t.sub = append(t.sub, tnIAC)
				}
				t.state = tsSub
			default:
				// A malformed subnegotiation: drop it.
				t.state = tsData
			}
		}
	}
	return data, reply, ev
}

// negotiate answers WILL/WONT/DO/DONT. The server agrees to binary
// transmission, suppress-go-ahead and the COM port option both ways, and
// to echo (the board echoes, as a terminal over a serial line expects);
// anything else is refused.
func (t *telnetSession) negotiate(cmd, opt byte) []byte {
	supported := opt == optBinary || opt == optSGA || opt == optComPort || (opt == optEcho && (cmd == tnDO || cmd == tnDONT))
	var answer byte
	switch cmd {
	case tnWILL:
		answer = tnDONT
		if supported {
			answer = tnDO
		}
	case tnDO:
		answer = tnWONT
		if supported {
			answer = tnWILL
		}
	case tnWONT:
		answer = tnDONT
	case tnDONT:
		answer = tnWONT
	}
	key := [2]byte{cmd, opt}
	if t.agreed[key] {
		return nil
	}
	t.agreed[key] = true
	// A change of mind re-opens the opposite answer.
	switch cmd {
	case tnWILL:
		delete(t.agreed, [2]byte{tnWONT, opt})
	case tnWONT:
		delete(t.agreed, [2]byte{tnWILL, opt})
	case tnDO:
		delete(t.agreed, [2]byte{tnDONT, opt})
	case tnDONT:
		delete(t.agreed, [2]byte{tnDO, opt})
	}
	return []byte{tnIAC, answer, opt}
}

// subnegotiate handles one COM-PORT-OPTION request and builds its answer.
// Line settings are accepted and echoed (the simulated UART has no baud
// rate to get wrong); a zero value is a query and answers the current
// setting.
func (t *telnetSession) subnegotiate(sub []byte) ([]byte, telnetEvent) {
	var ev telnetEvent
	if len(sub) < 2 || sub[0] != optComPort {
		return nil, ev
	}
	cmd, val := sub[1], sub[2:]
	var out []byte
	switch cmd {
	case cpSetBaudrate:
		if len(val) != 4 {
			return nil, ev
		}
		if b := binary.BigEndian.Uint32(val); b != 0 {
			t.baud = b
		}
		out = binary.BigEndian.AppendUint32(nil, t.baud)
	case cpSetDatasize, cpSetParity, cpSetStopsize:
		if len(val) != 1 {
			return nil, ev
		}
		field := map[byte]*byte{cpSetDatasize: &t.size, cpSetParity: &t.parity, cpSetStopsize: &t.stop}[cmd]
		if val[0] != 0 {
			*field = val[0]
		}
		out = []byte{*field}
	case cpSetControl:
		if len(val) != 1 {
			return nil, ev
		}
		v := val[0]
		switch v {
		case ctlDTROn, ctlDTROff:
			t.dtr = v == ctlDTROn
			ev = telnetEvent{control: true, dtr: t.dtr, rts: t.rts}
		case ctlRTSOn, ctlRTSOff:
			t.rts = v == ctlRTSOn
			ev = telnetEvent{control: true, dtr: t.dtr, rts: t.rts}
		case ctlReqDTR:
			v = ctlDTROff
			if t.dtr {
				v = ctlDTROn
			}
		case ctlReqRTS:
			v = ctlRTSOff
			if t.rts {
				v = ctlRTSOn
			}
		}
		out = []byte{v}
	case cpNotifyModemstate:
		// No modem status lines are wired on the board's adapter.
		out = []byte{0}
	case cpNotifyLinestate:
		out = []byte{0}
	case cpPurgeData:
		if len(val) != 1 {
			return nil, ev
		}
		// 1 purges the server's receive buffer, 3 both.
		ev.purgeRX = val[0] == 1 || val[0] == 3
		out = val
	case cpSetLinestateMask, cpSetModemstateMask:
		out = val
	case cpFlowSuspend, cpFlowResume:
		return nil, ev
	default:
		return nil, ev
	}
	return subneg(cmd+cpServerOffset, out), ev
}

// subneg frames a server COM-PORT-OPTION answer, escaping IAC.
func subneg(cmd byte, val []byte) []byte {
	out := []byte{tnIAC, tnSB, optComPort, cmd}
	out = append(out, escapeIAC(val)...)
	return append(out, tnIAC, tnSE)
}

// escapeIAC doubles every IAC byte of data sent in telnet mode.
func escapeIAC(p []byte) []byte {
	n := 0
	for _, c := range p {
		if c == tnIAC {
			n++
		}
	}
	if n == 0 {
		return p
	}
	out := make([]byte, 0, len(p)+n)
	for _, c := range p {
		out = append(out, c)
		if c == tnIAC {
			out = append(out, tnIAC)
		}
	}
	return out
}
