package board

import (
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

// decoratorScript uses the decorators the ESP8266 build compiles natively
// (MICROPY_EMIT_XTENSA) and two it refuses; each line prints its result or
// its exception.
const decoratorScript = `
import micropython
def run(src):
    g = {'micropython': micropython}
    try:
        exec(src, g)
        print(g['f'](20))
    except Exception as e:
        print(type(e).__name__, e)
run("@micropython.native\ndef f(x):\n    return x * 2 + 2\n")
run("@micropython.viper\ndef f(x: int) -> int:\n    return x + 22\n")
run("@micropython.bytecode\ndef f(x):\n    return x + 23\n")
run("@micropython.asm_xtensa\ndef f(a2):\n    pass\n")
run("@micropython.foo\ndef f(x):\n    return x\n")
`

// TestNativeAndViperRunAsBytecode: the board compiles @micropython.native
// and viper to Xtensa code; the simulator runs them as bytecode
// (firmware/decorator.go), while other names stay a SyntaxError. The
// unpatched firmware refuses native and viper.
func TestNativeAndViperRunAsBytecode(t *testing.T) {
	board := []string{"42", "42", "43", "SyntaxError invalid micropython decorator", "SyntaxError invalid micropython decorator"}
	unpatched := []string{"SyntaxError invalid micropython decorator", "SyntaxError invalid micropython decorator", "43",
		"SyntaxError invalid micropython decorator", "SyntaxError invalid micropython decorator"}
	check := func(name, out string, want []string) {
		t.Helper()
		var lines []string
		for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) < len(want) {
			t.Fatalf("%s: printed %q, want %q", name, lines, want)
		}
		lines = lines[len(lines)-len(want):]
		for i := range want {
			if strings.TrimSpace(lines[i]) != want[i] {
				t.Errorf("%s: line %d = %q, want %q", name, i, lines[i], want[i])
			}
		}
	}
	check("patched", runOn(t, testFirmware(t), decoratorScript), board)
	fw, err := compileFirmware(firmware.Wasm, "unpatched decorators", firmware.Options{Cache: compilationCache, BytecodeDecoratorsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	check("unpatched", runOn(t, fw, decoratorScript), unpatched)
}
