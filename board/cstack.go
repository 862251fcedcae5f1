package board

import (
	"errors"
	"fmt"
)

// A C recursion the firmware cannot measure traps instead of raising. The
// board's re module recurses in C (lib/re1.5/recursiveloop.c) and checks
// the C stack with mp_cstack_check (extmod/modre.c), which raises
// RuntimeError("maximum recursion depth exceeded") on the ESP8266. In the
// WebAssembly firmware those frames live on wazero's call stack, not on the
// shadow stack mp_cstack_check measures, so wazero stops the module with
// "stack overflow" first. The innermost invoke_ crossing (guestcall.go) sees
// that trap with the overflowed frames already gone; there we do what
// nlr_jump (py/nlrsetjmp.c) would have done with a RuntimeError: hand the
// exception to the innermost nlr buffer, restore the Python stack, pop the
// buffer and longjmp to it.

// How many bytes before mp_pending_exception these mp_state_thread_t
// (py/mpstate.h) fields lie, from mp_pending_exception, the word interrupt.go learns: with
// MICROPY_STACK_CHECK and MICROPY_ENABLE_PYSTACK the fields before it are
// stack_top, stack_limit, pystack_start, pystack_end, pystack_cur,
// gc_lock_depth, dict_locals, dict_globals, nlr_top, nlr_jump_callback_top.
const (
	offPystackStart = 32
	offPystackEnd   = 28
	offPystackCur   = 24
	offNlrTop       = 8
	offNlrCallbacks = 4
)

// nlr_buf_t (py/nlr.h): prev, ret_val, jmp_buf (156 bytes in Emscripten's
// musl: __jb[6], __fl, __ss[32]), pystack.
const (
	nlrRetVal  = 4
	nlrJmpBuf  = 8
	nlrPystack = nlrJmpBuf + 156
)

// mp_obj_exception_t (py/objexcept.h): base, traceback_alloc and
// traceback_len (half words), traceback_data, args.
const (
	excTracebackLen  = 4
	excTracebackData = 8
)

// overflowRaise is what raiseStackOverflow needs; zero when the layout
// could not be confirmed (the trap then ends the program as before).
type overflowRaise struct {
	pending uint32 // address of mp_pending_exception
	exc     uint32 // the RuntimeError instance the board raises
}

// isWasmStackOverflow reports whether err is wazero's call stack trap.
func isWasmStackOverflow(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "stack overflow" {
			return true
		}
	}
	return false
}

// setOverflowException records the RuntimeError a trap turns into, once
// the layout around mp_pending_exception checks out: the Python stack
// bounds are the size the board gave mp_js_init and the current pointer
// lies between them.
func (b *Board) setOverflowException(addr uint32) error {
	b.ovf = overflowRaise{}
	var pending uint32
	b.kbdMu.Lock()
	for _, w := range b.kbdWords {
		if w.value != 0 {
			pending = w.addr
			break
		}
	}
	b.kbdMu.Unlock()
	if pending < 64 || addr < b.heapLow {
		return nil
	}
	g := b.guest()
	start, end, cur := g.U32(pending-offPystackStart), g.U32(pending-offPystackEnd), g.U32(pending-offPystackCur)
	if end-start != pystackWords*4 || cur < start || cur > end {
		return fmt.Errorf("board %s: the firmware's thread state is not laid out as expected; a C stack overflow will stop the board", b.cfg.Name)
	}
	b.ovf = overflowRaise{pending: pending, exc: addr}
	return nil
}

// pystackWords is the Python stack the board gives mp_js_init.
const pystackWords = 2048

// raiseStackOverflow turns a stack overflow trap caught by an invoke_
// crossing into RuntimeError raised at the innermost live nlr buffer.
// sp is the shadow stack pointer at the crossing (frames below it are
// gone). It returns the jmp_buf to longjmp to, or 0 when that cannot be
// done safely.
func (b *Board) raiseStackOverflow(sp uint32) uint32 {
	o := b.ovf
	if o.exc == 0 {
		return 0
	}
	g := b.guest()
	top := g.U32(o.pending - offNlrTop)
	if top == 0 || top < sp {
		return 0 // no handler, or one in a frame the trap unwound
	}
	if cb := g.U32(o.pending - offNlrCallbacks); cb != 0 && cb < top {
		return 0 // nlr_jump would run callbacks we cannot run
	}
	start, end := g.U32(o.pending-offPystackStart), g.U32(o.pending-offPystackEnd)
	ps := g.U32(top + nlrPystack)
	if ps < start || ps > end {
		return 0
	}
	// A fresh traceback each time, as for the board's own raise.
	g.PutU32(o.exc+excTracebackLen, 0)
	g.PutU32(o.exc+excTracebackData, 0)
	g.PutU32(top+nlrRetVal, o.exc)
	g.PutU32(o.pending-offPystackCur, ps)
	g.PutU32(o.pending-offNlrTop, g.U32(top))
	return top + nlrJmpBuf
}
