package firmware

import (
	"testing"
)

// FuzzFirmwareImage feeds arbitrary bytes (a --firmware file) to the loader's
// wasm readers: they must return an error or a result, never panic.
func FuzzFirmwareImage(f *testing.F) {
	f.Add(Wasm[:4096])
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01\x05\x01\x60\x01\x7f\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = PatchDyncalls(data)
		_, _ = PatchLoopSafepoints(data)
		_, _, _, _ = patchFloats(data)
		_, _, _ = patchFrameHooks(data)
		_ = findLayout(data)
		if m, err := parseWasm(data); err == nil {
			for _, fi := range m.exports {
				_ = m.disassemble(fi)
			}
		}
	})
}

func TestPatchedFirmwareKeepsLayout(t *testing.T) {
	patched, sigs, err := PatchDyncalls(Wasm)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) < 10 {
		t.Errorf("found %d invoke signatures, want the firmware's 11", len(sigs))
	}
	m, err := parseWasm(patched)
	if err != nil {
		t.Fatal(err)
	}
	for name := range sigs {
		if _, ok := m.exports[DyncallPrefix+name[len("invoke_"):]]; !ok {
			t.Errorf("patched firmware lacks the export for %s", name)
		}
	}
	if l := findLayout(Wasm); !l.OK || l.GCRootWords == 0 {
		t.Errorf("findLayout did not find the collector's addresses: %+v", l)
	}
	if _, err := Compile([]byte("\x00asm\x01\x00\x00\x00"), "empty", Options{}); err == nil {
		t.Error("an empty module was accepted as firmware")
	}
}
