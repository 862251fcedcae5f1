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
	got, res := runScript(t, Config{Stdin: strings.NewReader(""), Files: files(`import sys
# The host modules (_board, _sock, ...) are proxies, not modules.
bad = [k for k, v in sys.modules.items() if not k.startswith('_') and type(v).__name__ != 'module']
print('modules', len(sys.modules) > 20, 'bad', bad)
`)}, nil)
	if !strings.Contains(got, "modules True bad []") {
		t.Errorf("outcome %v; console:\n%s", res.Outcome, got)
	}
}
