package machine

import (
	"testing"
	"time"
)

// FuzzHardware drives the peripherals with the arbitrary numbers a script
// can pass through the _hw host module: no operation may panic, and time
// may only be asked about in order.
func FuzzHardware(f *testing.F) {
	f.Add([]byte{0, 4, 1, 1, 2, 4, 0, 3, 0, 5, 7, 200})
	f.Add([]byte{6, 255, 9, 9, 9, 7, 1, 8, 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		h := New()
		now := time.Duration(0)
		_ = h.Drive(0, []Change{{10 * time.Millisecond, 0}, {20 * time.Millisecond, -1}})
		for i := 0; i+2 < len(ops); i += 3 {
			op, a, b := ops[i], int(int8(ops[i+1])), int(int8(ops[i+2]))
			now += time.Duration(ops[i+2]) * time.Millisecond
			switch op % 13 {
			case 0:
				_ = h.InitPin(now, a, b%3, b&1, b%2)
			case 1:
				h.Read(now, a)
			case 2:
				h.Write(now, a, b)
			case 3:
				_ = h.SetIRQ(now, a, b&3)
			case 4:
				_ = h.ArmTimer(now, a, time.Duration(b)*time.Millisecond, b&1 == 0)
			case 5:
				h.StopTimer(a)
			case 6:
				_ = h.SetPWM(now, a, b*10, b*8)
			case 7:
				h.PulseUS(now, a, b&1, time.Duration(b)*time.Microsecond)
			case 8:
				h.Advance(now)
				h.TakePending()
			case 9:
				h.Next(now)
				h.LevelAt(a, now)
			case 10:
				_, _ = h.DHTRead(now, a)
				h.Output(a)
			case 11:
				h.OneWireReset(now, a)
				h.OneWireReadBit(a)
				h.Bitstream(now, a, ops[i:])
			case 12:
				_ = h.AttachSPI(a, b, spiSink{})
				h.SPIWrite(now, ops[i:])
			}
		}
	})
}

// spiSink is an SPI part that takes anything.
type spiSink struct{}

func (spiSink) SPIWrite([]byte, int) {}
