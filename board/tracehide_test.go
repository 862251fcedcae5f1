package board

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestQstrTextLeavesNoTrace: the host's question for a qstr's text (asked
// by the frame hooks and the traceback filter when their memos miss) gives
// the text and leaves every byte of guest memory, the dead C stack
// included, as it was: whether it is asked depends on host memos, and
// its residue would otherwise reach the roots a collection inside a call
// copies from the C stack (copyStackRoots).
func TestQstrTextLeavesNoTrace(t *testing.T) {
	fw := testFirmware(t)
	asked := false
	// At the end of the setup: the board's modules ran, so the frame
	// hooks' memo holds their files' qstrs.
	fw.snaps.onSetup = func(b *Board, restored bool) {
		asked = true
		ctx := context.Background()
		if b.inv.sp == nil || len(b.cpu.fileKind) == 0 {
			t.Fatalf("no exported stack pointer (%v) or no file qstr asked (%d)", b.inv.sp != nil, len(b.cpu.fileKind))
		}
		dead := b.deadStack(ctx, uint32(b.inv.sp.Get()))
		if len(dead) < 1024 {
			t.Fatalf("the dead C stack is %d bytes", len(dead))
		}
		// Dead bytes the question would overwrite, if it left them so.
		for i := range dead {
			dead[i] = byte(i*7 + 1)
		}
		before, _ := b.mem.Read(0, b.mem.Size())
		before = bytes.Clone(before)
		names := 0
		for q := range b.cpu.fileKind {
			name, ok := b.qstrText(ctx, q)
			if !ok || name == "" {
				t.Errorf("qstr %d: text %q, %v", q, name, ok)
			}
			if strings.HasSuffix(name, ".py") {
				names++
			}
			after, _ := b.mem.Read(0, b.mem.Size())
			if !bytes.Equal(before, after) {
				for i := range before {
					if before[i] != after[i] {
						t.Fatalf("asking for qstr %d (%q) changed guest memory, first at %#x", q, name, i)
					}
				}
			}
		}
		if names == 0 {
			t.Errorf("no file name among the %d memoised qstrs", len(b.cpu.fileKind))
		}
	}
	defer func() { fw.snaps.onSetup = nil }()
	var out syncBuffer
	b, err := New(Config{Name: "esp1", Console: &out, Files: files("print('ok')\n")}, fw, newClock(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !asked || !strings.Contains(out.String(), "ok") {
		t.Fatalf("setup seen %v, console %q", asked, out.String())
	}
}
