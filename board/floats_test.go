package board

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

// floatCases are expressions whose printed value depends on the float
// patch. board is what the ESP8266 (single precision, REPR_C, float32
// formatter and reader) prints, worked out from py/objfloat.c,
// py/formatfloat.c and py/parsenum.c at v1.27.0; double is what the
// unpatched pyscript firmware prints.
var floatCases = []struct {
	name, expr    string
	board, double string
}{
	{"sum", "0.1+0.2", "0.3", "0.30000000000000004"},
	{"third", "1/3", "0.3333333", "0.3333333333333333"},
	{"overflow", "1e38*10", "inf", "1e+39"},
	{"big literal", "123456789.0", "123456780.0", "123456789.0"},
	{"nan", "float('nan')", "nan", "nan"},
	{"parsed overflow", "float('1e39')", "inf", "1e+39"},
	{"int of float", "int(123456789.0)", "123456768", "123456789"},
	{"two low bits", "int(1e10)", "10000001024", "10000000000"},
	{"pi", "math.pi", "3.141592", "3.141592653589793"},
	{"pi's bits", "struct.pack('<f', math.pi).hex()", "da0f4940", "db0f4940"},
	{"sqrt", "math.sqrt(2)", "1.4142132", "1.4142135623730951"},
	{"int operand", "2**24+1 == 2.0**24", "True", "False"},
	{"float of int", "float(2**24+1)", "16777220.0", "16777217.0"},
	{"int left operand", "(2**24+1) - 2.0**24", "0.0", "1.0"},
	{"precision probe", "float('1.0000001') == 1.0", "True", "False"},
	{"format", "'{}'.format(2/3)", "0.6666666", "0.6666666666666666"},
	{"percent f", "'%.12f' % (1/3)", "0.333333300000", "0.333333333333"},
	{"percent g", "'%.9g' % (2/3)", "0.6666666", "0.666666667"},
	{"struct d", "struct.pack('<d', 0.1).hex()", "000000e09999b93f", "9a9999999999b93f"},
	{"array f", "array.array('f', [1/3])", "array('f', [0.3333333])", "array('f', [0.3333333432674408])"},
	{"board reader", "2.18e-10", "2.18e-10", "2.18e-10"},
	{"accumulate", "sum([0.1]*10) == 1.0", "True", "False"},
	{"imaginary literal", "fails('exec(\"1j\")')", "SyntaxError: complex values not supported", "ok"},
	{"pow3", "fails('pow(2, 3, 5)')", "NotImplementedError: 3-arg pow() not supported", "ok"},
	{"timestamp", "time.localtime(762566398)[:6]", "(2024, 2, 29, 23, 59, 58)", "(2024, 2, 29, 23, 59, 58)"},
	{"no imaginary part", "fails('float(\"1j\")')", "ValueError: invalid syntax for number", "ValueError: invalid syntax for number"},
}

func floatScript() string {
	var b strings.Builder
	b.WriteString("import math, struct, array, time\n")
	b.WriteString("def fails(src):\n try:\n  eval(src)\n  return 'ok'\n except Exception as e:\n  return '%s: %s' % (type(e).__name__, e)\n")
	for _, c := range floatCases {
		b.WriteString("print(" + c.expr + ")\n")
	}
	return b.String()
}

// runOn runs main.py on a fresh board with the given firmware.
func runOn(tb testing.TB, fw *Firmware, main string) string {
	tb.Helper()
	var out syncBuffer
	b, err := New(Config{Name: "esp1", Files: files(main), Console: &out}, fw, newClock(tb))
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.Run(ctx); err != nil {
		tb.Fatalf("Run: %v\n%s", err, out.String())
	}
	return out.String()
}

func printedLines(tb testing.TB, out string) []string {
	tb.Helper()
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < len(floatCases) {
		tb.Fatalf("printed %d lines, want %d:\n%s", len(lines), len(floatCases), out)
	}
	return lines[len(lines)-len(floatCases):]
}

// TestFloatsPrintAsOnTheBoard runs each expression on the patched firmware
// (the board's answer) and on the unpatched one (the double's), so every
// patched behaviour is shown to come from the patch.
func TestFloatsPrintAsOnTheBoard(t *testing.T) {
	got := printedLines(t, runOn(t, testFirmware(t), floatScript()))
	fw, err := compileFirmware(firmware.Wasm, "unpatched floats", compilationCache, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	unpatched := printedLines(t, runOn(t, fw, floatScript()))
	for i, c := range floatCases {
		if got[i] != c.board {
			t.Errorf("%s: print(%s) = %q, the board prints %q", c.name, c.expr, got[i], c.board)
		}
		if unpatched[i] != c.double {
			t.Errorf("%s: the unpatched firmware prints %q for %s, want %q", c.name, unpatched[i], c.expr, c.double)
		}
	}
}

func TestFloatPatchFindsTheFirmwaresFloatCode(t *testing.T) {
	out, fp, ok, err := patchFloats(firmware.Wasm)
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

// TestFloatMathsUnderHeapLock: on the board a float lives in the object
// word, so float maths works with the heap locked; here the float object's
// allocation ignores the user's lock. Other allocations still fail.
func TestFloatMathsUnderHeapLock(t *testing.T) {
	out := runOn(t, testFirmware(t), `
import micropython
def maths(x):
    micropython.heap_lock()
    y = x * 2.0 + 1
    z = float(3) / 7
    w = -y
    micropython.heap_unlock()
    return y, z, w
def locked_list():
    micropython.heap_lock()
    try:
        return [1, 2, 3]
    except MemoryError:
        return 'MemoryError'
    finally:
        micropython.heap_unlock()
print(maths(1.5))
print(locked_list())
`)
	for _, want := range []string{"(4.0, 0.4285714, -4.0)", "MemoryError"} {
		if !strings.Contains(out, want+"\r\n") && !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
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
