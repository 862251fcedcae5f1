package firmware

// findGCRoots reads, from gc_collect_start (fn), the root pointer section
// the collector scans: gc.c passes gc_collect_root the address of
// mp_state_ctx.thread.dict_locals and the number of words up to
// vm.qstr_last_chunk. In the pyscript build the call is inlined into a loop
//
//	i32.const CTX; local.get i; i32.const 2; i32.shl; i32.add; i32.load off=OFF
//	...; i32.const 1; i32.add; [local.tee]; i32.const WORDS; i32.ne; br_if
//
// so the section is [CTX+OFF, CTX+OFF+4*WORDS). Zero when the code does not
// match: the board then collects without its help (board/gcboot.go).
func (m *wasmModule) findGCRoots(fn uint32) (start, words uint32) {
	ins := m.disassemble(fn)
	at := -1
	for i := 0; i+5 < len(ins); i++ {
		if ins[i].op == 0x41 && ins[i+1].op == 0x20 && ins[i+2].op == 0x41 && ins[i+2].imm == 2 &&
			ins[i+3].op == 0x74 && ins[i+4].op == 0x6a && ins[i+5].op == 0x28 {
			start, at = uint32(ins[i].imm+ins[i+5].imm), i+6
			break
		}
	}
	if at < 0 {
		return 0, 0
	}
	for i := at; i+4 < len(ins); i++ {
		if ins[i].op != 0x41 || ins[i].imm != 1 || ins[i+1].op != 0x6a {
			continue
		}
		j := i + 2
		if ins[j].op == 0x22 { // local.tee
			j++
		}
		if ins[j].op == 0x41 && ins[j].imm > 0 && ins[j].imm < 4096 && ins[j+1].op == 0x47 {
			return start, uint32(ins[j].imm)
		}
	}
	return 0, 0
}
