package machine

import "time"

// maxStrip bounds one bitstream frame the hardware keeps (a strip of about
// 5000 LEDs, more than a 38 KiB heap could hold).
const maxStrip = 16 << 10

// Bitstream records the bytes machine.bitstream (or esp.apa102_write)
// clocked out of pin p: the frame a NeoPixel or APA102 strip latches.
func (h *Hardware) Bitstream(now time.Duration, p int, buf []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.strips == nil {
		h.strips = map[int][]byte{}
	}
	h.strips[p] = append([]byte(nil), buf[:min(len(buf), maxStrip)]...)
	h.logLocked(Event{At: now, Kind: "bitstream", Pin: p, Value: len(buf)})
}

// Strip returns the last frame clocked out of pin p.
func (h *Hardware) Strip(p int) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]byte(nil), h.strips[p]...)
}

// NeoPixelColors decodes a WS2812 frame (GRB byte order, as
// neopixel.NeoPixel's ORDER sends it) into n RGB colours; LEDs the frame
// did not reach are dark.
func NeoPixelColors(frame []byte, n int) [][3]byte {
	out := make([][3]byte, n)
	for i := range out {
		if 3*i+2 < len(frame) {
			out[i] = [3]byte{frame[3*i+1], frame[3*i], frame[3*i+2]}
		}
	}
	return out
}
