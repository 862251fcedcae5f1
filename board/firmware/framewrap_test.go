package firmware

import (
	"bytes"
	"testing"
)

// The frame hooks wrap exactly the VM: after the patch the dispatch
// br_table is in the appended function, and the VM's old index holds the
// wrapper, which calls the two hooks around it.
func TestFrameHooksWrapTheVM(t *testing.T) {
	info := func(wasm []byte) (vm int, funcImports uint32, bodies [][2]int) {
		t.Helper()
		secs, err := splitSections(wasm)
		if err != nil {
			t.Fatal(err)
		}
		types, _ := readTypes(wasm, secs.find(1))
		funcImports, _ = countFuncImports(wasm, secs.find(2))
		ft, _ := readFuncTypes(wasm, secs.find(3), len(types))
		bodies, _ = readBodies(wasm, secs.find(10))
		vm, err = findExecuteBytecode(wasm, types, ft, bodies)
		if err != nil {
			t.Fatal(err)
		}
		return vm, funcImports, bodies
	}
	vm, imports, bodies := info(Wasm)
	if vm < 0 {
		t.Fatal("mp_execute_bytecode not found in the firmware")
	}
	patched, ok, err := patchFrameHooks(Wasm)
	if err != nil || !ok {
		t.Fatalf("patch: ok %v, err %v", ok, err)
	}
	pvm, pimports, pbodies := info(patched)
	if pimports != imports+2 || len(pbodies) != len(bodies)+2 || pvm != len(bodies) {
		t.Fatalf("patched: %d imports, %d bodies, VM at %d; want %d, %d, %d", pimports, len(pbodies), pvm, imports+2, len(bodies)+2, len(bodies))
	}
	want := frameWrapperBody(vmType, uint64(imports), uint64(imports)+1, uint64(pimports)+uint64(len(bodies)), false)
	if got := patched[pbodies[vm][0]:pbodies[vm][1]]; !bytes.Equal(got, want) {
		t.Errorf("the VM's old index holds % x, want the wrapper % x", got, want)
	}
	// mp_setup_code_state is found and wrapped too.
	secs, _ := splitSections(Wasm)
	types, _ := readTypes(Wasm, secs.find(1))
	ft, _ := readFuncTypes(Wasm, secs.find(3), len(types))
	setup := findSetupCodeState(Wasm, secs, types, ft, bodies)
	if setup < 0 {
		t.Fatal("mp_setup_code_state not found")
	}
	want = frameWrapperBody(setupType, uint64(imports), uint64(imports)+1, uint64(pimports)+uint64(len(bodies))+1, true)
	if got := patched[pbodies[setup][0]:pbodies[setup][1]]; !bytes.Equal(got, want) {
		t.Errorf("mp_setup_code_state's old index holds % x, want the wrapper % x", got, want)
	}
	// The compiled image uses it.
	img, err := Compile(Wasm, "test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Runtime.Close(t.Context())
	if !img.FrameHooks {
		t.Error("Compile left the frame hooks out")
	}
}
