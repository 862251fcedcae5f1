package board

import (
	"strings"
	"testing"
)

func TestBootSequence(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    string
		outcome Outcome
	}{
		// pyexec_file_if_exists returns 0 (PYEXEC_UNHANDLED_EXCEPTION on the
		// ESP8266) for an exception and main.c then skips main.py.
		{name: "boot.py exception skips main.py",
			files:   map[string]string{"boot.py": "print('boot')\n1/0\n", "main.py": "print('main')\n"},
			want:    "boot\nTraceback (most recent call last):\n  File \"boot.py\", line 2, in <module>\nZeroDivisionError: divide by zero\n",
			outcome: Exception},
		// sys.exit() in boot.py is PYEXEC_FORCED_EXIT: not 0, main.py runs.
		{name: "sys.exit in boot.py still runs main.py",
			files: map[string]string{"boot.py": "import sys\nprint('boot')\nsys.exit()\n", "main.py": "print('main')\n"},
			want:  "boot\nmain\n"},
		{name: "boot.py and main.py share globals",
			files: map[string]string{"boot.py": "x = 41\n", "main.py": "print(x + 1)\n"},
			want:  "42\n"},
		// machine.soft_reset is sys.exit on the board: main.py just ends.
		{name: "machine.soft_reset ends main.py",
			files: map[string]string{"boot.py": "", "main.py": "import machine\nprint('a')\nmachine.soft_reset()\nprint('b')\n"},
			want:  "a\n"},
		{name: "first boot writes inisetup's boot.py",
			files: map[string]string{"main.py": "print(open('boot.py').read())\n"},
			want:  inisetupBootPy + "\n"},
	}
	clock := newClock(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := map[string][]byte{}
			for k, v := range tt.files {
				fs[k] = []byte(v)
			}
			got, res := runScript(t, Config{Files: fs}, clock)
			if got != tt.want {
				t.Errorf("console:\n%q\nwant:\n%q", got, tt.want)
			}
			if res.Outcome != tt.outcome {
				t.Errorf("outcome %v, want %v", res.Outcome, tt.outcome)
			}
		})
	}
}

// TestSoftResetInMainEndsAtREPL: main.py's machine.soft_reset() ends main.py
// and the REPL starts with main.py's globals (no soft reboot).
func TestSoftResetInMainEndsAtREPL(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil, "main.py": []byte("import machine\nanswer = 42\nmachine.soft_reset()\n")})
	s.expectSince(0, "\r\n"+banner+">>> ")
	s.exchange("answer\r", "answer\r\n42\r\n>>> ")
	// At the REPL it soft-reboots.
	s.exchange("machine.soft_reset()\r", "machine.soft_reset()\r\nMPY: soft reboot\r\n"+banner+">>> ")
}

func TestHelpIsTheESP8266s(t *testing.T) {
	got, _ := runScript(t, Config{Files: files("help()\n")}, nil)
	for _, want := range []string{"Welcome to MicroPython!\n", "For diagnostic information to include in bug reports execute 'import port_diag'.\n",
		"sta_if = network.WLAN(network.WLAN.IF_STA); sta_if.active(True)\n", "  CTRL-D        -- on a blank line, do a soft reset of the board\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("help() lacks %q:\n%s", want, got)
		}
	}
	// help and input are builtin functions on the board.
	got, _ = runScript(t, Config{Files: files("help(help)\nhelp(input)\nhelp(len)\n")}, nil)
	if want := strings.Repeat("object <function> is of type function\n", 3); got != want {
		t.Errorf("help(obj) = %q, want %q", got, want)
	}
}
