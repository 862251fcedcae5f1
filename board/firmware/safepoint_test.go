package firmware

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
)

// countLoops counts the loop instructions in every function body.
func countLoops(t *testing.T, wasm []byte) (loops, checks int) {
	t.Helper()
	m, err := parseWasm(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, span := range m.bodies {
		var out bytes.Buffer
		nl, s, err := readULEB(wasm, span[0])
		if err != nil {
			t.Fatal(err)
		}
		for l := uint64(0); l < nl; l++ {
			_, s, _ = readULEB(wasm, s)
			s++
		}
		_, n, err := rewriteCode(&out, wasm, s, span[1], false, func(i uint64) uint64 { return i }, nil)
		if err != nil {
			t.Fatal(err)
		}
		loops += n
		checks += bytes.Count(wasm[s:span[1]], []byte{0x45, 0x04, 0x40, 0x10})
	}
	return loops, checks
}

func TestSafepointPatchCountsDownInEveryLoop(t *testing.T) {
	patched, err := PatchLoopSafepoints(Wasm)
	if err != nil {
		t.Fatal(err)
	}
	loops, _ := countLoops(t, Wasm)
	if loops < 100 {
		t.Fatalf("the firmware has %d loops; the decoder is not reading it", loops)
	}
	ploops, checks := countLoops(t, patched)
	if ploops != loops || checks < loops {
		t.Errorf("patched firmware: %d loops, %d countdowns; want %d of each", ploops, checks, loops)
	}
	// The patch is idempotent, and the result is a valid module whose
	// exports still name the same functions.
	again, err := PatchLoopSafepoints(patched)
	if err != nil || !bytes.Equal(again, patched) {
		t.Errorf("patching twice changed the module (err %v)", err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, patched)
	if err != nil {
		t.Fatalf("patched firmware does not compile: %v", err)
	}
	// Two imports are added: the countdown's and the traceback filter's
	// (tracehide.go).
	orig, _ := rt.CompileModule(ctx, Wasm)
	for name, def := range orig.ExportedFunctions() {
		got, ok := cm.ExportedFunctions()[name]
		if !ok || got.Index() != def.Index()+2 {
			t.Errorf("export %s: index %v, want %d", name, got, def.Index()+2)
		}
	}
	if n := len(cm.ImportedFunctions()); n != len(orig.ImportedFunctions())+2 {
		t.Errorf("%d imports after the patch, want two more than %d", n, len(orig.ImportedFunctions()))
	}
	var names []string
	for _, f := range cm.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod == "env" && (name == SafepointImport || name == TracebackHideImport) {
			names = append(names, name)
		}
	}
	if want := []string{SafepointImport, TracebackHideImport}; !slices.Equal(names, want) {
		t.Errorf("added imports %v, want %v", names, want)
	}
}

// A module without a global section gets one; the countdown reaches the
// host once per SafepointEvery iterations; the export still names the
// function it named before an import was added in front of it.
func TestSafepointPatchOnMinimalModule(t *testing.T) {
	sec := func(id byte, payload ...byte) []byte {
		return append(append([]byte{id}, uleb(uint64(len(payload)))...), payload...)
	}
	body := []byte{0x01, 0x01, 0x7f} // one i32 local
	body = append(body, 0x41)
	body = append(body, sleb(2*SafepointEvery+5)...)
	body = append(body, 0x21, 0x00, // local.set 0
		0x03, 0x40, // loop
		0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, // n -= 1; br_if n != 0
		0x0b, 0x0b)
	mod := []byte("\x00asm\x01\x00\x00\x00")
	mod = append(mod, sec(1, 0x01, 0x60, 0x00, 0x00)...)
	mod = append(mod, sec(2, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x00)...)
	mod = append(mod, sec(3, 0x01, 0x00)...)
	mod = append(mod, sec(7, 0x01, 0x03, 'r', 'u', 'n', 0x00, 0x01)...)
	mod = append(mod, sec(10, append(append([]byte{0x01}, uleb(uint64(len(body)))...), body...)...)...)

	patched, err := PatchLoopSafepoints(mod)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	var calls, fCalls int
	_, err = rt.NewHostModuleBuilder("env").
		NewFunctionBuilder().WithFunc(func() { fCalls++ }).Export("f").
		NewFunctionBuilder().WithFunc(func() uint32 { calls++; return SafepointEvery }).Export(SafepointImport).
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.Instantiate(ctx, patched)
	if err != nil {
		t.Fatalf("patched module: %v", err)
	}
	if _, err := m.ExportedFunction("run").Call(ctx); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || fCalls != 0 {
		t.Errorf("safe point reached %d times (f called %d times), want 2 and 0", calls, fCalls)
	}
}
