package hostabi

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

// newTestGuest is one page (64 KiB) of wasm memory: a module that only
// exports its memory.
func newTestGuest(t *testing.T) Guest {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	wasm := []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
		0x05, 0x03, 0x01, 0x00, 0x01, // memory section: one memory, min 1 page
		0x07, 0x05, 0x01, 0x01, 'm', 0x02, 0x00, // export "m": memory 0
	}
	mod, err := r.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	return NewGuest(mod.Memory())
}

func TestGuestWordsAndStrings(t *testing.T) {
	g := newTestGuest(t)
	g.PutU32(8, 0xdeadbeef)
	if got := g.U32(8); got != 0xdeadbeef {
		t.Errorf("U32 = %#x after PutU32 0xdeadbeef", got)
	}
	if b, _ := g.Read(8, 4); b[0] != 0xef {
		t.Errorf("word stored as % x, want little-endian", b)
	}
	g.PutCString(100, "hello")
	g.WriteByte(106, 'x') // past the NUL
	if got := g.CString(100); got != "hello" {
		t.Errorf("CString = %q, want hello", got)
	}
	g.Write(1000, []byte(strings.Repeat("a", 5000)))
	if got := g.CString(1000); len(got) != 4096 {
		t.Errorf("CString without a NUL read %d bytes, want the 4096 bound", len(got))
	}
	g.Write(65536-3, []byte("abc"))
	if got := g.CString(65536 - 3); got != "abc" {
		t.Errorf("CString at the end of memory = %q, want abc", got)
	}
	// An iovec array: two (address, length) pairs.
	g.PutU32(200, 100)
	g.PutU32(204, 5)
	g.PutU32(208, 65530)
	g.PutU32(212, 100)
	if b, ok := g.IOVec(200, 0); !ok || string(b) != "hello" {
		t.Errorf("IOVec 0 = %q %v, want hello", b, ok)
	}
	if _, ok := g.IOVec(200, 1); ok {
		t.Error("IOVec past the end of memory was accepted")
	}
}

func TestGuestPanicsOutsideMemory(t *testing.T) {
	g := newTestGuest(t)
	for name, f := range map[string]func(){
		"U32":    func() { g.U32(65534) },
		"PutU32": func() { g.PutU32(1<<20, 1) },
	} {
		func() {
			defer func() {
				r := recover()
				if err, ok := r.(error); !ok || !strings.Contains(err.Error(), "outside memory") {
					t.Errorf("%s outside memory: recovered %v, want the firmware's bad address", name, r)
				}
			}()
			f()
		}()
	}
}

func TestGuestPutStat(t *testing.T) {
	g := newTestGuest(t)
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		isDir        bool
		size         int
		mode, blocks uint32
	}{{false, 1000, 0x8000, 2}, {true, 0, 0x4000, 0}} {
		g.PutStat(0, tt.isDir, tt.size, mtime)
		st, _ := g.Read(0, StatSize)
		if m := binary.LittleEndian.Uint32(st[4:]); m != tt.mode {
			t.Errorf("dir=%v: mode %#o, want %#o", tt.isDir, m, tt.mode)
		}
		if s := binary.LittleEndian.Uint64(st[24:]); s != uint64(tt.size) {
			t.Errorf("dir=%v: size %d, want %d", tt.isDir, s, tt.size)
		}
		if b := binary.LittleEndian.Uint32(st[36:]); b != tt.blocks {
			t.Errorf("dir=%v: %d blocks, want %d", tt.isDir, b, tt.blocks)
		}
		for _, off := range []int{40, 56, 72} {
			if s := binary.LittleEndian.Uint64(st[off:]); s != uint64(mtime.Unix()) {
				t.Errorf("dir=%v: time at %d is %d, want %d", tt.isDir, off, s, mtime.Unix())
			}
		}
	}
}
