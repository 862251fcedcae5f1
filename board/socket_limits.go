package board

import "fmt"

// Sizes a script passes to the _sock host module are capped at what the
// board itself could hold. On the ESP8266, recv(n), read(n) and readline()
// allocate their result on the MicroPython heap first (vstr_init_len in
// modlwip.c and py/stream.c), so a size beyond the heap raises MemoryError
// before any byte moves. The host stages at most that many bytes too, so no
// script can make the host allocate more for a board than the board has.

// hostReadLimit is the most bytes one read may stage on the host for the
// board: its whole GC heap (a larger result could never be allocated).
func (b *Board) hostReadLimit() int { return b.cfg.HeapBytes }

// allocError is the MemoryError MicroPython's m_malloc_fail raises.
func allocError(n int) error {
	return &PyError{Type: "MemoryError", Arg: fmt.Sprintf("memory allocation failed, allocating %d bytes", n)}
}

// checkReadSize reports the MemoryError a real board raises for a read of
// n bytes, which allocates n+1 (vstr_init_len).
func (b *Board) checkReadSize(n int) error {
	if n >= b.hostReadLimit() {
		return allocError(n + 1)
	}
	return nil
}
