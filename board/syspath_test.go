package board

import (
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

// sysPathScript prints sys.path, imports one of the board's modules that
// import finds only through sys.path (_tls_stream, loaded lazily by tls)
// (the host preloads modules a script names in an import statement)
// from another current directory, and one of the pyscript firmware's own
// frozen modules.
const sysPathScript = `
import sys, os
print(sys.path)
os.mkdir('/d')
os.chdir('/d')
try:
    m = __import__('_tls' + '_stream')  # not named in an import: no preload
    print('board module', m.__name__)
except ImportError as e:
    print('ImportError', e)
try:
    import unittest
    print('pyscript module')
except ImportError as e:
    print('ImportError', e)
`

// TestSysPathIsTheBoards: sys.path is the ESP8266's: the current
// directory, '.frozen', '/lib' and '/' (py/runtime.c,
// ports/esp8266/main.c); '.frozen' serves the board's frozen modules from
// any current directory, while the pyscript build's frozen modules stay
// unreachable. The firmware without
// the prefix patch (firmware/frozenprefix.go) keeps '/.frozen', which
// is how the pyscript modules stay out of its reach.
func TestSysPathIsTheBoards(t *testing.T) {
	out := strings.ReplaceAll(runOn(t, testFirmware(t), sysPathScript), "\r\n", "\n")
	want := "['', '.frozen', '/lib', '/']\nboard module _tls_stream\nImportError no module named 'unittest'\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("printed\n%s\nwant\n%s", out, want)
	}
	fw, err := compileFirmware(firmware.Wasm, "pyscript frozen prefix", firmware.Options{Cache: compilationCache, PyscriptFrozen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	out = strings.ReplaceAll(runOn(t, fw, sysPathScript), "\r\n", "\n")
	want = "['', '/.frozen', '/lib', '/']\nboard module _tls_stream\nImportError no module named 'unittest'\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("unpatched firmware printed\n%s\nwant\n%s", out, want)
	}
}
