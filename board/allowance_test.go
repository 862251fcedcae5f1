package board

import (
	"fmt"
	"io/fs"
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
	var names []string
	for _, n := range libModuleNames() {
		if !strings.HasPrefix(n, "_") && !strings.Contains(n, ".") && n != "upysh" && n != "webrepl_setup" {
			names = append(names, fmt.Sprintf("%q", n))
		}
	}
	got, res := runScript(t, Config{Stdin: strings.NewReader(""), Files: files(`names = (` + strings.Join(names, ", ") + `,)
bad = [n for n in names if type(__import__(n)).__name__ != 'module']
print('modules', len(names) > 20, 'bad', bad)
`)}, nil)
	if !strings.Contains(got, "modules True bad []") {
		t.Errorf("outcome %v; console:\n%s", res.Outcome, got)
	}
}

// libModuleNames lists the board's own modules (board/lib), a package's
// modules dotted.
func libModuleNames() []string {
	var out []string
	_ = fs.WalkDir(libFS, "lib", func(p string, e fs.DirEntry, err error) error {
		if n, ok := strings.CutSuffix(strings.TrimPrefix(p, "lib/"), ".py"); err == nil && ok {
			out = append(out, strings.ReplaceAll(strings.TrimSuffix(n, "/__init__"), "/", "."))
		}
		return nil
	})
	return out
}
