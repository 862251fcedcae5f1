package board

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/esp8266sim/esp8266sim/board/firmware"
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/tetratelabs/wazero/api"
)

// setupState is what a set-up interpreter is made of: its whole linear
// memory, its globals and the host's per-instance state.
type setupState struct {
	mem                              []byte
	sp, count                        uint64
	refs, reserve, gcs, other, rands string
}

func captureSetup(b *Board) setupState {
	size := b.mem.Size()
	m, _ := b.mem.Read(0, size)
	st := setupState{mem: append([]byte(nil), m...)}
	if b.inv.sp != nil {
		st.sp = b.inv.sp.Get()
	}
	if g, ok := b.mod.ExportedGlobal(firmware.SafepointCountdownExport).(api.MutableGlobal); ok {
		st.count = g.Get()
	}
	var refs []string
	for i, o := range b.refs.objs {
		switch x := o.(type) {
		case hostFuncRef:
			refs = append(refs, fmt.Sprintf("%d fn %s.%s", i, x.module, x.name))
		default:
			refs = append(refs, fmt.Sprintf("%d %#v", i, o))
		}
	}
	st.refs = fmt.Sprintf("%v next=%d keys=%v pending=%v", refs, b.refs.next, b.refs.keyOf, b.refs.pendingFree)
	st.reserve = fmt.Sprint(b.reserve)
	st.gcs = fmt.Sprintf("%+v", b.gcs)
	st.other = fmt.Sprint(b.heapLow, b.gcRef, b.gcScratch, b.roots, b.ovf, b.kbdWords, b.intCharAddr, b.cooked, b.cwd, len(b.fds.files), bootHeapDigest(b.gcb.heap), b.cpu.fileKind, b.tracebackHide().hidden)
	st.rands = fmt.Sprint(b.rng.Uint64()) // the generator's position after setup
	return st
}

// privateFirmware is a firmware of this test's own, so its snapshots and
// hook are not shared with other tests.
func privateFirmware(t *testing.T) *Firmware {
	t.Helper()
	fw, err := CompileFirmware(firmware.Wasm, "test firmware")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fw.Close)
	return fw
}

// TestBootSnapshotMatchesSetup: a board whose setup came from a snapshot
// holds exactly what the full setup builds for it — every byte of linear
// memory (its own random seed included), the globals, the host's
// references, reserve, collector and safety tables — for boards that differ
// in name, seed and files from the board the snapshot was taken on.
func TestBootSnapshotMatchesSetup(t *testing.T) {
	slow, snap := privateFirmware(t), privateFirmware(t)
	slow.snaps.disabled = true
	clock := newClock(t)
	cases := []struct {
		name  string
		files map[string][]byte
		stdin string
		// env2 is the second board's world; fallback is set when it
		// answers the setup differently, so the second board must be set
		// up in full.
		env2     map[any]any
		fallback bool
		// files2, when set, are the second board's files.
		files2 map[string][]byte
	}{
		{"empty main", files(""), "", nil, false, nil},
		{"sockets", files("import network, socket, time\nprint('x')\n"), "", nil, false, nil},
		{"drivers", map[string][]byte{"main.py": []byte("import machine, neopixel, dht, onewire, asyncio, requests\n"), "data.txt": []byte("abc")}, "", nil, false, nil},
		{"interactive", files(""), "print(1)\r", nil, false, nil},
		{"other TLS flavour", files(""), "print(1)\r", map[any]any{boardnet.SocketEnvKey{}: boardnet.SocketEnv{TLS: "mbedtls"}}, true, nil},
		// The board's modules load with sys.path ['/.frozen'] only, so a
		// user's machine.py does not change the setup (it shadows the
		// board's later, TestUserModuleShadowsExtensible): restored, and
		// byte for byte what the full setup builds.
		{"user's machine.py", files(""), "", nil, false, map[string][]byte{"main.py": nil, "machine.py": []byte("X = 1\n")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[*Firmware]setupState{}
			restored := map[string]bool{}
			boot := func(fw *Firmware, name string, seed uint64) {
				fw.snaps.onSetup = func(b *Board, r bool) {
					got[fw] = captureSetup(b)
					restored[name] = r
				}
				defer func() { fw.snaps.onSetup = nil }()
				cfg := Config{Name: name, Seed: seed, Files: tc.files}
				if name == "second" {
					cfg.Env = tc.env2
					if tc.files2 != nil {
						cfg.Files = tc.files2
					}
				}
				if tc.stdin != "" {
					cfg.Stdin = strings.NewReader(tc.stdin)
				}
				bd, err := New(cfg, fw, clock)
				if err != nil {
					t.Fatal(err)
				}
				defer bd.Close()
				if _, err := bd.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			boot(snap, "first", 1) // takes the snapshot
			boot(snap, "second", 2)
			if tc.fallback {
				if restored["second"] {
					t.Fatalf("the second board, whose world answers the setup differently, was restored from the first board's snapshot")
				}
			} else if !restored["second"] {
				t.Fatalf("the second board ran the full setup: no snapshot was taken or used (a new host call in the setup must be added to pureSetupCalls or replaySetupCalls in bootsnap.go, if it is one)")
			}
			boot(slow, "second", 2)
			if restored["second"] {
				t.Fatalf("the snapshot-free firmware restored a snapshot")
			}
			a, b := got[snap], got[slow]
			if !bytes.Equal(a.mem, b.mem) {
				n, first := 0, -1
				for i := range a.mem {
					if a.mem[i] != b.mem[i] {
						if first < 0 {
							first = i
						}
						n++
					}
				}
				t.Errorf("linear memory differs in %d bytes, first at %#x", n, first)
			}
			for _, c := range [][3]any{{"sp", a.sp, b.sp}, {"countdown", a.count, b.count}, {"refs", a.refs, b.refs},
				{"reserve", a.reserve, b.reserve}, {"gc safety", a.gcs, b.gcs}, {"state", a.other, b.other}, {"random generator", a.rands, b.rands}} {
				if c[1] != c[2] {
					t.Errorf("%s: restored %v, set up %v", c[0], c[1], c[2])
				}
			}
		})
	}
}

// TestBootSnapshotRunsAsSetup: a board restored from a boot snapshot goes
// on exactly as the board that set up in full and took it: the same
// console, and the same linear memory, byte for byte, after every
// collection. The host's memos (which qstrs name the board's own files)
// are not in the snapshot, so the restored board asks the firmware what
// the set-up one remembers; the question must leave no trace in the C
// stack, whose dead bytes the collections inside a call copy as roots.
func TestBootSnapshotRunsAsSetup(t *testing.T) {
	cases := []struct{ name, main, stdin string }{
		{"figures", gcFigures, ""},
		{"interactive", "", "\x05" + gcTorture + "\x04"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fw := privateFirmware(t)
			clock := newClock(t)
			type run struct {
				restored bool
				out      string
				mem      []uint32
			}
			boot := func() run {
				var r run
				var mine atomic.Pointer[Board]
				fw.snaps.onSetup = func(b *Board, restored bool) { r.restored = restored }
				onCollected = func(b *Board) {
					if mine.Load() == b {
						m, _ := b.mem.Read(0, b.mem.Size())
						r.mem = append(r.mem, crc32.ChecksumIEEE(m))
					}
				}
				defer func() { fw.snaps.onSetup, onCollected = nil, nil }()
				var out syncBuffer
				cfg := Config{Name: "esp1", Seed: 3, Console: &out, Files: files(tc.main)}
				if tc.stdin != "" {
					cfg.Stdin = strings.NewReader(tc.stdin)
				}
				bd, err := New(cfg, fw, clock)
				if err != nil {
					t.Fatal(err)
				}
				defer bd.Close()
				mine.Store(bd)
				if _, err := bd.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				r.out = out.String()
				return r
			}
			set, rest := boot(), boot()
			if set.restored || !rest.restored {
				t.Fatalf("restored: first board %v, second %v; want false, true", set.restored, rest.restored)
			}
			if set.out != rest.out {
				t.Errorf("console of the board set up in full:\n%s\nrestored:\n%s", set.out, rest.out)
			}
			if len(set.mem) < 3 || len(set.mem) != len(rest.mem) {
				t.Fatalf("%d collections set up in full, %d restored; want the same, at least 3", len(set.mem), len(rest.mem))
			}
			for i := range set.mem {
				if set.mem[i] != rest.mem[i] {
					t.Fatalf("after collection %d of %d the restored board's memory differs from the set-up board's", i+1, len(set.mem))
				}
			}
		})
	}
}

// TestBootSnapshotKeepsBoardsApart: boards restored from one snapshot have
// their own name, MAC, random numbers and files, and what one board's
// script does to a module object (the board's own machine, a builtin
// module, sys) is not seen by the next.
func TestBootSnapshotKeepsBoardsApart(t *testing.T) {
	fw := privateFirmware(t)
	clock := newClock(t)
	restores := 0
	fw.snaps.onSetup = func(b *Board, r bool) {
		if r {
			restores++
		}
	}
	script := `import machine, os, sys, random, network
print('poisoned', hasattr(machine, 'poison'), hasattr(os, 'poison'), hasattr(sys, 'poison'))
machine.poison = 1
os.poison = 1
print('pin', machine.Pin is not None)
try:
    sys.poison = 1
except AttributeError:
    pass  # the firmware's sys is a built-in module: not writable
machine.Pin = None
print('id', machine.unique_id())
print('rand', random.getrandbits(30))
print('file', open('own.txt').read())
`
	outs := map[string]string{}
	for _, name := range []string{"alpha", "beta", "gamma"} {
		var out syncBuffer
		bd, err := New(Config{Name: name, Seed: 7, Console: &out, Files: map[string][]byte{"main.py": []byte(script), "own.txt": []byte("file of " + name)}}, fw, clock)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bd.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		bd.Close()
		outs[name] = out.String()
		if !strings.Contains(outs[name], "poisoned False False False") || !strings.Contains(outs[name], "pin True") || !strings.Contains(outs[name], "file of "+name) {
			t.Errorf("board %s:\n%s", name, outs[name])
		}
	}
	if restores != 2 {
		t.Fatalf("%d of the 3 boards were restored from a snapshot, want 2", restores)
	}
	// Each board's unique_id (its MAC) and random numbers are its own: the
	// two restored boards differ from each other and from the snapshot's.
	line := func(out, prefix string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("no %q line in:\n%s", prefix, out)
		return ""
	}
	for _, prefix := range []string{"id ", "rand "} {
		a, b, c := line(outs["alpha"], prefix), line(outs["beta"], prefix), line(outs["gamma"], prefix)
		if a == b || b == c || a == c {
			t.Errorf("boards restored from one snapshot printed the same %q:\n%s\n%s\n%s", prefix, a, b, c)
		}
	}
}
