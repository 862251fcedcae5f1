package board

import (
	"context"
	"strings"
	"testing"
	"time"
)

// runTyped runs main.py with text arriving on the UART's receive pin at
// the given simulated times.
func runTyped(t *testing.T, main string, typed map[time.Duration]string) string {
	t.Helper()
	var out syncBuffer
	clock := newClock(t)
	b, err := New(Config{Name: "esp1", Console: &out, Files: files(main)}, testFirmware(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for at, s := range typed {
		s := s
		clock.AfterFunc(at, func() { b.UARTWrite([]byte(s)) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return out.String()
}

// os.dupterm routes the terminal as on the ESP8266: UART(0) sits in slot
// 1 at boot; os.dupterm(None, 1) takes print off the serial port and gives
// UART(0) its received bytes (Ctrl-C included, as a byte); putting UART(0)
// back restores the REPL; a stream in slot 0 gets the terminal's output.
func TestDuptermRoutesTheTerminal(t *testing.T) {
	tests := []struct {
		name    string
		main    string
		typed   map[time.Duration]string
		want    []string // console, in order
		wantNot []string
	}{
		{
			name: "detached UART0: print is off the pin, UART0 reads what arrives",
			main: "import os, time, machine\nprint('before')\nprev = os.dupterm(None, 1)\n" +
				"print('hidden while detached')\nu = machine.UART(0, 115200)\nu.write(b'raw write\\n')\n" +
				"time.sleep(1)\ngot = u.read()\nos.dupterm(prev, 1)\nprint('back', got, repr(prev)[:7])\n",
			typed:   map[time.Duration]string{500 * time.Millisecond: "ab\x03c"},
			want:    []string{"before", "raw write", "back b'ab\\x03c' UART(0,"},
			wantNot: []string{"hidden while detached", "KeyboardInterrupt"},
		},
		{
			name: "attached UART0: what arrives is stdin's, UART0.read gives None",
			main: "import time, machine, sys\nu = machine.UART(0, 115200)\ntime.sleep(1)\n" +
				"print('read', u.read(), u.any())\n",
			typed: map[time.Duration]string{500 * time.Millisecond: "xyz"},
			want:  []string{"read None 0"},
		},
		{
			name: "a stream in slot 0 gets the output too",
			main: "import os, io\nclass S(io.IOBase):\n    def __init__(self):\n        self.got = []\n" +
				"    def write(self, b):\n        self.got.append(b)\n        return len(b)\n" +
				"    def readinto(self, b):\n        return None\n" +
				"s = S()\nprint(os.dupterm(s))\nprint('duplicated')\nos.dupterm(None)\nprint('seen by the stream:', 'duplicated' in ''.join(s.got))\n",
			want: []string{"None", "duplicated", "seen by the stream: True"},
		},
		{
			name: "a stream in a slot types into input()",
			main: "import os, io\nclass K(io.IOBase):\n    def __init__(self):\n        self.keys = b'hello\\r'\n" +
				"    def write(self, b):\n        return len(b)\n" +
				"    def readinto(self, b):\n        n = len(self.keys)\n        b[:n] = self.keys\n        self.keys = b''\n        return n or None\n" +
				"os.dupterm(K())\nx = input('> ')\nos.dupterm(None)\nprint('got', repr(x))\n",
			want: []string{"got 'hello'"},
		},
		{
			name: "a stream whose write raises is dropped",
			main: "import os\nclass Bad:\n    def write(self, b):\n        raise ValueError('no')\n" +
				"os.dupterm(Bad())\nprint('one')\nprint('slot now', os.dupterm(None))\n",
			want: []string{"one", "dupterm: Exception in write() method, deactivating: ", "ValueError: no", "slot now None"},
		},
		{
			name: "the index is checked and a non-stream refused",
			main: "import os\ntry:\n    os.dupterm(None, 2)\nexcept ValueError as e:\n    print(e)\n" +
				"try:\n    os.dupterm(3)\nexcept OSError as e:\n    print(e)\n",
			want: []string{"invalid dupterm index", "stream operation not supported"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runTyped(t, tt.main, tt.typed)
			wantInOrder(t, out, tt.want)
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("console shows %q:\n%s", w, out)
				}
			}
		})
	}
}
