package board

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestScripts(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    string
		outcome Outcome
	}{
		{name: "arithmetic", files: map[string]string{"main.py": "print(1+2, 7//2, 7%3, 2**100, -7//2, 1/4)\n"},
			want: "3 3 1 1267650600228229401496703205376 -4 0.25\n"},
		{name: "bytes and memoryview", files: map[string]string{"main.py": "b = bytearray(b'abc')\nm = memoryview(b)\nm[0] = 0x41\nprint(b, bytes(m[1:]), len(m), b.hex())\n"},
			want: "bytearray(b'Abc') b'bc' 3 416263\n"},
		{name: "f-strings", files: map[string]string{"main.py": "x = 3.14159\nn = 'esp'\nprint(f'{n!r}:{x:.2f}:{42:#x}')\n"},
			want: "'esp':3.14:0x2a\n"},
		{name: "caught exception", files: map[string]string{"main.py": "try:\n    {}['k']\nexcept KeyError as e:\n    print('KeyError', e)\n"},
			want: "KeyError k\n"},
		{name: "uncaught exception traceback", files: map[string]string{"main.py": "def f(x):\n    return 10 // x\n\nf(0)\n"},
			want: "Traceback (most recent call last):\n  File \"main.py\", line 4, in <module>\n  File \"main.py\", line 2, in f\nZeroDivisionError: divide by zero\n", outcome: Exception},
		{name: "syntax error", files: map[string]string{"main.py": "print('a'\n"},
			want: "Traceback (most recent call last):\n  File \"main.py\", line 2\nSyntaxError: invalid syntax\n", outcome: Exception},
		{name: "boot then main", files: map[string]string{"boot.py": "print('boot')\nx = 41\n", "main.py": "print('main', __name__, x + 1)\n"},
			want: "boot\nmain __main__ 42\n"},
		{name: "file io on flash", files: map[string]string{"main.py": "import os\nwith open('data.txt', 'w') as f:\n    f.write('hello\\n')\nos.mkdir('d')\nos.rename('data.txt', 'd/x.txt')\nprint(open('d/x.txt').read().strip(), os.listdir('/'), os.listdir('d'), os.stat('d/x.txt')[6])\nos.remove('d/x.txt')\nos.rmdir('d')\ntry:\n    open('nope')\nexcept OSError as e:\n    print(e)\n"},
			want: "hello ['boot.py', 'd', 'main.py'] ['x.txt'] 6\n[Errno 2] ENOENT\n"},
		{name: "ilistdir gives littlefs sizes", files: map[string]string{"main.py": "import os\nopen('a.txt', 'w').write('abc')\nprint(sorted(os.ilistdir()))\n"},
			want: "[('a.txt', 32768, 0, 3), ('boot.py', 32768, 0, 0), ('main.py', 32768, 0, 71)]\n"},
		{name: "lib is the user's, the board's modules are frozen ahead of it", files: map[string]string{"main.py": "import os, sys\nprint(sys.path)\nos.mkdir('/lib')\nfor n in ('mymod', 'ntptime'):\n    with open('/lib/%s.py' % n, 'w') as f:\n        f.write('X = 7\\n')\nimport mymod, ntptime\nprint(mymod.X, hasattr(ntptime, 'X'), os.listdir('/lib'))\ntry:\n    open('/.frozen/time.py', 'w')\nexcept OSError as e:\n    print(e.errno)\n"},
			want: "['', '.frozen', '/lib', '/']\n7 False ['mymod.py', 'ntptime.py']\n30\n"},
		{name: "sleep against the clock", files: map[string]string{"main.py": "import time\nt0 = time.ticks_ms()\ntime.sleep(60)\ntime.sleep_ms(250)\ntime.sleep_us(1000)\nprint(time.ticks_diff(time.ticks_ms(), t0))\n"},
			want: "60251\n"},
		{name: "busy wait lets time move", files: map[string]string{"main.py": "import time\nt0 = time.ticks_ms()\nwhile time.ticks_diff(time.ticks_ms(), t0) < 1000:\n    pass\nprint('done')\n"},
			want: "done\n"},
		{name: "profile", files: map[string]string{"main.py": "import sys, os, machine, esp\nprint(sys.platform, os.uname().sysname, os.uname().machine, machine.freq(), len(machine.unique_id()), esp.flash_id())\n"},
			want: "esp8266 esp8266 ESP module with ESP8266 80000000 4 1458376\n"},
		// extmod/modselect.c: a stream's ioctl error (a Python stream
		// returning -errno) is raised by poll() as OSError(errno).
		{name: "poll raises a stream's ioctl error", files: map[string]string{"main.py": "import io, select\nclass S(io.IOBase):\n    r = 1\n    def ioctl(self, cmd, arg):\n        return self.r if cmd == 3 else -1\ns = S()\np = select.poll()\np.register(s, select.POLLIN)\nprint(p.poll(0)[0][1])\ns.r = -1000\ntry:\n    p.poll(0)\nexcept OSError as e:\n    print('OSError', e.errno)\n"},
			want: "1\nOSError 1000\n"},
		// py/objattrtuple.c: the board's uname is tuple-compatible, so '%'
		// formats it and it prints with field names (basics/attrtuple2.py).
		{name: "uname is an attrtuple", files: map[string]string{"main.py": "import os\nu = os.uname()\nprint(('%s|' * len(u)) % u)\nprint(str(u).find('machine=') > 0, u.release, len(u), u[0] == u.sysname)\n"},
			want: "esp8266|esp8266|2.2.0-dev(9422289)|v1.27.0 on 2025-12-09|ESP module with ESP8266|\nTrue 2.2.0-dev(9422289) 5 True\n"},
		{name: "time epoch 2000", files: map[string]string{"main.py": "import time\nprint(time.localtime(0)[:3], time.time() > 8e8)\n"},
			want: "(2000, 1, 1) True\n"},
		{name: "rtc", files: map[string]string{"main.py": "import machine, time\nrtc = machine.RTC()\nrtc.datetime((2024, 2, 29, 3, 23, 59, 58, 0))\ntime.sleep(3)\nprint(rtc.datetime()[:7], time.localtime()[:6], machine.reset_cause())\n"},
			want: "(2024, 3, 1, 4, 0, 0, 1) (2024, 3, 1, 0, 0, 1) 0\n"},
		{name: "sys.exit is clean", files: map[string]string{"main.py": "import sys\nprint('a')\nsys.exit()\nprint('b')\n"},
			want: "a\n"},
	}
	clock := newClock(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := map[string][]byte{}
			for k, v := range tt.files {
				fs[k] = []byte(v)
			}
			if _, ok := fs["boot.py"]; !ok {
				fs["boot.py"] = []byte("")
			}
			got, res := runScript(t, Config{Files: fs, CPU: CPUNative}, clock) // exact sleep times
			if got != tt.want {
				t.Errorf("console:\n%s\nwant:\n%s", got, tt.want)
			}
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %v, want %v (%s)", res.Outcome, tt.outcome, res.Message)
			}
		})
	}
}

func TestSleepIsFastInFastMode(t *testing.T) {
	clock := newClock(t)
	start := clock.Elapsed()
	got, _ := runScript(t, Config{Files: files("import time\nt0 = time.ticks_ms()\ntime.sleep(60)\nprint(time.ticks_diff(time.ticks_ms(), t0))\n")}, clock)
	// The sleep is 60 s; the code around it costs a millisecond of CPU
	// time (cputime.go).
	if got != "60000\n" && got != "60001\n" {
		t.Errorf("console = %q, want 60000 (or 60001: the code's own time)", got)
	}
	if d := clock.Elapsed() - start; d < 60*time.Second {
		t.Errorf("simulator time advanced %v, want >= 60s", d)
	}
}

func TestHeapBudget(t *testing.T) {
	tests := []scriptCase{
		{"16 KiB fits", "b = bytearray(16*1024)\nprint(len(b))\n", "16384\n"},
		{"64 KiB does not", "try:\n    b = bytearray(64*1024)\nexcept MemoryError as e:\n    print('MemoryError', e)\n", "MemoryError memory allocation failed, allocating 65536 bytes\n"},
		{"garbage is collected at host calls", "import time, gc\nfor i in range(3000):\n    s = [i] * 8\n    time.sleep_ms(1)\nprint('ok', gc.mem_free() > 20000)\n", "ok True\n"},
	}
	runScripts(t, tests)
}

func TestHeapIsConfigurable(t *testing.T) {
	src := "import gc\nb = bytearray(64*1024)\nprint(len(b), gc.mem_free() > 8000)\n"
	got, _ := runScript(t, Config{Files: files(src), HeapBytes: 96 * 1024}, nil)
	if got != "65536 True\n" {
		t.Errorf("with a 96 KiB heap: console %q", got)
	}
}

func TestWatchdogStopsRunawayScript(t *testing.T) {
	got, res := runScript(t, Config{Files: files("print('start')\nwhile True:\n    pass\n"), Watchdog: 300 * time.Millisecond}, nil)
	if res.Outcome != WatchdogExpired {
		t.Fatalf("outcome = %v, want watchdog (console %q)", res.Outcome, got)
	}
	if !strings.Contains(res.Message, "watchdog") || !strings.HasPrefix(got, "start\n") {
		t.Errorf("message %q console %q", res.Message, got)
	}
}

func TestMachineResetReboots(t *testing.T) {
	got, res := runScript(t, Config{Files: map[string][]byte{
		"main.py": []byte("import os, machine\nn = len(os.listdir('/'))\nprint('boot', n, machine.reset_cause())\nif n < 5:\n    open('f%d' % n, 'w').close()\n    machine.reset()\nprint('done')\n"),
	}}, nil)
	// boot.py (written by the first boot), main.py, then the f files; a
	// fresh board has no /lib until something creates it.
	want := "boot 2 0\nboot 3 4\nboot 4 4\nboot 5 4\ndone\n"
	if got != want || res.Resets != 3 {
		t.Errorf("console %q resets %d, want %q and 3", got, res.Resets, want)
	}
}

func TestManyBoardsAreIsolated(t *testing.T) {
	fw := testFirmware(t)
	clock := newClock(t)
	const n = 100
	var wg sync.WaitGroup
	outs := make([]syncBuffer, n)
	boards := make([]*Board, n)
	for i := range boards {
		b, err := New(Config{
			Name:    fmt.Sprintf("esp%d", i),
			Console: &outs[i],
			Files: map[string][]byte{"main.py": []byte(fmt.Sprintf(
				"import os, time\nopen('mine.txt', 'w').write('%d')\ntime.sleep(1)\nprint(sorted(os.listdir('/')), open('mine.txt').read())\n", i))},
		}, fw, clock)
		if err != nil {
			t.Fatal(err)
		}
		boards[i] = b
		t.Cleanup(func() { b.Close() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	errs := make([]error, n)
	for i, b := range boards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.Run(ctx)
		}()
	}
	wg.Wait()
	for i := range boards {
		if errs[i] != nil {
			t.Errorf("board %d: %v", i, errs[i])
		}
		want := fmt.Sprintf("['boot.py', 'main.py', 'mine.txt'] %d\n", i)
		if got := outs[i].String(); got != want {
			t.Errorf("board %d console %q, want %q", i, got, want)
		}
	}
}

func TestMACIsEspressif(t *testing.T) {
	m := DeriveMAC(1, "esp1")
	ok := false
	for _, o := range espressifOUIs {
		if m[0] == o[0] && m[1] == o[1] && m[2] == o[2] {
			ok = true
		}
	}
	if !ok || DeriveMAC(1, "esp1") != m || DeriveMAC(1, "esp2") == m {
		t.Errorf("DeriveMAC = %x", m)
	}
}

func TestGarbageCollectedInLoops(t *testing.T) {
	tests := []scriptCase{
		{"printing loop with big ints", "x = 0\nfor i in range(3000):\n    x += i * 1000000\n    if i % 100 == 0:\n        print(i, end=' ')\nprint(x)\n", "0 100 200 300 400 500 600 700 800 900 1000 1100 1200 1300 1400 1500 1600 1700 1800 1900 2000 2100 2200 2300 2400 2500 2600 2700 2800 2900 4498500000000\n"},
		{"pure loop with big ints", "x = 0\nfor i in range(20000):\n    x += i * 1000000\nprint(x)\n", "199990000000000\n"},
		{"pure loop building strings", "s = ''\nfor i in range(5000):\n    s = str(i) + '-' + s[:100]\nprint(s[:10])\n", "4999-4998-\n"},
		{"list from a generator without host calls", "def g(n):\n    for i in range(n):\n        yield str(i)\nfor k in range(20):\n    l = list(g(300))\nprint(len(l), l[-1])\n", "300 299\n"},
		{"ticks loop building strings", "import time\ns = ''\nfor i in range(2000):\n    s = str(i) + '-'\n    time.ticks_ms()\nprint(s)\n", "1999-\n"},
		{"list from a generator across host calls", "import time\ndef g(n):\n    for i in range(n):\n        time.sleep_ms(0)\n        yield str(i)\nfor k in range(20):\n    l = list(g(300))\n    time.sleep_ms(0)\nprint(len(l), l[-1], ''.join(l)[-6:])\n", "300 299 298299\n"},
	}
	runScripts(t, tests)
}

// TestGarbageCollectionKeepsLiveObjects churns garbage through the shapes
// where C code holds objects the collector cannot see, and checks results.
// It runs with native CPU on purpose: its sort key leads with ticks_ms()
// and expects the strings' order, which holds only while no time passes
// during the sort. Under the CPU model ticks_ms rises between key calls, so
// the list sorts by time and list.sort (which calls the key at every
// comparison, objlist.c) makes about twice the key tuples (819 for 40
// items); no collection may run inside the sort (sorted's list is held
// only by C code, gcsafety.go), and the heap runs out with MemoryError.
// The board would collect there: it scans its C stack.
func TestGarbageCollectionKeepsLiveObjects(t *testing.T) {
	src := `import time
class P:
    def __init__(self, n):
        self.n = n
        self.s = str(n) * 3
    def __str__(self):
        time.sleep_ms(0)
        return 'P%d' % self.n
def gen(n):
    for i in range(n):
        time.sleep_ms(0)
        yield 'x%d' % i
bad = 0
for k in range(60):
    a = sorted([str(i) * 2 for i in range(40)], key=lambda s: (time.ticks_ms(), len(s), s))
    b = ''.join(gen(30))
    c = dict((i, [i] * 3) for i in range(30))
    d = list(map(lambda i: P(i), range(20)))
    e = tuple(x for x in gen(25))
    f = [str(p) for p in d]
    try:
        raise ValueError('v%d' % k)
    except ValueError as ex:
        g = str(ex)
    if (a[0] != '00' or b[-6:] != 'x28x29' or c[29] != [29, 29, 29] or d[19].s != '191919'
            or e[24] != 'x24' or f[3] != 'P3' or g != 'v%d' % k):
        bad += 1
print('bad', bad)
`
	got, res := runScript(t, Config{Files: files(src), CPU: CPUNative}, nil)
	if got != "bad 0\n" || res.Outcome != Finished {
		t.Errorf("console %q outcome %v", got, res.Outcome)
	}
}
