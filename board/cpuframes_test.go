package board

import (
	"strings"
	"testing"
	"time"
)

// The board's stand-in modules run as C (cpuframes.go): their bytecode
// costs nothing, a call into one from the script costs cCallCost.

// ticksPairBoard is what two back-to-back time.ticks_us() calls in a
// function read on the ESP8266 at 80 MHz: about 10 µs (RATIONALE.md,
// "The board's own modules run as C"). Charged as the script's code the
// pair read 35 µs.
const ticksPairBoard = 10 * time.Microsecond

const frozenScript = `
import time, gc, machine, asyncio, select, io
def pair():
    t0 = time.ticks_us()
    t1 = time.ticks_us()
    return time.ticks_diff(t1, t0)
pair()
print("pair", pair())
pin = machine.Pin(4, machine.Pin.IN)
def polls(n):
    c = pin.value
    gc.collect()
    t0 = time.ticks_us()
    for i in range(n):
        c()
    t1 = time.ticks_us()
    gc.collect()
    t2 = time.ticks_us()
    for i in range(n):
        pass
    return (time.ticks_diff(t1, t0) - time.ticks_diff(time.ticks_us(), t2)) // n
print("poll", polls(100))
def loop(n):
    gc.collect()
    t0 = time.ticks_us()
    for i in range(n):
        pass
    return time.ticks_diff(time.ticks_us(), t0)
print("loop", loop(1000))
async def work():
    return loop(1000)
print("callback", asyncio.run(work()))
fromc = -1
class S(io.IOBase):
    def ioctl(self, req, arg):
        global fromc
        if fromc < 0:
            fromc = loop(1000)
        return 0
p = select.poll()
p.register(S(), select.POLLIN)
p.poll(0)
print("fromc", fromc)
async def bad(n):
    if n == 0:
        raise ValueError("deep")
    await bad(n - 1)
try:
    asyncio.run(bad(5))
except ValueError:
    print("caught", 1)
print("after", loop(1000))
gc.collect()
t0 = time.ticks_us()
for i in range(1000):
    pass
print("inline", time.ticks_diff(time.ticks_us(), t0))
try:
    time.sleep_ms()
except TypeError:
    print("bindfail", 1)
gc.collect()
t0 = time.ticks_us()
for i in range(1000):
    pass
print("afterbind", time.ticks_diff(time.ticks_us(), t0))
`

func TestFrozenModulesCostCCalls(t *testing.T) {
	got := timings(t, Config{}, frozenScript)
	t.Logf("%v", got)
	// The pair is the script's bytecode for one call (~8 counted
	// iterations) and one C call.
	if v := time.Duration(got["pair"]) * time.Microsecond; v < cCallCost || v > 2*ticksPairBoard {
		t.Errorf("a ticks_us() pair read %v, want about the board's %v (at most %v)", v, ticksPairBoard, 2*ticksPairBoard)
	}
	// One pin.value() pass beyond the loop's own: the call's bytecode and
	// a C call, not the stand-in's Python.
	if v := time.Duration(got["poll"]) * time.Microsecond; v < cCallCost || v > 40*time.Microsecond {
		t.Errorf("pin.value() cost %v a pass in a counted loop, want at most 40 µs", v)
	}
	// The script's code called back from asyncio (frozen bytecode on the
	// board) or from select (C there: poll asks a Python stream's ioctl)
	// is charged as the script's, and so is its code after an exception left through
	// asyncio's frames, or left a C stand-in's argument binding.
	loop := got["loop"]
	if loop < loop10kRef/10*3/4 || loop > loop10kRef/10*5/4 {
		t.Fatalf("a 1000-pass loop took %d µs, want %d µs ± 25%%", loop, loop10kRef/10)
	}
	for _, k := range []string{"callback", "fromc", "after"} {
		if v := got[k]; v < loop*99/100 || v > loop*101/100 {
			t.Errorf("%s: the 1000-pass loop took %d µs, %d µs called directly", k, v, loop)
		}
	}
	// The module's own loop after a C stand-in's argument binding raised
	// (the binding's frame is dropped by the crossing that caught it).
	// (Module-level loops store to the globals dict: the two differ by a
	// few percent as it grows; an unpopped C frame makes the second 0.)
	if v, in := got["afterbind"], got["inline"]; in < loop*3/4 || v < in*3/4 || v > in*5/4 {
		t.Errorf("the module-level 1000-pass loop took %d µs after the failed binding, %d µs before", v, in)
	}
	if got["caught"] != 1 || got["bindfail"] != 1 {
		t.Errorf("an exception was not caught: %v", got)
	}
}

// The frame stack follows enters and leaves; a leave whose frame is not on
// top drops what lies above it, and a longjmp or trap caught by an invoke_
// crossing drops the frames entered inside it.
func TestFrameStackResynchronises(t *testing.T) {
	type op struct {
		kind  string // "enter", "leave", "unwind"
		cs    uint32
		depth int
		froz  bool
	}
	tests := []struct {
		name     string
		ops      []op
		want     int
		inFrozen bool
	}{
		{"balanced", []op{{"enter", 1, 0, false}, {"enter", 2, 1, true}, {"leave", 2, 0, false}}, 1, false},
		{"leave skips a lost frame", []op{{"enter", 1, 0, true}, {"enter", 2, 1, false}, {"enter", 3, 2, true}, {"leave", 2, 0, false}}, 1, true},
		{"leave of an unknown frame", []op{{"enter", 1, 0, false}, {"enter", 2, 1, true}, {"leave", 9, 0, false}}, 2, true},
		{"unwind drops the frames inside the crossing", []op{{"enter", 1, 0, false}, {"enter", 2, 1, true}, {"enter", 3, 2, true}, {"unwind", 0, 1, false}}, 2, true},
		{"unwind to the top", []op{{"enter", 1, 1, true}, {"enter", 2, 2, false}, {"unwind", 0, 0, false}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Board{}
			for _, o := range tt.ops {
				switch o.kind {
				case "enter":
					b.setFrames(append(b.cpu.frames, cpuFrame{cs: o.cs, depth: o.depth, frozen: o.froz}))
				case "leave":
					b.frameLeave(o.cs)
				case "unwind":
					b.framesUnwound(o.depth)
				}
			}
			if len(b.cpu.frames) != tt.want || b.cpu.inFrozen != tt.inFrozen {
				t.Errorf("%d frames, inFrozen %v; want %d, %v", len(b.cpu.frames), b.cpu.inFrozen, tt.want, tt.inFrozen)
			}
		})
	}
}

func TestFileKind(t *testing.T) {
	for _, tc := range []struct {
		file string
		want uint8
	}{
		{"/.frozen/time.py", frameC},
		{"/.frozen/network.py", frameC},
		{".frozen/socket.py", frameC}, // imported through sys.path's '.frozen'
		{"/.frozen/asyncio.py", frameBytecode},
		{".frozen/_asyncio_funcs.py", frameBytecode},
		{"/.frozen/umqtt/simple.py", frameBytecode},
		{"/.frozen/mip/__init__.py", frameBytecode},
		{"main.py", frameScript},
		{"/lib/time.py", frameScript},
		{"<stdin>", frameScript},
	} {
		if got := fileKind(tc.file); got != tc.want {
			t.Errorf("fileKind(%q) = %d, want %d", tc.file, got, tc.want)
		}
	}
}

// A module the board loads on first use is imported through sys.path's
// relative '.frozen': its frames are the board's too, and an exception
// raised in it shows only the script's frames.
func TestTracebackHidesLazilyLoadedModules(t *testing.T) {
	out, _ := runScript(t, Config{Files: files(`
import asyncio
async def m():
    await asyncio.wait_for(1, 1)
asyncio.run(m())
`)}, nil)
	if !strings.Contains(out, `File "main.py", line 4, in m`) || strings.Contains(out, "frozen") {
		t.Errorf("traceback:\n%s", out)
	}
}
