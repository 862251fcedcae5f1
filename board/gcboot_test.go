package board

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

// gcTorture changes the board's own modules after boot in every way that
// moves a boot object away from what the setup left, then allocates until
// the heap has been collected many times, and checks every value.
const gcTorture = `import gc, machine, network, asyncio, socket
# A stand-in module's globals gain entries holding new objects: its dict
# changes (and its table is reallocated), the module object does not.
for i in range(40):
    setattr(socket, '_t%d' % i, [i, str(i) * 3, bytearray([i] * 5)])
# A module-level dict and list of the board's own grow: their blocks are
# reallocated, the old ones freed and reused.
for i in range(30):
    machine._handlers['x%d' % i] = (i, 'h%d' % i)
asyncio._rq.extend([('q', i) for i in range(20)])
# The network module's interface cache holds a new object only it reaches.
network._w['k'] = {'deep': [list(range(5)) for _ in range(3)]}
junk = None
for r in range(300):
    junk = [bytearray(64) for _ in range(20)]
    s = ''.join(str(k) for k in range(30))
    if r % 60 == 0:
        gc.collect()
print('globals', all(getattr(socket, '_t%d' % i) == [i, str(i) * 3, bytearray([i] * 5)] for i in range(40)))
print('dict', all(machine._handlers['x%d' % i] == (i, 'h%d' % i) for i in range(30)))
print('list', asyncio._rq[0] is None and asyncio._rq[1:] == [('q', i) for i in range(20)])
print('cached', network._w['k'] == {'deep': [list(range(5))] * 3})
# Drop what was added: the boot objects that now differ are collected as
# the firmware's collector would.
for i in range(40):
    delattr(socket, '_t%d' % i)
machine._handlers.clear()
del asyncio._rq[1:]
del network._w['k']
gc.collect()
print('heap', gc.mem_free(), gc.mem_alloc())
`

// gcFigures prints what a script sees of the heap as it allocates and
// frees: the figures must not depend on how the collector finds them.
const gcFigures = `import gc, time, json, socket
print(gc.mem_free(), gc.mem_alloc())
gc.collect()
print(gc.mem_free(), gc.mem_alloc())
keep = []
for i in range(60):
    keep.append(json.dumps({'i': i, 's': 'x' * (i % 7)}))
    if i % 20 == 0:
        time.sleep_ms(1)
        print(i, gc.mem_free(), gc.mem_alloc())
keep = None
gc.collect()
print(gc.mem_free(), gc.mem_alloc())
`

// gcHeapState is the GC heap after one collection: its alloc table and
// pool, byte for byte.
type gcHeapState struct{ atb, pool []byte }

// runGCBoot runs a board with the host's marking on or off and returns
// its console, the heap after each collection, and how many boot objects
// the host marked without reading them.
func runGCBoot(t *testing.T, fw *Firmware, main, stdin string, off bool) (string, []gcHeapState, uint64) {
	t.Helper()
	gcBootOff.Store(off)
	var heaps []gcHeapState
	var mine atomic.Pointer[Board]
	onCollected = func(b *Board) {
		if mine.Load() != b {
			return // another test's board
		}
		a := b.gcb.heap.area
		atb, _ := b.mem.Read(a.atb, a.atbLen)
		pool, _ := b.mem.Read(a.pool, a.poolEnd-a.pool)
		heaps = append(heaps, gcHeapState{bytes.Clone(atb), bytes.Clone(pool)})
	}
	defer func() {
		gcBootOff.Store(false)
		onCollected = nil
	}()
	var out syncBuffer
	cfg := Config{Name: "esp1", Console: &out, Files: files(main)}
	if stdin != "" {
		cfg.Stdin = strings.NewReader(stdin)
	}
	b, err := New(cfg, fw, newClock(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mine.Store(b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := b.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	_, _, skipped, _ := b.GCStats()
	return out.String(), heaps, skipped
}

// TestGCMarkMatchesFirmware: with the board's own modules changed after
// boot (module dicts grown, module-level lists and dicts reallocated and
// emptied, new objects hung on them) and many collections, every value
// survives, and after every collection the heap — alloc table and pool,
// byte for byte — is the one the firmware's collector leaves alone (the
// run with the host's marking off): the same blocks freed, the same
// figures. A marker that misses a root frees live objects (the values
// break); one that marks too much keeps garbage (the tables differ).
func TestGCMarkMatchesFirmware(t *testing.T) {
	fw := testFirmware(t)
	cases := []struct {
		name, main, stdin string
		want              []string
	}{
		{"torture", gcTorture, "", []string{"globals True", "dict True", "list True", "cached True", "heap "}},
		{"figures", gcFigures, "", []string{"0 ", "20 ", "40 "}},
		// An interactive board preloads every module: a larger boot heap.
		{"interactive", "", "\x05" + gcTorture + "\x04", []string{"globals True", "dict True", "list True", "cached True", "heap "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			on, onHeaps, skipped := runGCBoot(t, fw, tc.main, tc.stdin, false)
			wantInOrder(t, on, tc.want)
			if skipped == 0 {
				t.Errorf("the host marked no boot object without reading it")
			}
			off, offHeaps, _ := runGCBoot(t, fw, tc.main, tc.stdin, true)
			if on != off {
				t.Errorf("console with the host's marking:\n%s\nwithout:\n%s", on, off)
			}
			if len(onHeaps) != len(offHeaps) || len(onHeaps) < 3 {
				t.Fatalf("%d collections with the host's marking, %d without; want the same, at least 3", len(onHeaps), len(offHeaps))
			}
			for i := range onHeaps {
				if !bytes.Equal(onHeaps[i].atb, offHeaps[i].atb) || !bytes.Equal(onHeaps[i].pool, offHeaps[i].pool) {
					t.Fatalf("after collection %d of %d the heap differs from the firmware collector's", i+1, len(onHeaps))
				}
			}
		})
	}
}

// TestGCMarkSkipsTheBootHeap: each collection marks nearly all of the
// boot heap without reading it (the script changed little of it); off,
// the host marks nothing.
func TestGCMarkSkipsTheBootHeap(t *testing.T) {
	fw := testFirmware(t)
	src := "import gc, socket\nfor i in range(10):\n    gc.collect()\nprint('done')\n"
	for _, off := range []bool{false, true} {
		gcBootOff.Store(off)
		var out syncBuffer
		b, err := New(Config{Name: "esp1", Console: &out, Files: files(src)}, fw, newClock(t))
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Run(context.Background())
		b.Close()
		gcBootOff.Store(false)
		if err != nil || !strings.Contains(out.String(), "done") {
			t.Fatalf("Run: %v, console %q", err, out.String())
		}
		h := b.gcb.heap
		if h == nil {
			t.Fatal("no boot heap was recorded")
		}
		n, marked, skipped, size := b.GCStats()
		if off {
			if n != 0 || marked != 0 {
				t.Errorf("off: the host marked %d blocks in %d collections", marked, n)
			}
			continue
		}
		// Ten collections in the script and the one at its end.
		if n != 11 || skipped < n*uint64(len(h.objs))*8/10 || size/n < libHeapAllowance/2 {
			t.Errorf("%d collections marked %d blocks, %d boot objects (%d bytes) unread, of %d boot objects; want 11, each leaving most of the %d boot objects and at least %d bytes unread",
				n, marked, skipped, size, len(h.objs), len(h.objs), libHeapAllowance/2)
		}
	}
}

// bootHeapDigest describes a boot heap for TestBootSnapshotMatchesSetup.
func bootHeapDigest(h *bootHeap) string {
	if h == nil {
		return "no boot heap"
	}
	return fmt.Sprintf("area %#x %+v, %d objects %x, targets %x, content %x", h.addr, h.area, len(h.objs),
		crc32.ChecksumIEEE(fmt.Append(nil, h.objs)), crc32.ChecksumIEEE(fmt.Append(nil, h.targets)), crc32.ChecksumIEEE(h.content))
}

// BenchmarkCollect measures the host's wall time of one garbage
// collection with pre-marking on and off: a script collecting 301 times
// minus one collecting once, per collection.
func BenchmarkCollect(b *testing.B) {
	fw := testFirmware(b)
	clock := newClock(b)
	run := func(n int) time.Duration {
		src := fmt.Sprintf("import gc, socket, network\nfor i in range(%d):\n    gc.collect()\n", n)
		bd, err := New(Config{Name: "esp1", Files: files(src)}, fw, clock)
		if err != nil {
			b.Fatal(err)
		}
		defer bd.Close()
		start := time.Now()
		if _, err := bd.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for _, off := range []bool{false, true} {
		b.Run(fmt.Sprintf("hostmark=%v", !off), func(b *testing.B) {
			gcBootOff.Store(off)
			defer gcBootOff.Store(false)
			run(1)
			var d time.Duration
			for b.Loop() {
				d += run(301) - run(1)
			}
			b.ReportMetric(float64(d.Microseconds())/float64(b.N)/300, "µs/collection")
		})
	}
}

// TestGCMarkNeedsTheFirmwaresRoots: a firmware whose root section the
// host cannot find (or finds elsewhere than the thread state says)
// collects with its own marker alone, and the script still runs.
func TestGCMarkNeedsTheFirmwaresRoots(t *testing.T) {
	cases := []struct {
		name  string
		patch func(l *firmware.Layout)
	}{
		{"no root section", func(l *firmware.Layout) { l.GCRootWords = 0 }},
		{"root section elsewhere", func(l *firmware.Layout) { l.GCRootStart += 4 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fw := privateFirmware(t)
			tc.patch(&fw.img.Layout)
			var out syncBuffer
			b, err := New(Config{Name: "esp1", Console: &out, Files: files(gcTorture)}, fw, newClock(t))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if _, err := b.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			wantInOrder(t, out.String(), []string{"globals True", "dict True", "list True", "cached True", "heap "})
			if n, marked, _, _ := b.GCStats(); n != 0 || marked != 0 || b.gcb.heap != nil {
				t.Errorf("the host marked %d blocks in %d collections without the firmware's root section", marked, n)
			}
		})
	}
}
