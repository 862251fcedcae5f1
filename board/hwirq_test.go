package board

import (
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/machine"
)

// Interrupt handlers run wherever the board checks pending callbacks: in a
// blocking socket call, in select/poll, in a spinning loop, not only in
// sleeps (hwirq.go). Each script prints the tick its handler ran at; the
// press or expiry is at a known simulated time.
func TestIRQHandlersRunDuringWaitsAndSpins(t *testing.T) {
	press := func(at time.Duration) func(h *machine.Hardware) {
		return func(h *machine.Hardware) {
			_ = h.Drive(0, []machine.Change{{At: at, Level: 0}, {At: at + 200*time.Millisecond, Level: -1}})
		}
	}
	button := "import time, socket, select\nfrom machine import Pin, Timer\nseen = []\n" +
		"def h(p):\n    seen.append(time.ticks_ms())\n    print('handler', time.ticks_ms())\n" +
		"Pin(0, Pin.IN, Pin.PULL_UP).irq(trigger=Pin.IRQ_FALLING, handler=h)\n"
	tests := []struct {
		name string
		main string
		wire func(h *machine.Hardware)
		want []string // console lines, in order
	}{
		{
			name: "button press during a blocking accept",
			main: button + "s = socket.socket()\ns.bind(('0.0.0.0', 80))\ns.listen(1)\ns.settimeout(3)\n" +
				"try:\n    s.accept()\nexcept OSError as e:\n    print('accept ended', e.args[0], time.ticks_ms())\n",
			wire: press(time.Second),
			want: []string{"handler 1000", "accept ended 110 3000"},
		},
		{
			name: "button press during a blocking recv",
			main: button + "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nu.bind(('0.0.0.0', 5000))\nu.settimeout(2)\n" +
				"try:\n    u.recv(10)\nexcept OSError as e:\n    print('recv ended', time.ticks_ms())\n",
			wire: press(700 * time.Millisecond),
			want: []string{"handler 700", "recv ended 200"},
		},
		{
			name: "button press during select.poll",
			main: button + "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nu.bind(('0.0.0.0', 5001))\n" +
				"p = select.poll()\np.register(u, select.POLLIN)\nprint('poll', p.poll(1500), time.ticks_ms())\n",
			wire: press(400 * time.Millisecond),
			want: []string{"handler 400", "poll [] 1500"},
		},
		{
			name: "button press during a busy loop",
			main: button + "while not seen:\n    pass\nprint('loop left', time.ticks_ms())\n",
			wire: press(150 * time.Millisecond),
			want: []string{"handler 150", "loop left 150"},
		},
		{
			name: "periodic Timer during a busy loop",
			main: "import time\nfrom machine import Timer\nn = [0]\n" +
				"def cb(t):\n    n[0] += 1\n" +
				"Timer(-1).init(period=20, mode=Timer.PERIODIC, callback=cb)\nt0 = time.ticks_ms()\n" +
				"while n[0] < 5:\n    pass\nprint('five expiries by', time.ticks_diff(time.ticks_ms(), t0))\n",
			want: []string{"five expiries by 100"},
		},
		{
			// The handler runs on call engines of its own: the waiting
			// call's exception still reaches the top of the program.
			name: "the waiting call's own uncaught error survives a handler run inside it",
			main: button + "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nu.bind(('0.0.0.0', 5002))\nu.settimeout(2)\nu.recv(10)\n",
			wire: press(500 * time.Millisecond),
			want: []string{"handler 500", "OSError: [Errno 110] ETIMEDOUT"},
		},
		{
			name: "a handler's exception is printed and the program goes on",
			main: button + "def bad(p):\n    raise ValueError('in handler')\n" +
				"Pin(0).irq(trigger=Pin.IRQ_FALLING, handler=bad)\ntime.sleep(2)\nprint('still running')\n",
			wire: press(time.Second),
			want: []string{"ValueError: in handler", "still running"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, _ := runWired(t, tt.main, tt.wire)
			wantInOrder(t, out, tt.want)
		})
	}
}

// At the REPL's prompt, with nobody typing, a Timer's callback still runs:
// the port's stdin read calls mp_handle_pending while it waits.
func TestIRQHandlersRunAtTheREPLPrompt(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil})
	s.expect(">>> ")
	s.send("from machine import Timer\r")
	s.send("Timer(-1).init(period=300, mode=Timer.ONE_SHOT, callback=lambda t: print('fired', 6 * 7))\r")
	s.expect("fired 42") // the handler's output, not the echoed line
}

// The handler runner's words go into the scheduler's queue as object
// pointers: a script cannot hand the board others (a refused host call
// returns the firmware's undefined).
func TestIRQHookRefusesAScriptsWords(t *testing.T) {
	out, _, _ := runWired(t, "import machine, _hw, _board\n"+
		"for a in ((8, 4), (id(print), id(None)), (id(machine._run), id(None))):\n"+
		"    print(_hw.irq_hook(*a) is _board.UNDEF)\n", nil)
	if strings.Count(out, "True") != 3 {
		t.Errorf("console:\n%s", out)
	}
}
