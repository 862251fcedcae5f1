package board

import (
	"strings"
	"testing"
)

// TestBoardModulesFitTheirAllowance: an interactive board loads every one
// of the board's own modules at boot into libHeapAllowance. When they
// outgrew it (the hardware drivers and networking libraries together),
// modules loaded past its end were overwritten once the script's budget
// was laid out: `import webrepl` then gave an object of no type.
func TestBoardModulesFitTheirAllowance(t *testing.T) {
	// The board's modules are built-ins once loaded (not in sys.modules,
	// as on the ESP8266): import each by name; importing a loaded one
	// returns the object loaded at boot. upysh and webrepl_setup act when
	// imported, and the host modules (_board, ...) are proxies.
	got, res := runScript(t, Config{Stdin: strings.NewReader(""), Files: files(`import os
names = [n[:-3] for n in os.listdir('/.frozen') if n.endswith('.py') and n[0] != '_' and n not in ('upysh.py', 'webrepl_setup.py')]
bad = [n for n in names if type(__import__(n)).__name__ != 'module']
print('modules', len(names) > 20, 'bad', bad)
`)}, nil)
	if !strings.Contains(got, "modules True bad []") {
		t.Errorf("outcome %v; console:\n%s", res.Outcome, got)
	}
}
