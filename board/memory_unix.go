//go:build linux || darwin || freebsd

package board

import (
	"context"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// Each board's linear memory (the firmware asks for about 16.5 MiB) is an
// anonymous mapping outside the Go heap: pages the interpreter never touches
// cost no RAM, so an idle board costs what it really uses. The board never
// grows its memory (emscripten_resize_heap is refused), so the mapping is
// sized once.
type mmapMemory struct{ buf []byte }

func (m *mmapMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil
	}
	return m.buf[:size]
}

func (m *mmapMemory) Free() {
	if m.buf != nil {
		_ = unix.Munmap(m.buf)
		m.buf = nil
	}
}

func allocateMemory(capacity, _ uint64) experimental.LinearMemory {
	const page = 65536
	size := (capacity + page - 1) / page * page
	if size == 0 {
		size = page
	}
	buf, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	return &mmapMemory{buf: buf}
}

func withBoardMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(allocateMemory))
}
