package board

import (
	"context"
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
	fw, err := compileFirmware(firmware.Wasm, "unpatched floats", firmware.Options{Cache: compilationCache, DoubleFloats: true})
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
