package net

import (
	"fmt"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
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
func hostReadLimit(b hostabi.Host) int { return b.HeapBytes() }

// allocError is the MemoryError MicroPython's m_malloc_fail raises.
func allocError(n int) error {
	return &hostabi.PyError{Type: "MemoryError", Arg: fmt.Sprintf("memory allocation failed, allocating %d bytes", n)}
}

// checkReadSize reports the MemoryError a real board raises for a read of
// n bytes, which allocates n+1 (vstr_init_len).
func checkReadSize(b hostabi.Host, n int) error {
	if n >= hostReadLimit(b) {
		return allocError(n + 1)
	}
	return nil
}

// txFull charges simulated time to a script spinning on sends the radio
// queue refuses (OSError(ENOMEM), sockets.TxQueueFrames): like a busy-loop
// poll the first few are free, then the board waits until a datagram has
// left, so the queue drains as it does on the chip while it computes.
func (st *socketState) txFull(b hostabi.Host, err error) error {
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

// StagedBytes is the capacity of the host-side buffer socket reads are
// staged in, which checkReadSize keeps within the board's heap (the
// board's socket fuzz test checks that bound).
func StagedBytes(b hostabi.Host) int {
	st, _ := b.Value(socketKey{}).(*socketState)
	if st == nil {
		return 0
	}
	return cap(st.stage)
}
