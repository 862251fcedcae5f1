package firmware

import (
	"math"
	"testing"
)

func TestFloatPatchFindsTheFirmwaresFloatCode(t *testing.T) {
	out, fp, ok, err := patchFloats(Wasm)
	if err != nil || !ok {
		t.Fatalf("patchFloats: ok=%v err=%v", ok, err)
	}
	// mp_obj_new_float and the float constructor, unary and binary
	// operations it was inlined into (two stores for divmod's tuple).
	if fp.stores != 7 || len(fp.storeFuncs) != 4 {
		t.Errorf("rounded %d stores in %d functions, want 7 in 4", fp.stores, len(fp.storeFuncs))
	}
	// e, pi, tau, inf, nan.
	if fp.constants != 5 {
		t.Errorf("rewrote %d float constants, want 5", fp.constants)
	}
	if fp.getFloat == 0 || fp.parse == 0 || fp.format == 0 || !fp.heapLockFree || !fp.noComplex || !fp.complexText || !fp.noPow3 || fp.timestamps == 0 {
		t.Errorf("did not find every function: %+v", fp)
	}
	again, _, ok, err := patchFloats(out)
	if err != nil || ok && len(again) == len(out) {
		t.Errorf("patching the patched firmware: ok=%v err=%v", ok, err)
	}
	if _, _, ok, err := patchFloats([]byte("\x00asm\x01\x00\x00\x00")); ok || err != nil {
		t.Errorf("an empty module: ok=%v err=%v, want it left alone", ok, err)
	}
}

// TestBoardFloatFormatter checks the formatter and reader against values
// worked out by hand from the board's algorithm.
func TestBoardFloatFormatter(t *testing.T) {
	for _, c := range []struct {
		v    float64
		fmt  byte
		prec int
		sign byte
		want string
	}{
		{boardFloat(0.1), 'g', fltReprPrec, 0, "0.1"},
		{boardFloat(1e16), 'g', fltReprPrec, 0, "1e+16"},
		{boardFloat(1e15), 'g', fltReprPrec, 0, "1000000000000000"},
		{boardFloat(1e-5), 'g', fltReprPrec, 0, "1e-05"},
		{boardFloat(-2.5), 'g', fltReprPrec, 0, "-2.5"},
		{boardFloat(2.5), 'g', fltReprPrec, '+', "+2.5"},
		{boardFloat(1.5), 'e', -1, 0, "1.500000e+00"},
		{boardFloat(1.5), 'E', 2, 0, "1.50E+00"},
		{boardFloat(0.000123), 'f', 5, 0, "0.00012"},
		{boardFloat(1e30), 'f', 2, 0, "1e+30"},
		{boardFloat(12345.678), 'g', -1, 0, "12345.7"},
		{0, 'f', 3, 0, "0.000"},
		{boardFloat(1e39), 'G', -1, 0, "INF"},
	} {
		if got := string(formatBoardFloat(c.v, 33, c.fmt, c.prec, c.sign)); got != c.want {
			t.Errorf("format(%v, %c, %d) = %q, want %q", c.v, c.fmt, c.prec, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want float32
		used int
		ok   bool
	}{
		{"0.1", 0.1, 3, true},
		{"1_000", 1000, 5, true},
		{"2.5x", 2.5, 3, true},
		{"1e", 0, 2, false},
		{"1e+", 0, 3, false},
		{"123456789", 123456792, 9, true},
	} {
		v, used, ok := readBoardFloat([]byte(c.in))
		if v != c.want || used != c.used || ok != c.ok {
			t.Errorf("read(%q) = %v, %d, %v; want %v, %d, %v", c.in, v, used, ok, c.want, c.used, c.ok)
		}
	}
}

// FuzzBoardFloatText feeds the host side of the patched formatter and
// reader what a script can make the firmware pass (any float, format
// character, precision, sign; any text): a result, never a panic, and the
// text fits the firmware's buffer.
func FuzzBoardFloatText(f *testing.F) {
	f.Add(uint64(0x3fb999999999999a), int8(33), byte('g'), int16(99), byte(0), []byte("0.1"))
	f.Add(uint64(0x7ff0000000000000), int8(33), byte('F'), int16(-1), byte('+'), []byte("1e"))
	f.Add(uint64(0x47efffffe0000000), int8(4), byte('f'), int16(1000), byte(' '), []byte("1_0.5e-99x"))
	f.Fuzz(func(t *testing.T, bits uint64, size int8, fmtc byte, prec int16, sign byte, text []byte) {
		out := formatBoardFloat(math.Float64frombits(bits), int(size), fmtc, int(prec), sign)
		if size >= 19 && len(out) >= int(size) {
			t.Errorf("%d bytes for a %d-byte buffer: %q", len(out), size, out)
		}
		_, n, _ := readBoardFloat(text)
		if n > len(text) {
			t.Errorf("read %d of %d bytes", n, len(text))
		}
	})
}
