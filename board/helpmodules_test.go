package board

import (
	"os"
	"strings"
	"testing"
)

// TestHelpModulesListsTheBoardsModules: help('modules') prints the module
// list of ESP8266_GENERIC v1.27.0 (its C modules and frozen names, laid out
// by py/builtinhelp.c), not the pyscript build's; help of another string
// is still the firmware's description of an object.
func TestHelpModulesListsTheBoardsModules(t *testing.T) {
	want, err := os.ReadFile("testdata/help_modules.txt")
	if err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(runOn(t, testFirmware(t), "help('modules')\nprint('--')\nhelp('modulez')\n"), "\r\n", "\n")
	before, after, ok := strings.Cut(out, "--\n")
	if !ok {
		t.Fatalf("no separator in output:\n%s", out)
	}
	if !strings.HasSuffix(before, string(want)) {
		t.Errorf("help('modules') printed\n%s\nwant\n%s", before, want)
	}
	if !strings.HasPrefix(after, "object modulez is of type str\n") {
		t.Errorf("help('modulez') printed %q, want the firmware's object description", after)
	}
}

// TestHelpModulesAtTheREPL: an interactive board preloads the board's
// modules at boot; the list still loads only when asked, twice in a row,
// and stays out of sys.modules.
func TestHelpModulesAtTheREPL(t *testing.T) {
	want, err := os.ReadFile("testdata/help_modules.txt")
	if err != nil {
		t.Fatal(err)
	}
	s := startREPL(t, nil)
	s.expectSince(0, "\r\n"+banner+">>> ")
	text := strings.ReplaceAll(string(want), "\n", "\r\n")
	s.exchange("help('modules')\r", "help('modules')\r\n"+text+">>> ")
	s.exchange("help('modules')\r", "help('modules')\r\n"+text+">>> ")
	s.exchange("import sys; '_helpmods' in sys.modules\r", "import sys; '_helpmods' in sys.modules\r\nFalse\r\n>>> ")
}
