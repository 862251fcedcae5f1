package board

import (
	"fmt"

	"github.com/esp8266sim/esp8266sim/board/sockets"
)

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

// txFull charges simulated time to a script spinning on sends the radio
// queue refuses (OSError(ENOMEM), sockets.TxQueueFrames): like a busy-loop
// poll the first few are free, then the board waits until a datagram has
// left, so the queue drains as it does on the chip while it computes.
func (st *socketState) txFull(b *Board, err error) error {
	if sockets.Errno(err) != sockets.ENOMEM {
		return nil
	}
	wait := st.table.TxWait()
	if wait == 0 {
		return nil
	}
	if st.txFails++; st.txFails <= 32 {
		return nil
	}
	st.txFails = 0
	return st.table.Pause(b.Context(), wait)
}
