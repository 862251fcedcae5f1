package board

import (
	"context"
	"encoding/binary"

	"github.com/tetratelabs/wazero/api"
)

// Ctrl-C and the watchdog must reach a script that is busy inside the
// interpreter, from another goroutine. Calling into the module from there
// (mp_sched_keyboard_interrupt) would run a second call on a module instance
// that is not re-entrant, and can crash the process. On the real board the
// UART interrupt handler just stores the pending exception, which the VM
// polls at its jump instructions. We do the same: at boot, on the board's
// own goroutine, we call mp_sched_keyboard_interrupt once and note which
// words of the firmware's static memory it wrote (the pending exception and
// the scheduler state), then restore them. An interrupt stores those words.

// kbdWord is one aligned 32-bit word of static memory and the value the
// keyboard interrupt gives it.
type kbdWord struct{ addr, value uint32 }

// maxKbdWords bounds what a keyboard interrupt may write; more means the
// learning went wrong (it then falls back to no interrupt at all rather than
// to unsafe writes).
const maxKbdWords = 4

// learnInterrupt finds the words mp_sched_keyboard_interrupt writes. It runs
// on the board's goroutine during boot; the first boot of a firmware learns
// them and later ones reuse its answer.
func (b *Board) learnInterrupt(ctx context.Context, kbd, stackBase, stackEnd api.Function) []kbdWord {
	if kbd == nil || b.heapLow == 0 {
		return nil
	}
	fw := &b.fw.kbd
	fw.Lock()
	defer fw.Unlock()
	if fw.words != nil && fw.words[len(fw.words)-1].addr < b.heapLow {
		return fw.words
	}
	words := b.learnInterruptWords(ctx, kbd, stackBase, stackEnd)
	if words != nil {
		fw.words = words
	}
	return words
}

func (b *Board) learnInterruptWords(ctx context.Context, kbd, stackBase, stackEnd api.Function) []kbdWord {
	var stackLo, stackHi uint32
	if stackBase != nil && stackEnd != nil {
		if hi, err := stackBase.Call(ctx); err == nil {
			if lo, err := stackEnd.Call(ctx); err == nil {
				stackLo, stackHi = uint32(lo[0]), uint32(hi[0])
			}
		}
	}
	end := b.heapLow &^ 3
	view, ok := b.mem.Read(0, end)
	if !ok {
		return nil
	}
	before := append([]byte(nil), view...)
	if _, err := kbd.Call(ctx); err != nil {
		return nil
	}
	after, _ := b.mem.Read(0, end)
	var words []kbdWord
	for a := uint32(0); a < end; a += 4 {
		if a >= stackLo && a < stackHi {
			continue // the call's own stack frame
		}
		was := binary.LittleEndian.Uint32(before[a:])
		now := binary.LittleEndian.Uint32(after[a:])
		if was != now {
			words = append(words, kbdWord{addr: a, value: now})
			binary.LittleEndian.PutUint32(after[a:], was)
		}
	}
	if len(words) == 0 || len(words) > maxKbdWords {
		return nil
	}
	return words
}

// raiseKeyboardInterrupt stores the pending KeyboardInterrupt, as the
// board's interrupt handler does. Safe from any goroutine.
func (b *Board) raiseKeyboardInterrupt() {
	b.kbdMu.Lock()
	defer b.kbdMu.Unlock()
	if b.kbdMem == nil {
		return
	}
	for _, w := range b.kbdWords {
		b.kbdMem.WriteUint32Le(w.addr, w.value)
	}
}
