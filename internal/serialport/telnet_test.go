package serialport

import (
	"bytes"
	"testing"
)

func TestTelnetSession(t *testing.T) {
	iac := func(b ...byte) []byte { return append([]byte{tnIAC}, b...) }
	sb := func(b ...byte) []byte {
		out := []byte{tnIAC, tnSB, optComPort}
		out = append(out, b...)
		return append(out, tnIAC, tnSE)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name  string
		in    []byte
		data  []byte
		reply []byte
		ev    telnetEvent
	}{
		{"plain data", []byte("1+1\r"), []byte("1+1\r"), nil, telnetEvent{}},
		{"escaped IAC is data", []byte{'a', tnIAC, tnIAC, 'b'}, []byte{'a', tnIAC, 'b'}, nil, telnetEvent{}},
		// pyserial's rfc2217 opening: DO ECHO, WILL SGA, DO SGA, WILL COM-PORT.
		{"pyserial's negotiation",
			cat(iac(tnDO, optEcho), iac(tnWILL, optSGA), iac(tnDO, optSGA), iac(tnWILL, optComPort)), nil,
			cat(iac(tnWILL, optEcho), iac(tnDO, optSGA), iac(tnWILL, optSGA), iac(tnDO, optComPort)), telnetEvent{}},
		{"unknown options refused", cat(iac(tnDO, 24), iac(tnWILL, 31)), nil, cat(iac(tnWONT, 24), iac(tnDONT, 31)), telnetEvent{}},
		{"repeated request answered once", cat(iac(tnWILL, optBinary), iac(tnWILL, optBinary)), nil, iac(tnDO, optBinary), telnetEvent{}},
		{"baud rate echoed", sb(cpSetBaudrate, 0, 1, 0xc2, 0), nil, sb(cpSetBaudrate+100, 0, 1, 0xc2, 0), telnetEvent{}},
		{"baud rate query", sb(cpSetBaudrate, 0, 0, 0, 0), nil, sb(cpSetBaudrate+100, 0, 1, 0xc2, 0), telnetEvent{}},
		{"data size", sb(cpSetDatasize, 8), nil, sb(cpSetDatasize+100, 8), telnetEvent{}},
		{"no flow control", sb(cpSetControl, 1), nil, sb(cpSetControl+100, 1), telnetEvent{}},
		{"DTR on", sb(cpSetControl, ctlDTROn), nil, sb(cpSetControl+100, ctlDTROn), telnetEvent{control: true, dtr: true}},
		{"RTS on then DTR off", cat(sb(cpSetControl, ctlRTSOn), sb(cpSetControl, ctlDTROff)), nil,
			cat(sb(cpSetControl+100, ctlRTSOn), sb(cpSetControl+100, ctlDTROff)), telnetEvent{control: true, rts: true}},
		{"purge receive buffer", sb(cpPurgeData, 1), nil, sb(cpPurgeData+100, 1), telnetEvent{purgeRX: true}},
		{"modem state poll", sb(cpNotifyModemstate), nil, sb(cpNotifyModemstate+100, 0), telnetEvent{}},
		{"data around a subnegotiation", cat([]byte("ab"), sb(cpSetDatasize, 7), []byte("cd")), []byte("abcd"), sb(cpSetDatasize+100, 7), telnetEvent{}},
		{"escaped IAC inside a value", sb(cpSetBaudrate, 0, 0, tnIAC, tnIAC, 0), nil, sb(cpSetBaudrate+100, 0, 0, tnIAC, tnIAC, 0), telnetEvent{}},
		{"malformed subnegotiation dropped", cat(iac(tnSB, optComPort, cpSetDatasize), iac('x'), []byte("ok")), []byte("ok"), nil, telnetEvent{}},
		{"other command ignored", cat(iac(241), []byte("z")), []byte("z"), nil, telnetEvent{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTelnetSession()
			data, reply, ev := ts.feed(tt.in)
			if !bytes.Equal(data, tt.data) || !bytes.Equal(reply, tt.reply) || ev != tt.ev {
				t.Errorf("feed(%v) = %v, %v, %+v; want %v, %v, %+v", tt.in, data, reply, ev, tt.data, tt.reply, tt.ev)
			}
			// Fed one byte at a time the session says the same.
			ts = newTelnetSession()
			var d2, r2 []byte
			var ev2 telnetEvent
			for _, c := range tt.in {
				d, r, e := ts.feed([]byte{c})
				d2, r2 = append(d2, d...), append(r2, r...)
				if e.control {
					ev2.control, ev2.dtr, ev2.rts = true, e.dtr, e.rts
				}
				ev2.purgeRX = ev2.purgeRX || e.purgeRX
			}
			if !bytes.Equal(d2, tt.data) || !bytes.Equal(r2, tt.reply) || ev2 != tt.ev {
				t.Errorf("byte by byte: %v, %v, %+v; want %v, %v, %+v", d2, r2, ev2, tt.data, tt.reply, tt.ev)
			}
		})
	}
}

func TestPinsFor(t *testing.T) {
	tests := []struct {
		dtr, rts bool
		want     Pins
	}{
		{false, false, Pins{}},
		{true, true, Pins{}},
		{false, true, Pins{ResetHeld: true}},
		{true, false, Pins{BootLow: true}},
	}
	for _, tt := range tests {
		if got := PinsFor(tt.dtr, tt.rts); got != tt.want {
			t.Errorf("PinsFor(dtr=%v, rts=%v) = %+v, want %+v", tt.dtr, tt.rts, got, tt.want)
		}
	}
}

// FuzzTelnet feeds arbitrary client bytes: the session never panics, its
// answers stay bounded, and data never contains more bytes than came in.
func FuzzTelnet(f *testing.F) {
	f.Add([]byte{tnIAC, tnDO, optEcho, tnIAC, tnSB, optComPort, cpSetBaudrate, 0, 1, 0xc2, 0, tnIAC, tnSE, 'x'})
	f.Add([]byte{tnIAC, tnSB, optComPort, cpSetControl, ctlRTSOn, tnIAC, tnSE})
	f.Add([]byte{tnIAC, tnIAC, tnIAC})
	f.Fuzz(func(t *testing.T, in []byte) {
		ts := newTelnetSession()
		data, reply, _ := ts.feed(in)
		if len(data) > len(in) {
			t.Fatalf("%d data bytes from %d input bytes", len(data), len(in))
		}
		if len(reply) > 3*len(in)+2*maxSubneg+8 {
			t.Fatalf("%d reply bytes from %d input bytes", len(reply), len(in))
		}
	})
}
