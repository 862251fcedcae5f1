package board

import (
	"encoding/binary"
	"strings"
	"testing"
)

// modmapScript shows what a script sees of the module set: on the ESP8266
// the C modules never enter sys.modules, u-names are their aliases, sys is
// read-only, and only frozen Python modules appear once imported.
const modmapScript = `
import sys
print('fresh', sorted(sys.modules))
import time, utime, os, uos, socket, usocket, select, uselect, machine, gc, network, esp
print('aliases', utime is time, uos is os, usocket is socket, uselect is select)
print('utime.time', type(utime.time()).__name__, utime.time() == time.time(), utime.localtime()[0])
print('after builtins', sorted(sys.modules))
import ntptime
print('after frozen', sorted(sys.modules))
import ntptime as again
print('frozen once', again is ntptime)
try:
    sys.x = 1
    print('sys.x set')
except AttributeError:
    print('sys.x AttributeError')
print('sys', sys.platform, sys.implementation._machine, sys.implementation._build, sys.implementation._mpy)
print('sys builtin', type(sys.print_exception).__name__, sys.path is __import__('usys').path)
`

func TestModulesAreBuiltIns(t *testing.T) {
	for _, interactive := range []bool{false, true} {
		// pre is what sys.modules holds besides: nothing on a board that
		// runs a script; on an interactive board, which loads all its
		// modules at boot, the packages (mip, umqtt), which stay in
		// sys.modules (see RATIONALE.md, the module set).
		pre, pre2 := "", ""
		cfg := Config{Files: files(modmapScript)}
		if interactive {
			cfg.Stdin = strings.NewReader("")
			pre, pre2 = "'mip', 'umqtt'", "'mip', "
		}
		want := []string{
			"fresh [" + pre + "]",
			"aliases True True True True",
			"utime.time int True 2026",
			"after builtins [" + pre + "]",
			"after frozen [" + pre2 + "'ntptime'" + strings.TrimPrefix(pre, "'mip'") + "]",
			"frozen once True",
			"sys.x AttributeError",
			"sys esp8266 ESP module with ESP8266 ESP8266_GENERIC 9990",
			"sys builtin function True",
		}
		got, res := runScript(t, cfg, nil)
		if res.Outcome != Finished {
			t.Fatalf("interactive %v: outcome %v: %s", interactive, res.Outcome, got)
		}
		lines := strings.Split(strings.ReplaceAll(got, "\r\n", "\n"), "\n")
		for i, w := range want {
			if i >= len(lines) || lines[i] != w {
				t.Errorf("interactive %v: line %d: want %q; console:\n%s", interactive, i, w, got)
				break
			}
		}
	}
}

// mergeEntries keeps the old table's order, replaces the values of keys
// given again and appends the others.
func TestMergeEntries(t *testing.T) {
	old := make([]byte, 24)
	for i, w := range []uint32{10, 100, 20, 200, 30, 300} {
		binary.LittleEndian.PutUint32(old[4*i:], w)
	}
	got := mergeEntries(old, [][2]uint32{{20, 201}, {40, 400}})
	want := [][2]uint32{{10, 100}, {20, 201}, {30, 300}, {40, 400}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// py/builtinimport.c: sys.path comes before the extensible built-ins, so a
// user's time.py wins over the board's time, while utime (the u-alias)
// still reaches the built-in; machine and socket are extensible too.
func TestUserModuleShadowsExtensible(t *testing.T) {
	fs := files("import time, utime, machine\nprint(hasattr(time, 'X'), hasattr(utime, 'X'), hasattr(utime, 'ticks_ms'), hasattr(machine, 'X'))\n")
	fs["time.py"] = []byte("X = 1\n")
	fs["lib/machine.py"] = []byte("X = 1\n")
	got, res := runScript(t, Config{Files: fs}, nil)
	if want := "True False True True\n"; got != want || res.Outcome != Finished {
		t.Errorf("outcome %v, console %q, want %q", res.Outcome, got, want)
	}
}

// The module maps are no GC root: the modules written into them survive
// collections because the host keeps them (_board.keep). An interactive
// board loads all its modules at boot, imported by nothing yet.
func TestBuiltInModulesSurviveCollection(t *testing.T) {
	src := `import gc
gc.collect()
junk = [bytearray(64) for i in range(200)]
junk = None
gc.collect()
import ntptime, webrepl, dht, neopixel, esp, network
print(type(ntptime).__name__, callable(ntptime.settime), callable(webrepl.start), callable(dht.DHT11), callable(neopixel.NeoPixel), callable(esp.flash_id), callable(network.WLAN))
`
	got, res := runScript(t, Config{Files: files(src), Stdin: strings.NewReader("")}, nil)
	if !strings.HasPrefix(got, "module True True True True True True\r\n") {
		t.Errorf("outcome %v; console:\n%s", res.Outcome, got)
	}
}
